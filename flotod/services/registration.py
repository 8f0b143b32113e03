"""Registration: which SWF types a config serves, and registering them. Written once.

The services register what they serve when they start, and ``flotod register`` registers
what every table of the host's configs serves; both call :func:`types_for` and
:func:`register`, so the same config registers the same defaults whichever runs first.

SWF keeps the defaults of whoever registered a type first and never changes them (a new
default needs a new version). So a type that already exists is described, and every default
SWF holds that differs from what this config would register is reported: the services log a
warning naming the type, each difference and the remedy; ``flotod register`` prints them and
exits non-zero. Nothing is silently kept.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flotod.config import ServiceConfig
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE
from flotod.errors import AlreadyExistsError
from flotod.specs import ChildWorkflow, DeciderSpec
from flotod.swf import SwfClient
from flotod.swf.limits import (
    ACTIVITY_SCHEDULE_TO_CLOSE,
    ACTIVITY_SCHEDULE_TO_START,
    ACTIVITY_START_TO_CLOSE,
    DECISION_TASK_TIMEOUT,
    MIN_HEARTBEAT_TIMEOUT,
    WORKFLOW_EXECUTION_TIMEOUT,
)
from flotod.worker import ActivityDefinition, Registry, default_registry
from flotod.worker.registry import belongs

TypeKind = Literal["workflow", "activity"]

# The daemon workflow runs for SWF's maximum execution time and continues as new long before.
DAEMON_EXECUTION_TIMEOUT = WORKFLOW_EXECUTION_TIMEOUT


def _seconds(value: int | None) -> str:
    """SWF's text form of a timeout: digits, or "NONE" for no limit."""
    return "NONE" if value is None else str(value)


@dataclass(frozen=True)
class TypeDef:
    """A workflow or activity type with the defaults flotod registers it with."""

    kind: TypeKind
    name: str
    version: str
    task_list: str | None = None
    description: str | None = None
    # Workflow types: the defaults an execution gets when its start leaves them out.
    execution_timeout: int = WORKFLOW_EXECUTION_TIMEOUT
    decision_timeout: int = DECISION_TASK_TIMEOUT
    child_policy: str = "TERMINATE"
    # Activity types (None: no limit).
    heartbeat_timeout: int | None = MIN_HEARTBEAT_TIMEOUT
    schedule_to_start: int | None = ACTIVITY_SCHEDULE_TO_START
    start_to_close: int | None = ACTIVITY_START_TO_CLOSE
    schedule_to_close: int | None = ACTIVITY_SCHEDULE_TO_CLOSE

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}:{self.version}"

    def defaults(self) -> dict[str, Any]:
        """The defaults in SWF's own names and forms, as registered and as described."""
        out: dict[str, Any]
        if self.kind == "workflow":
            out = {
                "defaultExecutionStartToCloseTimeout": str(self.execution_timeout),
                "defaultTaskStartToCloseTimeout": str(self.decision_timeout),
                "defaultChildPolicy": self.child_policy,
            }
        else:
            out = {
                "defaultTaskHeartbeatTimeout": _seconds(self.heartbeat_timeout),
                "defaultTaskScheduleToStartTimeout": _seconds(self.schedule_to_start),
                "defaultTaskStartToCloseTimeout": _seconds(self.start_to_close),
                "defaultTaskScheduleToCloseTimeout": _seconds(self.schedule_to_close),
            }
        if self.task_list:
            out["defaultTaskList"] = {"name": self.task_list}
        return out


@dataclass(frozen=True)
class Difference:
    """One default SWF holds that is not what the config would register."""

    field: str
    registered: str
    wanted: str

    def __str__(self) -> str:
        return f"{self.field} is {self.registered}, the config gives {self.wanted}"


@dataclass(frozen=True)
class TypeState:
    """What registering one type found: new, or already there with SWF's own defaults."""

    type: TypeDef
    created: bool
    held: Mapping[str, Any] = field(default_factory=dict)
    differences: tuple[Difference, ...] = ()

    @property
    def task_list(self) -> str | None:
        """The default task list SWF holds for the type (what executions will use)."""
        value = self.held.get("defaultTaskList")
        if isinstance(value, Mapping) and value.get("name"):
            return str(value["name"])
        return self.type.task_list

    def remedy(self) -> str:
        return (
            f"SWF keeps the first registration of {self.type.name}:{self.type.version}; "
            "register a new version to change its defaults"
        )


# -- which types a config serves -----------------------------------------------------------


def heartbeat_timeout(heartbeat_seconds: int) -> int | None:
    """Room for two missed beats, never under 300 s; no limit for a worker sending none."""
    return max(MIN_HEARTBEAT_TIMEOUT, 3 * heartbeat_seconds) if heartbeat_seconds else None


def decider_types(
    name: str,
    version: str,
    task_list: str,
    spec: DeciderSpec | None,
    decision_timeout: int = DECISION_TASK_TIMEOUT,
) -> list[TypeDef]:
    """The type a decider serves (none when ``name`` is ""), and the child workflow types its
    spec starts (with the task lists the spec gives them)."""
    types = []
    if name:
        types.append(
            TypeDef("workflow", name, version, task_list, decision_timeout=decision_timeout)
        )
    for task in spec.activity_tasks if spec is not None else ():
        if isinstance(task, ChildWorkflow):
            types.append(
                TypeDef(
                    "workflow", task.workflow_type_name, task.workflow_type_version, task.task_list
                )
            )
    return types


