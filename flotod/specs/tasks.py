"""The building blocks of a workflow's logic: activity tasks, generators, child workflows, timers.

Tasks are immutable values. ``requires`` accepts task objects or task ids and is stored as a
tuple of ids, so a task graph can be written in Python or read from JSON alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from flotod.errors import SpecError
from flotod.specs.canonical import canonical_json, stable_hash
from flotod.specs.limits import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_VERSION_LENGTH,
    check_json,
    check_optional_text,
    check_seconds,
    check_task_list,
    check_text,
)
from flotod.specs.retry import RetryStrategy

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_VERSION_LENGTH",
    "ActivityTask",
    "ChildWorkflow",
    "Generator",
    "Task",
    "Timer",
]


def _requirement_ids(owner: str, requires: Iterable[Task | str] | None) -> tuple[str, ...]:
    if requires is None:
        return ()
    if isinstance(requires, str | Task):
        raise SpecError(f"{owner}: requires must be a list of tasks or task ids")
    ids: list[str] = []
    for item in requires:
        if isinstance(item, Task):
            ids.append(item.id_)
        elif isinstance(item, str) and item:
            ids.append(item)
        else:
            raise SpecError(f"{owner}: requires holds {item!r}, which is neither a task nor an id")
    if len(set(ids)) != len(ids):
        raise SpecError(f"{owner}: requires names the same task twice")
    return tuple(ids)


def _check_input(owner: str, value: Any) -> Any:
    return check_json(owner, "input", value)


def _check_retry(owner: str, value: object) -> RetryStrategy | None:
    if value is not None and not isinstance(value, RetryStrategy):
        raise SpecError(f"{owner}: retry_strategy must be a RetryStrategy, got {value!r}")
    return value


def _with_optional_fields(
    out: dict[str, Any], task: ActivityTask | ChildWorkflow
) -> dict[str, Any]:
    """Add the fields activities and child workflows share, leaving out the absent ones."""
    if task.requires:
        out["requires"] = list(task.requires)
    for key in ("input", "retry_strategy", "task_list"):
        value = getattr(task, key)
        if value is not None:
            out[key] = value
    return out


def default_task_id(name: str, version: str, input_: Any, requires: tuple[str, ...]) -> str:
    """``name:version:<hash>``; the hash covers the input and requirements, not the process."""
    digest = stable_hash(name, version, canonical_json(input_), *sorted(requires))
    return f"{name}:{version}:{digest}"


class Task:
    """Common part of every task: a unique ``id_`` and the ids it ``requires``."""

    type_name: ClassVar[str] = "Task"
    id_: str
    requires: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form's fields, without the ``type`` tag; absent values are left out."""
        raise NotImplementedError

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **fields: object) -> None:
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Task)
            and type(other) is type(self)
            and self.to_dict() == other.to_dict()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id_))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({args})"


class ActivityTask(Task):
    """Runs activity ``name``/``version`` on a worker.

    ``input`` reaches the activity as ``context['activity_task']``.
    """

    type_name: ClassVar[str] = "ActivityTask"
    name: str
    version: str
    input: Any
    retry_strategy: RetryStrategy | None
    task_list: str | None

    def __init__(
        self,
        name: str,
        version: str,
        activity_id: str | None = None,
        requires: Iterable[Task | str] | None = None,
        input: Any = None,
        retry_strategy: RetryStrategy | None = None,
        task_list: str | None = None,
    ) -> None:
        kind = type(self).__name__
        owner = f"{kind} {activity_id or name!r}"
        name = check_text(owner, "name", name, MAX_NAME_LENGTH)
        version = check_text(owner, "version", version, MAX_VERSION_LENGTH)
        req = _requirement_ids(owner, requires)
        input = _check_input(owner, input)
        id_ = check_optional_text(owner, "activity_id", activity_id, MAX_ID_LENGTH)
        self._set(
            name=name,
            version=version,
            requires=req,
            input=input,
            retry_strategy=_check_retry(owner, retry_strategy),
            task_list=check_task_list(owner, "task_list", task_list),
            id_=id_ or default_task_id(name, version, input, req),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id_": self.id_, "name": self.name, "version": self.version}
        return _with_optional_fields(out, self)


class Generator(ActivityTask):
    """An activity whose result is a list of tasks that join the graph at run time."""

    type_name: ClassVar[str] = "Generator"


class ChildWorkflow(Task):
    """Starts a child workflow execution; its result flows to the tasks that require it."""

    type_name: ClassVar[str] = "ChildWorkflow"
    workflow_type_name: str
    workflow_type_version: str
    input: Any
    retry_strategy: RetryStrategy | None
    task_list: str | None

    def __init__(
        self,
        workflow_type_name: str,
        workflow_type_version: str,
        workflow_id: str | None = None,
        requires: Iterable[Task | str] | None = None,
        input: Any = None,
        retry_strategy: RetryStrategy | None = None,
        task_list: str | None = None,
    ) -> None:
        owner = f"ChildWorkflow {workflow_id or workflow_type_name!r}"
        name = check_text(owner, "workflow_type_name", workflow_type_name, MAX_NAME_LENGTH)
        version = check_text(
            owner, "workflow_type_version", workflow_type_version, MAX_VERSION_LENGTH
        )
        req = _requirement_ids(owner, requires)
        input = _check_input(owner, input)
        id_ = check_optional_text(owner, "workflow_id", workflow_id, MAX_ID_LENGTH)
        self._set(
            workflow_type_name=name,
            workflow_type_version=version,
            requires=req,
            input=input,
            retry_strategy=_check_retry(owner, retry_strategy),
            task_list=check_task_list(owner, "task_list", task_list),
            id_=id_ or default_task_id(name, version, input, req),
        )

    @property
    def workflow_id(self) -> str:
        return self.id_

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id_": self.id_,
            "workflow_type_name": self.workflow_type_name,
            "workflow_type_version": self.workflow_type_version,
        }
        return _with_optional_fields(out, self)


class Timer(Task):
    """Waits ``delay_in_seconds``: delays its dependents, or the workflow's completion."""

    type_name: ClassVar[str] = "Timer"
    delay_in_seconds: int

    def __init__(
        self,
        id_: str,
        delay_in_seconds: int,
        requires: Iterable[Task | str] | None = None,
    ) -> None:
        owner = f"Timer {id_!r}"
        id_ = check_text(owner, "id_", id_, MAX_ID_LENGTH)
        delay = check_seconds(owner, "delay_in_seconds", delay_in_seconds)
        self._set(id_=id_, delay_in_seconds=delay, requires=_requirement_ids(owner, requires))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id_": self.id_, "delay_in_seconds": self.delay_in_seconds}
        if self.requires:
            out["requires"] = list(self.requires)
        return out
