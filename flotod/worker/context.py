"""What a running activity can learn about its task, without changing its signature.

``current_task()`` works in the thread or process that runs the activity. Heartbeat details
are coalesced: the latest value is sent on the worker's heartbeat schedule, so an activity may
report progress as often as it likes without being throttled by SWF.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flotod.swf.limits import MAX_HEARTBEAT_DETAILS, clip


@dataclass(frozen=True)
class TaskInfo:
    """Where a task comes from; picklable, so it can travel to an activity process."""

    workflow_id: str
    run_id: str
    activity_id: str
    name: str
    version: str
    attempt: int | None
    task_list: str


def details_text(details: Any) -> str:
    """Heartbeat details as SWF carries them: a str as is, else JSON, cut to 2,048 characters."""
    text = details if isinstance(details, str) else json.dumps(details, default=repr)
    return clip(text, MAX_HEARTBEAT_DETAILS)


class CurrentTask:
    """The running activity's view of its task. Subclasses carry the channel to the worker."""

    def __init__(self, info: TaskInfo) -> None:
        self.info = info

    @property
    def workflow_id(self) -> str:
        return self.info.workflow_id

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def activity_id(self) -> str:
        return self.info.activity_id

    @property
    def attempt(self) -> int | None:
        """The decider's attempt number for this task (1 first), None when it did not say."""
        return self.info.attempt

    def heartbeat(self, details: Any = None) -> None:
        """Record progress; the worker sends the latest details with the next heartbeat."""
        raise NotImplementedError

    @property
    def cancel_requested(self) -> bool:
        """True once SWF asked to cancel this task (or forgot it): stop soon and return."""
        raise NotImplementedError


_current: ContextVar[CurrentTask | None] = ContextVar("flotod_current_task", default=None)


def current_task() -> CurrentTask:
    """The task the calling activity is running; raises RuntimeError outside an activity."""
    task = _current.get()
    if task is None:
        raise RuntimeError("current_task() is only available while a flotod activity runs")
    return task


def set_current_task(task: CurrentTask | None) -> None:
    _current.set(task)
