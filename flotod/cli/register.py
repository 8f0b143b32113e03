"""``flotod register``: the domain and every type the host's configs name, idempotently.

What is registered comes from the same TOML the services run with: each decider instance's
``workflow_type_name``/``workflow_type_version`` (and the child workflow types its spec
starts), the activities of each worker instance's ``modules``, and the daemon's two workflow
types: exactly what each service registers when it starts, through the same routine
(:mod:`flotod.services.registration`). Every config table is validated first; a bad one stops
the command before SWF is touched, like the services themselves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flotod.cli import output
from flotod.cli.operator import add_connection_arguments, resolve_target
from flotod.config import DEFAULT_CONFIG_PATH, list_instances, load_config
from flotod.errors import EX_DATAERR, EX_OK, ConfigError
from flotod.services.registration import TypeDef, TypeState, register, types_for, unique

HELP = "Register the SWF domain and the workflow and activity types the configs name"


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config) if args.config is not None else DEFAULT_CONFIG_PATH


def types_from_config(path: Path) -> tuple[list[TypeDef], list[str]]:
    """Every type the config's instances register when they start, and notes on deciders
    that name none. Raises ConfigError listing the problems of every instance at once."""
    types: list[TypeDef] = []
    notes: list[str] = []
    problems: list[str] = []
    for kind, names in list_instances(path).items():
        for name in names:
            try:
                config = load_config(path, kind, name)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            if kind == "decider" and not config.decider.workflow_type_name:
                notes.append(f"decider.{name}: no workflow_type_name; its type is not registered")
            types += types_for(config)
    if problems:
        raise ConfigError(problems)
    return unique(types), notes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument(
        "--retention-days", type=int, default=30, help="domain retention when it is new (30)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    """Register everything; exit 65 when a type SWF already holds has other defaults than
    the config would register (each difference printed, with the remedy)."""
    types, notes = types_from_config(config_path(args))
    target = resolve_target(args)
    domain_created = target.swf.register_domain(target.domain, args.retention_days)
    states = register(target.swf, target.domain, types)
    code = EX_DATAERR if any(s.differences for s in states) else EX_OK
    if args.json:
        output.print_json(
            {
                "domain": target.domain,
                "domain_created": domain_created,
                "types": [_as_json(s) for s in states],
                "notes": notes,
            }
        )
        return code
    state = "registered" if domain_created else "already registered"
    print(f"domain {target.domain}: {state}")
    rows = [
        [
            s.type.kind,
            f"{s.type.name}:{s.type.version}",
            s.task_list or "-",
            _state_text(s),
        ]
        for s in states
    ]
    output.table(["KIND", "TYPE", "TASK LIST", "STATE"], rows)
    for note in notes:
        print(f"note: {note}")
    for s in states:
        for difference in s.differences:
            print(f"{s.type.label}: {difference}", file=sys.stderr)
        if s.differences:
            print(f"{s.type.label}: {s.remedy()}", file=sys.stderr)
    return code


def _state_text(state: TypeState) -> str:
    if state.created:
        return "registered"
    return "registered earlier, other defaults" if state.differences else "already registered"


def _as_json(state: TypeState) -> dict[str, object]:
    return {
        "kind": state.type.kind,
        "name": state.type.name,
        "version": state.type.version,
        "task_list": state.task_list,
        "created": state.created,
        "defaults": dict(state.held),
        "differences": [
            {"field": d.field, "registered": d.registered, "config": d.wanted}
            for d in state.differences
        ],
    }
