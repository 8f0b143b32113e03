"""A toy service loop built only from flotod.runtime, run as a real process by the tests.

Its "poll" is a one-second wait; on stop it drains simulated in-flight work that takes
``--work`` seconds (beating progress unless ``--stall``), and prints each step on stdout.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import structlog

from flotod.runtime import Lifecycle, Notifier, Progress, configure_logging, drain


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=float, default=0.0)
    parser.add_argument("--stall", action="store_true")
    parser.add_argument("--drain-timeout", type=float, default=5.0)
    args = parser.parse_args()
    configure_logging("info", "json", sys.stderr)
    log = structlog.get_logger()
    lifecycle = Lifecycle()
    lifecycle.install()
    notifier = Notifier()
    progress = Progress()
    notifier.ready()
    print("ready", flush=True)
    while not lifecycle.stop_requested:
        for name in lifecycle.take_signals():
            log.info("signal.received", signal=name)
        if lifecycle.take_reload_request():
            notifier.reloading()
            print("reloaded", flush=True)
            notifier.ready()
        lifecycle.wait(1.0)
        progress.beat()
    print("stopping", "quick" if lifecycle.quick_stop_requested else "warm", flush=True)

    def work() -> None:
        end = time.monotonic() + args.work
        while time.monotonic() < end:
            if not args.stall:
                progress.beat()
            time.sleep(0.02)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    outcome = drain(
        lambda: not worker.is_alive(),
        timeout=args.drain_timeout,
        lifecycle=lifecycle,
        notifier=notifier,
        progress=progress,
        extend_every=0.2,
        check_every=0.02,
        grace=1.0,
    )
    print("outcome", outcome.value, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
