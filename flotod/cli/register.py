"""``flotod register``: the domain and every type the host's configs name, idempotently.

What is registered comes from the same TOML the services run with: each decider instance's
``workflow_type_name``/``workflow_type_version`` (and the child workflow types its spec
starts), the activities of each worker instance's ``modules``, and the daemon's two workflow
types. Every config table is validated first; a bad one stops the command before SWF is
touched, like the services themselves.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flotod.cli import output
from flotod.cli.operator import add_connection_arguments, resolve_target
from flotod.cli.registration import TypeDef, decider_types, register, unique, worker_types
from flotod.config import DEFAULT_CONFIG_PATH, list_instances, load_config
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE
from flotod.errors import EX_OK, ConfigError
from flotod.services.daemon import DAEMON_EXECUTION_TIMEOUT
from flotod.worker import default_registry

HELP = "Register the SWF domain and the workflow and activity types the configs name"


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config) if args.config is not None else DEFAULT_CONFIG_PATH


def types_from_config(path: Path) -> tuple[list[TypeDef], list[str]]:
    """Every type the config's instances need, and notes on instances that name none.

    Raises ConfigError listing the problems of every instance at once.
    """
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
            if kind == "decider":
                decider = config.decider
                if not decider.workflow_type_name:
                    notes.append(
                        f"decider.{name}: no workflow_type_name; its type is not registered"
                    )
                types += decider_types(
                    decider.workflow_type_name,
                    decider.workflow_type_version,
                    decider.task_list,
                    decider.spec,
                )
            elif kind == "worker":
                worker = config.worker
                types += worker_types(
                    default_registry, worker.modules, worker.task_list, worker.heartbeat_seconds
                )
            else:
                daemon = config.daemon
                types.append(
                    TypeDef(
                        "workflow",
                        *DAEMON_TYPE,
                        daemon.task_list,
                        execution_timeout=DAEMON_EXECUTION_TIMEOUT,
                        child_policy="ABANDON",
                    )
                )
                types.append(
                    TypeDef(
                        "workflow",
                        *CHILD_TYPE,
                        daemon.task_list,
                        execution_timeout=daemon.child_execution_timeout_seconds,
                        child_policy="TERMINATE",
                    )
                )
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
    types, notes = types_from_config(config_path(args))
    target = resolve_target(args)
    done = register(target.swf, target.domain, types, args.retention_days)
    created = {t.label for t in done.created}
    if args.json:
        output.print_json(
            {
                "domain": target.domain,
                "domain_created": done.domain_created,
                "types": [
                    {
                        "kind": t.kind,
                        "name": t.name,
                        "version": t.version,
                        "task_list": t.task_list,
                        "created": t.label in created,
                    }
                    for t in types
                ],
                "notes": notes,
            }
        )
        return EX_OK
    state = "registered" if done.domain_created else "already registered"
    print(f"domain {target.domain}: {state}")
    rows = [
        [
            t.kind,
            f"{t.name}:{t.version}",
            t.task_list or "-",
            "registered" if t.label in created else "already registered",
        ]
        for t in types
    ]
    output.table(["KIND", "TYPE", "TASK LIST", "STATE"], rows)
    for note in notes:
        print(f"note: {note}")
    return EX_OK
