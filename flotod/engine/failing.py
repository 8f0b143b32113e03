"""Failing a run whose history cannot be replayed, the way the engine fails one it can.

A reference to a large payload that can never resolve (its object gone or altered) leaves a
history the engine must not read: deciding without the value would decide something else.
The run fails with the payload's reason, and, as :meth:`flotod.engine.decide` does when it
fails a run, first asks the children it started for its tasks to cancel (SWF applies no
child policy when a decider fails a run). Those are read from the events alone, without a
spec: child starts whose ``control`` flotod wrote for a task. A daemon's children (started
for signals, ABANDON) are not the run's tasks and are left alone. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flotod.engine import decisions as d
from flotod.engine.attributes import event_attributes
from flotod.engine.history import CLOSED_EVENTS, control_task

_CHILD_ENDS = frozenset(
    {
        "StartChildWorkflowExecutionFailed",
        "ChildWorkflowExecutionCompleted",
        "ChildWorkflowExecutionFailed",
        "ChildWorkflowExecutionTimedOut",
        "ChildWorkflowExecutionCanceled",
        "ChildWorkflowExecutionTerminated",
    }
)


def failing_run(events: Sequence[Mapping[str, Any]], reason: str, details: Any) -> list[d.Decision]:
    """A FailWorkflowExecution with ``reason`` and ``details``, after a cancel request for
    each open child of the run's tasks not yet asked; nothing for a run already closed."""
    children: dict[int, list[Any]] = {}  # initiated event id -> [workflow id, run id]
    asked: set[str] = set()
    for event in events:
        kind = event.get("eventType")
        if kind in CLOSED_EVENTS:
            return []
        attrs = event_attributes(event)
        if kind == "StartChildWorkflowExecutionInitiated":
            if control_task(attrs.get("control")) is not None:
                children[int(event.get("eventId") or 0)] = [attrs.get("workflowId"), None]
        elif kind == "ChildWorkflowExecutionStarted":
            child = children.get(int(attrs.get("initiatedEventId") or 0))
            if child is not None:
                child[1] = (attrs.get("workflowExecution") or {}).get("runId")
        elif kind in _CHILD_ENDS:
            children.pop(int(attrs.get("initiatedEventId") or 0), None)
        elif kind == "RequestCancelExternalWorkflowExecutionInitiated":
            asked.add(str(attrs.get("workflowId")))
    plan = [
        d.request_cancel_external(str(workflow_id), run_id)
        for workflow_id, run_id in children.values()
        if isinstance(workflow_id, str) and workflow_id not in asked
    ]
    failure = d.fail_workflow(reason, details)
    if len(plan) < d.MAX_DECISIONS:
        return [*plan, failure]
    # More children than a response holds: ask the first ones now, with a zero-second timer
    # so that a decision task follows; it asks the rest, then fails the run.
    wake = d.start_timer(f"flotod.failing.{len(asked)}", 0, "{}")
    return [*plan[: d.MAX_DECISIONS - 1], wake]
