"""Run by the daemonize test: detach, then behave like a service until SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import structlog

from flotod.errors import FlotodError
from flotod.runtime import Lifecycle, add_daemon_arguments, configure_logging, daemonize


def main() -> int:
    parser = argparse.ArgumentParser()
    add_daemon_arguments(parser)
    parser.add_argument("--marker", required=True)
    args = parser.parse_args()
    marker = Path(args.marker).absolute()
    try:
        handle = daemonize(args.pidfile, args.log_file)
    except FlotodError as exc:  # as the services' entry point does
        print(f"daemon_child: {exc}", file=sys.stderr)
        return exc.exit_code
    configure_logging("info", "json", sys.stderr)
    lifecycle = Lifecycle()
    lifecycle.install()
    structlog.get_logger().info("daemon.started")
    while not lifecycle.stop_requested:
        lifecycle.wait(5)
    structlog.get_logger().info("daemon.stopping", signals=lifecycle.take_signals())
    marker.write_text("stopped")
    handle.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
