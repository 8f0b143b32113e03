"""The ``flotod`` command: one argparse subcommand per tool.

Each subcommand is a ``(name, add_arguments, run)`` entry in :data:`COMMANDS`; a new tool adds
its entry there and nothing else changes. ``run`` returns the process exit code.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from flotod import __version__
from flotod.cli import completion, configcheck, register, replay, workflow
from flotod.cli.output import printable
from flotod.config.settings import Invalid, settings_of
from flotod.errors import EX_OK, EX_UNAVAILABLE, EX_USAGE, FlotodError

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]

LOCAL_SWF_HELP = (
    "Run the embedded SWF endpoint (moto, extended) in the foreground: a development and test "
    "tool. State lives in memory only and is gone when it stops. Point boto3 or any flotod "
    "service at the printed URL with endpoint_url. The same port serves S3 (path-style) for "
    "large payloads."
)


def _local_swf_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    parser.add_argument("--port", type=int, default=4566, help="TCP port (0 picks a free one)")
    parser.add_argument(
        "--poll-timeout",
        type=float,
        default=60.0,
        help="seconds a poll waits for a task before returning empty (SWF: 60)",
    )
    parser.add_argument(
        "--inject-throttling",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="fault injection for tests: answer this share of calls (0 to 1, a seeded random "
        "draw) with SWF's ThrottlingException; default 0, off",
    )
    parser.add_argument(
        "--throttling-seed", type=int, default=0, help="seed of the --inject-throttling draw"
    )
    parser.add_argument(
        "--inject-decision-failures",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="fault injection for tests: refuse this share of ScheduleActivityTask, StartTimer "
        "and StartChildWorkflowExecution decisions (0 to 1, a seeded random draw) with a rate "
        "or open-limit cause, as SWF reports it; default 0, off",
    )
    parser.add_argument(
        "--decision-failures-seed",
        type=int,
        default=0,
        help="seed of the --inject-decision-failures draw",
    )
    parser.add_argument(
        "--s3-bucket",
        action="append",
        default=[],
        metavar="NAME",
        help="create this S3 bucket at start (repeatable), e.g. the [payloads] s3_bucket; "
        "CreateBucket works too",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="debug logs every call",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _missing_local_extra() -> str | None:
    """Why the embedded SWF cannot load, as one line, or None when it can.

    moto is an optional dependency (the ``[local]`` extra), absent from a server install; a
    missing module is the operator's to install, not a bug to show as a traceback.
    """
    from flotod.localswf import install  # noqa: PLC0415 (moto is optional: import on use)

    try:
        install()
    except ModuleNotFoundError as exc:
        return f"the embedded SWF needs the [local] extra ({exc}): pip install 'flotod[local]'"
    return None


def _run_local_swf(args: argparse.Namespace) -> int:
    from flotod.localswf import make_backend, make_server  # noqa: PLC0415 (as above)

    missing = _missing_local_extra()
    if missing is not None:
        print(f"flotod local-swf: {missing}", file=sys.stderr)
        return EX_UNAVAILABLE

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    log = logging.getLogger("flotod.localswf")
    if args.poll_timeout <= 0:
        print("flotod local-swf: --poll-timeout must be positive", file=sys.stderr)
        return EX_USAGE
    for flag, share in (
        ("--inject-throttling", args.inject_throttling),
        ("--inject-decision-failures", args.inject_decision_failures),
    ):
        if not 0.0 <= share <= 1.0:
            print(f"flotod local-swf: {flag} must be between 0 and 1", file=sys.stderr)
            return EX_USAGE
    bucket_name = settings_of("payloads")["s3_bucket"].type
    for bucket in args.s3_bucket:
        try:
            if not bucket_name.convert(bucket):
                raise Invalid(bucket_name.describe())
        except Invalid as exc:
            print(f"flotod local-swf: --s3-bucket {bucket!r}: expected {exc}", file=sys.stderr)
            return EX_USAGE
    if not _is_loopback(args.host):
        log.warning(
            "listening on non-loopback address %s: anyone who can reach it controls every "
            "workflow (no authentication)",
            args.host,
        )
    backend = make_backend(
        poll_timeout=args.poll_timeout,
        throttle_share=args.inject_throttling,
        throttle_seed=args.throttling_seed,
        decision_failure_share=args.inject_decision_failures,
        decision_failure_seed=args.decision_failures_seed,
    )
    if args.inject_throttling:
        log.warning(
            "injecting ThrottlingException into %.0f%% of calls", args.inject_throttling * 100
        )
    if args.inject_decision_failures:
        log.warning(
            "failing %.0f%% of ScheduleActivityTask, StartTimer and StartChildWorkflowExecution "
            "decisions with a rate or limit cause",
            args.inject_decision_failures * 100,
        )
    for bucket in args.s3_bucket:
        backend.s3.create_bucket(bucket)
    try:
        server = make_server(backend, args.host, args.port)
    except OSError as exc:
        backend.close()
        print(f"flotod local-swf: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # only record it; the main loop stops the server

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start_in_thread()
    print(server.url, flush=True)
    log.info("embedded SWF listening url=%s poll_timeout=%s", server.url, args.poll_timeout)
    if args.s3_bucket:
        log.info("embedded S3 buckets=%s", ",".join(args.s3_bucket))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("embedded SWF stopped")
    return EX_OK


COMMANDS: list[tuple[str, str, AddArguments, Run]] = [
    ("local-swf", LOCAL_SWF_HELP, _local_swf_arguments, _run_local_swf),
    ("register", register.HELP, register.add_arguments, register.run),
    ("workflow", workflow.HELP, workflow.add_arguments, workflow.run),
    ("replay", replay.HELP, replay.add_arguments, replay.run),
    ("config", configcheck.HELP, configcheck.add_arguments, configcheck.run),
    ("completion", completion.HELP, completion.add_arguments, completion.run),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flotod", description="flotod command-line tools")
    parser.add_argument("--version", action="version", version=f"flotod {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, add_arguments, run in COMMANDS:
        command = sub.add_parser(name, help=help_text.split(":")[0], description=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Run | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EX_USAGE
    try:
        return run(args)
    except FlotodError as exc:
        # SWF's messages can quote what a workflow sent: no terminal control gets through.
        print(f"flotod {args.command}: {printable(str(exc), keep_lines=True)}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