def worker_types(
    registry: Registry, modules: Iterable[str], task_list: str, heartbeat_seconds: int
) -> list[TypeDef]:
    """The activity types a worker serves: those its modules define (importing registers)."""
    wanted = tuple(modules)
    for name in wanted:
        importlib.import_module(name)
    timeout = heartbeat_timeout(heartbeat_seconds)
    return [activity_type(d, task_list, timeout) for d in registry if belongs(d, wanted)]


def _limit(value: int | str | None, default: int | None) -> int | None:
    """A decorator's timeout as a TypeDef holds it: None there means no limit."""
    if value is None:
        return default
    return value if isinstance(value, int) else None  # "NONE"


def activity_type(
    definition: ActivityDefinition, task_list: str, heartbeat_default: int | None
) -> TypeDef:
    """The type of one activity: its decorator's defaults, flotod's where it gives none."""
    return TypeDef(
        "activity",
        definition.name,
        definition.version,
        definition.task_list or task_list,
        heartbeat_timeout=_limit(definition.heartbeat_timeout, heartbeat_default),
        schedule_to_start=_limit(definition.schedule_to_start_timeout, ACTIVITY_SCHEDULE_TO_START),
        start_to_close=_limit(definition.start_to_close_timeout, ACTIVITY_START_TO_CLOSE),
        schedule_to_close=_limit(definition.schedule_to_close_timeout, ACTIVITY_SCHEDULE_TO_CLOSE),
    )


def daemon_types(
    task_list: str, child_execution_timeout: int, decision_timeout: int = DECISION_TASK_TIMEOUT
) -> list[TypeDef]:
    return [
        TypeDef(
            "workflow",
            *DAEMON_TYPE,
            task_list,
            description="flotod-daemon: starts child workflows on signals",
            execution_timeout=DAEMON_EXECUTION_TIMEOUT,
            decision_timeout=decision_timeout,
            child_policy="ABANDON",
        ),
        TypeDef(
            "workflow",
            *CHILD_TYPE,
            task_list,
            description="flotod-daemon child: runs the decider spec in its input",
            execution_timeout=child_execution_timeout,
            decision_timeout=decision_timeout,
            child_policy="TERMINATE",
        ),
    ]


def types_for(config: ServiceConfig, registry: Registry = default_registry) -> list[TypeDef]:
    """Every type one service instance registers at start (and ``flotod register`` for it)."""
    if config.kind == "decider":
        decider = config.decider
        if decider.versions:
            return unique(
                item
                for version, spec in decider.versions.items()
                for item in decider_types(
                    decider.workflow_type_name,
                    version,
                    decider.task_list,
                    spec,
                    decider.decision_timeout_seconds,
                )
            )
        return decider_types(
            decider.workflow_type_name,
            decider.workflow_type_version,
            decider.task_list,
            decider.spec,
            decider.decision_timeout_seconds,
        )
    if config.kind == "worker":
        worker = config.worker
        if not worker.register_activity_types:
            return []
        return worker_types(registry, worker.modules, worker.task_list, worker.heartbeat_seconds)
    daemon = config.daemon
    return daemon_types(
        daemon.task_list, daemon.child_execution_timeout_seconds, daemon.decision_timeout_seconds
    )


def unique(types: Iterable[TypeDef]) -> list[TypeDef]:
    """First declaration wins: the same type from two places is registered once."""
    seen: dict[tuple[str, str, str], TypeDef] = {}
    for item in types:
        seen.setdefault((item.kind, item.name, item.version), item)
    return list(seen.values())


# -- registering ----------------------------------------------------------------------------


def differences(wanted: Mapping[str, Any], held: Mapping[str, Any]) -> tuple[Difference, ...]:
    """Each default in ``wanted`` that SWF's ``held`` configuration does not match."""
    out = []
    for key, value in wanted.items():
        have, want = held.get(key), value
        if key == "defaultTaskList":
            want = value.get("name")
            have = have.get("name") if isinstance(have, Mapping) else None
        if have != want:
            out.append(Difference(key, "unset" if have is None else str(have), str(want)))
    return tuple(out)


def register_one(swf: SwfClient, domain: str, item: TypeDef) -> TypeState:
    """Register ``item``; if SWF already has it, describe it and compare its defaults."""
    operation = f"register_{item.kind}_type"
    params: dict[str, Any] = {"domain": domain, "name": item.name, "version": item.version}
    if item.description:
        params["description"] = item.description
    wanted = item.defaults()
    try:
        swf.call(operation, **params, **wanted)
    except AlreadyExistsError:
        held = swf.describe_type(item.kind, domain, item.name, item.version)
        return TypeState(item, False, held, differences(wanted, held))
    return TypeState(item, True, wanted)


def register(swf: SwfClient, domain: str, types: Iterable[TypeDef]) -> list[TypeState]:
    """Register every type once (first declaration wins), in order."""
    return [register_one(swf, domain, item) for item in unique(types)]
