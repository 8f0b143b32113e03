"""``flotod config check``: validate every instance of every kind in a config at once.

A service checks only its own table when it starts; before a deploy an operator wants the
whole host checked, with every problem listed, and a non-zero exit (78) if there is any.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flotod.cli import output
from flotod.config import DEFAULT_CONFIG_PATH, check_shared, list_instances, load_config
from flotod.errors import EX_CONFIG, EX_OK, ConfigError, FlotodError

HELP = "Check every decider, worker and daemon table of a config, listing every problem"


class UsageError(FlotodError):
    exit_code = 64


def check(path: Path) -> dict[str, list[str]]:
    """``kind.instance`` -> its problems ([] when it would start)."""
    found: dict[str, list[str]] = {}
    for kind, names in list_instances(path).items():
        for name in names:
            try:
                load_config(path, kind, name)
            except ConfigError as exc:
                found[f"{kind}.{name}"] = list(exc.problems)
            else:
                found[f"{kind}.{name}"] = []
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION")
    p = sub.add_parser("check", help="validate every instance; exit 78 on any problem")
    p.add_argument(
        "--config",
        metavar="PATH",
        default=str(DEFAULT_CONFIG_PATH),
        help="a TOML file or a directory of them (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(config_action=True)


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "config_action", False):
        raise UsageError("expected an action: check")
    results = check(Path(args.config))
    if not results:
        return _run_without_instances(args)
    bad = {k: v for k, v in results.items() if v}
    if args.json:
        output.print_json({"ok": not bad, "instances": results})
    else:
        for key, problems in results.items():
            print(f"{'ok' if not problems else 'FAILED':6}  {key}")
            for problem in problems:
                print(f"        {problem}")
    return EX_CONFIG if bad else EX_OK


def _run_without_instances(args: argparse.Namespace) -> int:
    """A fresh install has shared settings and no instance yet: check those, and say so."""
    problems = check_shared(Path(args.config))
    if args.json:
        output.print_json({"ok": not problems, "instances": {}, "problems": problems})
    else:
        for problem in problems:
            print(problem)
        print(f"{args.config}: no [decider.NAME], [worker.NAME] or [daemon.NAME] tables")
    return EX_CONFIG if problems else EX_OK
