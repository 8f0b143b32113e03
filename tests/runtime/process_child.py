"""A minimal service main on start_process/apply_reload, run as a real process by the tests."""

from __future__ import annotations

import argparse
import sys

from flotod.config import add_config_arguments, resolve_config
from flotod.errors import ConfigError
from flotod.runtime import add_daemon_arguments, drain
from flotod.runtime.process import apply_reload, start_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flotod-toy")
    add_config_arguments(parser)
    add_daemon_arguments(parser)
    args = parser.parse_args(argv)
    config = resolve_config(args, "daemon")
    if isinstance(config, int):
        return config
    try:
        proc = start_process(config, daemon=args.daemonize, pidfile=args.pidfile, identifier="toy")
    except ConfigError as exc:  # e.g. --daemonize under systemd
        print(exc, file=sys.stderr)
        return exc.exit_code
    try:
        proc.notifier.ready(status="waiting")
        print("ready", flush=True)
        while not proc.lifecycle.stop_requested:
            if proc.lifecycle.take_reload_request():
                taken = apply_reload(proc)
                daemon = proc.config.daemon
                proc.log.debug("after.reload")
                print("reload", taken, proc.config.logging.level, daemon.max_children,
                      daemon.workflow_id, flush=True)  # fmt: skip
            proc.lifecycle.wait(5)
            proc.progress.beat()
        outcome = drain(lambda: True, timeout=proc.config.drain_timeout_seconds,
                        lifecycle=proc.lifecycle, notifier=proc.notifier)  # fmt: skip
        print("outcome", outcome.value, flush=True)
    finally:
        proc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
