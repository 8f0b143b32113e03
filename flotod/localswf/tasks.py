"""Decision and activity tasks with the extra state SWF keeps and moto does not.

A task is generic in the run that owns it, so this module needs nothing of the execution
module (which builds tasks) and the import graph stays a DAG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from moto.swf.models.activity_task import ActivityTask
from moto.swf.models.decision_task import DecisionTask
from moto.swf.models.workflow_execution import WorkflowExecution

from flotod.localswf.scheduler import Deadline

if TYPE_CHECKING:
    from moto.swf.models.activity_type import ActivityType

RunT = TypeVar("RunT", bound=WorkflowExecution)


def seconds(value: Any) -> float | None:
    """A timeout as SWF writes it ("NONE", a digit string) in seconds; None means never."""
    if value is None or value == "NONE":
        return None
    return float(value)


class LocalDecisionTask(DecisionTask, Generic[RunT]):
    """A decision task; ``history_limit`` freezes the history its pages are cut from."""

    def __init__(self, workflow_execution: RunT, scheduled_event_id: int):
        super().__init__(workflow_execution, scheduled_event_id)
        self.wfe = workflow_execution
        self.queued = False
        self.history_limit = 0
        self.deadline: Deadline | None = None

    def cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


class LocalActivityTask(ActivityTask, Generic[RunT]):
    """An activity task with cancellation state and its own pending deadlines."""

    def __init__(
        self,
        activity_id: str,
        activity_type: ActivityType,
        scheduled_event_id: int,
        workflow_execution: RunT,
        timeouts: dict[str, Any],
        task_list: str,
        workflow_input: Any = None,
    ) -> None:
        super().__init__(
            activity_id=activity_id,
            activity_type=activity_type,
            scheduled_event_id=scheduled_event_id,
            workflow_execution=workflow_execution,
            timeouts=timeouts,
            workflow_input=workflow_input,
        )
        self.wfe = workflow_execution
        self.task_list = task_list
        self.cancel_requested = False
        self.latest_cancel_requested_event_id: int | None = None
        self.deadlines: dict[str, Deadline] = {}  # by timeout type

    def cancel_deadlines(self) -> None:
        for deadline in self.deadlines.values():
            deadline.cancel()
        self.deadlines.clear()

    def to_full_dict(self) -> dict[str, Any]:
        hsh: dict[str, Any] = {
            "activityId": self.activity_id,
            "activityType": self.activity_type.to_short_dict(),
            "taskToken": self.task_token,
            "startedEventId": self.started_event_id,
            "workflowExecution": self.wfe.to_short_dict(),
        }
        if self.input is not None:
            hsh["input"] = self.input
        return hsh
