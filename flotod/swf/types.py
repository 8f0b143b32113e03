"""Plain values the SWF client returns, so callers never handle boto3's response dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WorkflowExecution:
    """One run of a workflow: SWF names it by workflow id and run id together."""

    workflow_id: str
    run_id: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> WorkflowExecution:
        return cls(workflow_id=data["workflowId"], run_id=data.get("runId", ""))

    def to_api(self) -> dict[str, str]:
        return {"workflowId": self.workflow_id, "runId": self.run_id}


@dataclass(frozen=True)
class DecisionTask:
    """A decision task with its whole history: every page already fetched and joined."""

    task_token: str
    workflow_execution: WorkflowExecution
    workflow_type: dict[str, str]
    events: list[dict[str, Any]] = field(repr=False)
    started_event_id: int
    previous_started_event_id: int = 0


@dataclass(frozen=True)
class ActivityTask:
    """An activity task as a worker needs it; ``input`` is SWF's raw text ('' when absent)."""

    task_token: str
    activity_id: str
    activity_type: dict[str, str]
    input: str
    workflow_execution: WorkflowExecution
    started_event_id: int

    @property
    def name(self) -> str:
        return self.activity_type["name"]

    @property
    def version(self) -> str:
        return self.activity_type["version"]
