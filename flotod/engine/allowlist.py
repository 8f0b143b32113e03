"""What a workflow spec that arrives at run time may make flotod do.

A dynamic workflow's input and a daemon request carry their own specs: whoever may start the
one or signal the other would otherwise make flotod, with its IAM rights, schedule any
activity type on any task list and start any workflow type as a child. An
:class:`Allowlist` bounds that; the services build it from the config (which computes the
defaults, see flotod.config.allowed) and the engine asks :meth:`Allowlist.refusal` about every
task before it schedules anything, generated tasks included. Pure: no I/O.

Patterns are fnmatch-style (``*``, ``?``, ``[...]``), matched case-sensitively as SWF
matches names. A type pattern is ``name`` (any version) or ``name:version``; SWF type names
cannot hold a colon, so the first one separates the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from flotod.specs import ActivityTask, ChildWorkflow, Task

ANY: frozenset[str] = frozenset({"*"})


def _matches(value: str, patterns: frozenset[str]) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


def type_allowed(name: str, version: str, patterns: frozenset[str]) -> bool:
    """Whether type ``name``/``version`` matches one of ``patterns``."""
    for pattern in patterns:
        name_pattern, colon, version_pattern = pattern.partition(":")
        if fnmatchcase(name, name_pattern) and (not colon or fnmatchcase(version, version_pattern)):
            return True
    return False


@dataclass(frozen=True)
class Allowlist:
    """Patterns of what a run-time spec may name; ``ANY`` for a kind allows everything."""

    activity_types: frozenset[str] = ANY
    task_lists: frozenset[str] = ANY
    child_workflow_types: frozenset[str] = ANY
    child_workflow_ids: frozenset[str] = ANY

    def task_list_allowed(self, task_list: str) -> bool:
        return _matches(task_list, self.task_lists)

    def child_id_allowed(self, workflow_id: str) -> bool:
        return _matches(workflow_id, self.child_workflow_ids)

    def refusal(
        self, tasks: Iterable[Task], default_activity_task_list: str | None
    ) -> dict[str, Any] | None:
        """Details naming the first task that names something not allowed, or None.

        An activity without a task list of its own goes to ``default_activity_task_list``;
        with neither, SWF would use the activity type's registered default, which no
        allowlist can vouch for: refused unless the task lists allow ``*``. A child without a
        task list uses its workflow type's registered one,
        likewise bounded by the child type check.
        """
        for task in tasks:
            found = self._task_refusal(task, default_activity_task_list)
            if found is not None:
                return {"task": task.id_, **found}
        return None

    def _task_refusal(
        self, task: Task, default_task_list: str | None
    ) -> dict[str, str | None] | None:
        if isinstance(task, ActivityTask):
            if not type_allowed(task.name, task.version, self.activity_types):
                return {"activity_type": f"{task.name}:{task.version}"}
            task_list = task.task_list or default_task_list
            if task_list is None:
                if "*" not in self.task_lists:
                    return {"task_list": None}
            elif not self.task_list_allowed(task_list):
                field = "task_list" if task.task_list else "default_activity_task_list"
                return {field: task_list}
        elif isinstance(task, ChildWorkflow):
            name, version = task.workflow_type_name, task.workflow_type_version
            if not type_allowed(name, version, self.child_workflow_types):
                return {"child_workflow_type": f"{name}:{version}"}
            if task.task_list is not None and not self.task_list_allowed(task.task_list):
                return {"child_task_list": task.task_list}
        return None


ALLOW_ALL = Allowlist()


def describe_refusal(details: dict[str, Any]) -> str:
    """One line for a rejection marker, e.g. ``task 'a': activity_type 'X:v1' is not allowed``."""
    what = [
        f"{key} {value!r}" if value is not None else "no task_list (its type's default)"
        for key, value in details.items()
        if key != "task"
    ]
    return f"task {details.get('task')!r}: {', '.join(what)} is not allowed"
