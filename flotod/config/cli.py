"""The four flags every service takes, and what to do with them before touching SWF.

Usage in a service's main::

    parser = argparse.ArgumentParser(prog="flotod-worker")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    config = resolve_config(args, "worker")
    if isinstance(config, int):
        return config          # --check-config / --print-config done, or EX_CONFIG
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from flotod.config.loader import DEFAULT_CONFIG_PATH, load_config
from flotod.config.model import ServiceConfig
from flotod.config.render import print_config
from flotod.errors import EX_CONFIG, EX_OK, ConfigError


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=str(DEFAULT_CONFIG_PATH),
        help="a TOML file, or a directory whose *.toml and then conf.d/*.toml files are merged "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--instance",
        metavar="NAME",
        default=None,
        help="which [KIND.NAME] table to run; optional when there is only one",
    )
    group.add_argument(
        "--check-config",
        action="store_true",
        help='validate the configuration, print "ok" or every problem, and exit',
    )
    group.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings as TOML (secrets masked) and exit",
    )


Vet = Callable[[ServiceConfig, Callable[[str], None]], list[str]]


def resolve_config(
    args: argparse.Namespace,
    kind: str,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    vet: Vet | None = None,
) -> ServiceConfig | int:
    """The config to run with, or the exit code when the process should stop here.

    Problems go to stderr one per line and give EX_CONFIG (78), so systemd's
    ``RestartPreventExitStatus=78`` stops a restart loop on a bad config. ``args.config`` is
    made absolute first (the config keeps that path for reloads). ``vet``: what
    ``--check-config`` checks beyond the config itself (a decider's specs against its open
    runs); it returns problem lines and may print warnings with the function it is given.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    # Absolute now: a reload re-reads this path, and --daemonize changes the directory to /.
    args.config = str(Path(args.config).absolute())
    try:
        config = load_config(args.config, kind, args.instance)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return exc.exit_code
    if args.check_config:
        problems = [] if vet is None else vet(config, lambda line: print(line, file=err))
        for problem in problems:
            print(problem, file=err)
        if problems:
            return EX_CONFIG
        print("ok", file=out)
        return EX_OK
    if args.print_config:
        out.write(print_config(config))
        return EX_OK
    return config
