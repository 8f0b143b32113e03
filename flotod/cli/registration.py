"""What `flotod register` registers, and registering it: idempotent, one call per type.

Kept apart from the command so that tests and the demo register exactly what an operator's
``flotod register`` would, from the same inputs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flotod.specs import ChildWorkflow, DeciderSpec
from flotod.swf import SwfClient
from flotod.worker import ActivityDefinition, Registry


@dataclass(frozen=True)
class TypeDef:
    """A workflow or activity type and the task list SWF should default it to."""

    kind: str  # "workflow" | "activity"
    name: str
    version: str
    task_list: str | None = None
    # Workflow types only: defaults an execution of the type gets when its start omits them.
    execution_timeout: int | None = None
    child_policy: str | None = None
    # Activity types only: the heartbeat timeout (None = NONE, for workers sending no beats).
    heartbeat_timeout: int | None = 300

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}:{self.version}"


@dataclass
class Registration:
    """Which types were new and which SWF already knew."""

    domain_created: bool = False
    created: list[TypeDef] = field(default_factory=list)
    existing: list[TypeDef] = field(default_factory=list)


def decider_types(
    name: str, version: str, task_list: str, spec: DeciderSpec | None
) -> list[TypeDef]:
    """The type a decider instance serves (none when ``name`` is ""), plus the child
    workflow types its spec starts."""
    types = [TypeDef("workflow", name, version, task_list)] if name else []
    for task in spec.activity_tasks if spec is not None else ():
        if isinstance(task, ChildWorkflow):
            types.append(
                TypeDef(
                    "workflow", task.workflow_type_name, task.workflow_type_version, task.task_list
                )
            )
    return types


def _belongs(definition: ActivityDefinition, modules: Iterable[str]) -> bool:
    """Defined in one of ``modules`` (or a submodule), or exported by one of them."""
    home = definition.func.__module__
    for name in modules:
        if home == name or home.startswith(name + "."):
            return True
        module = sys.modules.get(name)
        if module is not None and definition.func in vars(module).values():
            return True
    return False


def heartbeat_timeout(heartbeat_seconds: int) -> int | None:
    """Room for two missed beats, never under SWF's usual 300 s; the worker service agrees."""
    return max(300, 3 * heartbeat_seconds) if heartbeat_seconds else None


def worker_types(
    registry: Registry, modules: Iterable[str], task_list: str, heartbeat_seconds: int = 90
) -> list[TypeDef]:
    """The activity types a worker serves: importing its modules registers them."""
    wanted = tuple(modules)
    for name in wanted:
        importlib.import_module(name)
    return [
        TypeDef("activity", d.name, d.version, task_list) for d in registry if _belongs(d, wanted)
    ]


def unique(types: Iterable[TypeDef]) -> list[TypeDef]:
    """First declaration wins: the same type from two places is registered once."""
    seen: dict[tuple[str, str, str], TypeDef] = {}
    for item in types:
        seen.setdefault((item.kind, item.name, item.version), item)
    return list(seen.values())


def register(
    swf: SwfClient, domain: str, types: Iterable[TypeDef], retention_days: int = 30
) -> Registration:
    """Register the domain and every type; existing ones are reported, not errors."""
    outcome = Registration(domain_created=swf.register_domain(domain, retention_days))
    for item in unique(types):
        if item.kind == "workflow":
            extra: dict[str, Any] = {}
            if item.execution_timeout is not None:
                extra["execution_start_to_close"] = item.execution_timeout
            if item.child_policy is not None:
                extra["child_policy"] = item.child_policy
            new = swf.register_workflow_type(
                domain, item.name, item.version, task_list=item.task_list, **extra
            )
        else:
            new = swf.register_activity_type(
                domain,
                item.name,
                item.version,
                task_list=item.task_list,
                heartbeat=item.heartbeat_timeout,
            )
        (outcome.created if new else outcome.existing).append(item)
    return outcome
