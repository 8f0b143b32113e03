"""DeciderSpec: the whole logic of one workflow type, as a task graph plus a few policies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from flotod.errors import SpecError
from flotod.specs.graph import check_graph
from flotod.specs.limits import MAX_NAME_LENGTH, check_task_list, check_text
from flotod.specs.tasks import Task


def _flag(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"DeciderSpec: {field} must be true or false, got {value!r}")
    return value


class DeciderSpec:
    """A validated task graph: duplicate ids, unknown requirements and cycles are refused here."""

    type_name: ClassVar[str] = "DeciderSpec"

    def __init__(
        self,
        domain: str,
        task_list: str | None = None,
        activity_tasks: Iterable[Task] = (),
        default_activity_task_list: str | None = None,
        repeat_workflow: bool = False,
        terminate_decider_after_completion: bool = False,
    ) -> None:
        check_text("DeciderSpec", "domain", domain, MAX_NAME_LENGTH)
        if isinstance(activity_tasks, str | bytes | dict):
            raise SpecError("DeciderSpec: activity_tasks must be a list of tasks")
        tasks = tuple(activity_tasks)
        self.domain = domain
        self.task_list = check_task_list("DeciderSpec", "task_list", task_list)
        self.default_activity_task_list = check_task_list(
            "DeciderSpec", "default_activity_task_list", default_activity_task_list
        )
        self.repeat_workflow = _flag("repeat_workflow", repeat_workflow)
        self.terminate_decider_after_completion = _flag(
            "terminate_decider_after_completion", terminate_decider_after_completion
        )
        self.tasks_by_id = check_graph(tasks)
        self.activity_tasks = tasks

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"domain": self.domain, "activity_tasks": list(self.activity_tasks)}
        if self.task_list is not None:
            out["task_list"] = self.task_list
        if self.default_activity_task_list is not None:
            out["default_activity_task_list"] = self.default_activity_task_list
        out["repeat_workflow"] = self.repeat_workflow
        out["terminate_decider_after_completion"] = self.terminate_decider_after_completion
        return out

    def to_json(self) -> str:
        from flotod.specs.codec import dumps

        return dumps(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> DeciderSpec:
        from flotod.specs.codec import load_decider_spec

        return load_decider_spec(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeciderSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.domain, tuple(self.tasks_by_id)))

    def __repr__(self) -> str:
        return (
            f"DeciderSpec(domain={self.domain!r}, task_list={self.task_list!r}, "
            f"activity_tasks=<{len(self.activity_tasks)} tasks>)"
        )
