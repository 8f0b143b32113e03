"""Checks on a task graph: unique ids, known requirements, no cycles.

Used when a spec is built and again when a generator adds tasks at run time, so that a bad
graph is reported with the name of the task at fault instead of hanging a workflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flotod.errors import SpecError
from flotod.specs.tasks import Task


def index_tasks(tasks: Iterable[Task], known: Mapping[str, Task] | None = None) -> dict[str, Task]:
    """Map ids to tasks, rejecting an id used twice (also against ``known``)."""
    by_id: dict[str, Task] = {}
    for task in tasks:
        if not isinstance(task, Task):
            raise SpecError(f"activity_tasks holds {task!r}, which is not a task")
        if task.id_ in by_id or (known is not None and task.id_ in known):
            raise SpecError(f"task id {task.id_!r} is used by more than one task")
        by_id[task.id_] = task
    return by_id


def check_graph(tasks: Sequence[Task], known: Mapping[str, Task] | None = None) -> dict[str, Task]:
    """Validate ``tasks`` (possibly joining an existing graph ``known``); return them by id."""
    by_id = index_tasks(tasks, known)
    for task in tasks:
        for req in task.requires:
            if req not in by_id and (known is None or req not in known):
                raise SpecError(f"task {task.id_!r} requires {req!r}, which is not in the spec")
    _check_acyclic(by_id)
    return by_id


def _check_acyclic(by_id: Mapping[str, Task]) -> None:
    """Kahn's algorithm over the new tasks; requirements outside ``by_id`` cannot close a cycle."""
    pending = {tid: sum(1 for r in t.requires if r in by_id) for tid, t in by_id.items()}
    dependents: dict[str, list[str]] = {tid: [] for tid in by_id}
    for tid, task in by_id.items():
        for req in task.requires:
            if req in by_id:
                dependents[req].append(tid)
    ready = [tid for tid, count in pending.items() if count == 0]
    seen = 0
    while ready:
        tid = ready.pop()
        seen += 1
        for dep in dependents[tid]:
            pending[dep] -= 1
            if pending[dep] == 0:
                ready.append(dep)
    if seen != len(by_id):
        stuck = sorted(tid for tid, count in pending.items() if count > 0)
        raise SpecError(f"task {stuck[0]!r} is part of a dependency cycle ({', '.join(stuck[:5])})")
