"""The allowlists a dynamic decider or a daemon enforces, with the config's defaults filled in.

An empty ``allowed_*`` setting means "what this config itself serves", which only the whole
config knows: the task lists of its ``[worker.*]`` and ``[decider.*]`` tables and the workflow
types of its deciders. The loader computes that once, here, from the tables it has already
read, so the engine gets plain frozensets and never looks at a config. Other tables' values
are taken as written (a table with a bad value is that service's problem, reported when it
loads); only strings count.
"""

from __future__ import annotations

from typing import Any

from flotod.config.files import Entry, RawConfig
from flotod.config.settings import settings_of
from flotod.engine.allowlist import ANY, Allowlist
from flotod.engine.daemon_requests import CHILD_TYPE


def _texts(tables: dict[str, dict[str, Entry]], key: str) -> set[str]:
    out = set()
    for entries in tables.values():
        entry = entries.get(key)
        if entry is not None and isinstance(entry.value, str) and entry.value:
            out.add(entry.value)
    return out


def _decider_types(raw: RawConfig) -> set[str]:
    default_version = settings_of("decider")["workflow_type_version"].default
    out: set[str] = set()
    for entries in raw.instances.get("decider", {}).values():
        name = entries.get("workflow_type_name")
        name_text = name.value if name is not None else None
        if not isinstance(name_text, str) or not name_text:
            continue
        version = entries.get("workflow_type_version")
        specs = entries.get("specs")
        if specs is not None and isinstance(specs.value, dict):
            versions = list(specs.value)  # with specs, the table's keys are the versions
        else:
            versions = [version.value if version is not None else default_version]
        out.update(f"{name_text}:{v}" for v in versions if isinstance(v, str))
    return out


def served_task_lists(raw: RawConfig) -> set[str]:
    """The task lists the config's workers and deciders poll."""
    instances = raw.instances
    return _texts(instances.get("worker", {}), "task_list") | _texts(
        instances.get("decider", {}), "task_list"
    )


def build_allowlist(kind: str, values: dict[str, Any], raw: RawConfig) -> Allowlist:
    """``values`` are the process table's converted settings (the decider's or the daemon's)."""
    task_lists = set(values["allowed_task_lists"])
    if not task_lists:
        task_lists = served_task_lists(raw)
        if kind == "daemon":
            task_lists.add(values["task_list"])
        elif values.get("default_activity_task_list"):
            task_lists.add(values["default_activity_task_list"])
    children = set(values["allowed_child_workflow_types"])
    if not children:
        children = _decider_types(raw)
        if kind == "daemon":
            children.add(":".join(CHILD_TYPE))
    return Allowlist(
        activity_types=frozenset(values["allowed_activity_types"]) or ANY,
        task_lists=frozenset(task_lists),
        child_workflow_types=frozenset(children),
        child_workflow_ids=frozenset(values.get("allowed_child_workflow_ids", ("*",))),
    )
