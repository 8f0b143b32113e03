"""An execution's history as a timeline an operator can read: one row per event with the
task it concerns, a short detail and, for events that end something, how long it took.

Activities, timers and children are named in SWF's history only on the event that began
them; later events point back by event id. This module follows those pointers once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flotod.cli.executions import CLOSE_EVENTS, attributes

# The event whose id a later event names, per attribute: how to find a task's beginning.
_POINTERS = ("scheduledEventId", "startedEventId", "initiatedEventId")
_TASK_KEYS = ("activityId", "timerId", "workflowId", "markerName", "signalName")
_DETAIL_KEYS = ("reason", "cause", "result", "timeoutType", "details", "input")
# Events whose duration is measured from the event that began their task.
_ENDINGS = (
    "ActivityTaskCompleted",
    "ActivityTaskFailed",
    "ActivityTaskTimedOut",
    "ActivityTaskCanceled",
    "TimerFired",
    "TimerCanceled",
    "ChildWorkflowExecutionCompleted",
    "ChildWorkflowExecutionFailed",
    "ChildWorkflowExecutionTimedOut",
    "ChildWorkflowExecutionCanceled",
    "ChildWorkflowExecutionTerminated",
    "DecisionTaskCompleted",
    "DecisionTaskTimedOut",
)


@dataclass(frozen=True)
class Row:
    event_id: int
    time: datetime | None
    offset: float | None  # seconds since the execution started
    event: str
    task: str
    detail: str
    duration: float | None


def _task_of(attrs: dict[str, Any]) -> str:
    for key in _TASK_KEYS:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    execution = attrs.get("workflowExecution")
    if isinstance(execution, dict):
        return str(execution.get("workflowId", ""))
    return ""


def _detail(event_type: str, attrs: dict[str, Any]) -> str:
    if event_type.startswith("DecisionTask"):
        return ""
    for key in _DETAIL_KEYS:
        value = attrs.get(key)
        if value not in (None, ""):
            return f"{key}={value}" if key in ("cause", "timeoutType") else str(value)
    return ""


def _seconds(later: Any, earlier: Any) -> float | None:
    if isinstance(later, datetime) and isinstance(earlier, datetime):
        return (later - earlier).total_seconds()
    return None


def _origin(event_id: int, by_id: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """Follow started/scheduled pointers back to the event that began the task."""
    event = by_id.get(event_id)
    seen = 0
    while event is not None and seen < 4:
        attrs = attributes(event)
        pointer = next((attrs[k] for k in _POINTERS if isinstance(attrs.get(k), int)), None)
        if pointer is None or pointer not in by_id:
            return event
        event = by_id[pointer]
        seen += 1
    return event


def timeline(events: Sequence[dict[str, Any]], include_decisions: bool = False) -> list[Row]:
    """One row per event (decision-task bookkeeping only with ``include_decisions``)."""
    by_id = {int(e["eventId"]): e for e in events if "eventId" in e}
    start = events[0].get("eventTimestamp") if events else None
    rows: list[Row] = []
    for event in events:
        kind = str(event.get("eventType", ""))
        if kind.startswith("DecisionTask") and not include_decisions:
            continue
        attrs = attributes(event)
        when = event.get("eventTimestamp")
        origin = _origin(int(event.get("eventId", 0)), by_id)
        task = _task_of(attrs) or (_task_of(attributes(origin)) if origin else "")
        duration = None
        if kind in _ENDINGS and origin is not None and origin is not event:
            duration = _seconds(when, origin.get("eventTimestamp"))
        elif kind in CLOSE_EVENTS:
            duration = _seconds(when, start)
        rows.append(
            Row(
                event_id=int(event.get("eventId", 0)),
                time=when if isinstance(when, datetime) else None,
                offset=_seconds(when, start),
                event=kind,
                task=task,
                detail=_detail(kind, attrs),
                duration=duration,
            )
        )
    return rows
