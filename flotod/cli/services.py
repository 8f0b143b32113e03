"""Console entry points of the three services: flags, config, daemonizing, then the loop.

Order matters: the config is loaded (a bad one exits 78 before anything touches SWF), then
the process detaches if asked, and only then are logging, signals and systemd notification set
up, since a fork would lose them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import structlog

from flotod import __version__
from flotod.config import ServiceConfig, add_config_arguments, resolve_config
from flotod.errors import EX_SOFTWARE, FlotodError
from flotod.payloads.configured import payloads_from_config
from flotod.runtime import add_daemon_arguments, configure_logging, daemonize
from flotod.services.daemon import run_daemon
from flotod.services.decider import check_open_runs, run_decider
from flotod.services.process import ServiceProcess, make_client, pool_size
from flotod.services.worker import run_worker

Loop = Callable[[ServiceProcess], int]

DESCRIPTIONS = {
    "decider": "Poll a decision task list and decide with a DeciderSpec (or dynamically).",
    "worker": "Poll an activity task list and run the configured modules' activities.",
    "daemon": "Run the daemon workflow: start child workflows on signals and decide for them.",
}


def build_parser(kind: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"flotod-{kind}", description=DESCRIPTIONS[kind])
    parser.add_argument("--version", action="version", version=f"flotod {__version__}")
    add_config_arguments(parser)
    add_daemon_arguments(parser)
    return parser


def _configure_logs(config: ServiceConfig) -> None:
    configure_logging(
        config.logging.level, config.logging.format, identifier=f"flotod-{config.kind}"
    )


def run_service(kind: str, loop: Loop, argv: Sequence[str] | None = None) -> int:
    args = build_parser(kind).parse_args(argv)
    if args.pidfile and not args.daemonize:
        print(f"flotod-{kind}: --pidfile needs --daemonize", file=sys.stderr)
        return 64
    config = resolve_config(args, kind, vet=check_open_runs if kind == "decider" else None)
    if isinstance(config, int):
        return config
    try:
        detached = daemonize(args.pidfile, args.log_file) if args.daemonize else None
    except FlotodError as exc:
        print(f"flotod-{kind}: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        swf = make_client(config)
        payloads = payloads_from_config(config, pool_size(config))
    except FlotodError as exc:
        print(f"flotod-{kind}: {exc}", file=sys.stderr)
        return exc.exit_code
    proc = ServiceProcess(config, swf, _configure_logs, payloads=payloads)
    proc.start()
    try:
        return loop(proc)
    except Exception:
        structlog.get_logger("flotod.services").exception("service.crashed")
        return EX_SOFTWARE
    finally:
        proc.close()
        if detached is not None:
            detached.close()


def decider_main(argv: Sequence[str] | None = None) -> int:
    return run_service("decider", run_decider, argv)


def worker_main(argv: Sequence[str] | None = None) -> int:
    return run_service("worker", run_worker, argv)


def daemon_main(argv: Sequence[str] | None = None) -> int:
    return run_service("daemon", run_daemon, argv)


if __name__ == "__main__":
    names = {"decider": decider_main, "worker": worker_main, "daemon": daemon_main}
    sys.exit(names[sys.argv.pop(1)]())
