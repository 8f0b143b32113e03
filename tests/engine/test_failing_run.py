"""Failing a run from its events alone (a history the engine must not read), as the engine
fails one: its open children asked to cancel first, a daemon's own children left alone."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine.failing import failing_run
from flotod.engine.history import child_control


def ev(event_id: int, kind: str, **attrs: Any) -> dict[str, Any]:
    key = kind[:1].lower() + kind[1:] + "EventAttributes"
    return {"eventId": event_id, "eventType": kind, key: attrs}


def started(initiated: int, workflow_id: str, run_id: str) -> dict[str, Any]:
    return ev(
        initiated + 1,
        "ChildWorkflowExecutionStarted",
        initiatedEventId=initiated,
        workflowExecution={"workflowId": workflow_id, "runId": run_id},
    )


def history() -> list[dict[str, Any]]:
    def initiated(event_id: int, workflow_id: str, control: str) -> dict[str, Any]:
        kind = "StartChildWorkflowExecutionInitiated"
        return ev(event_id, kind, workflowId=workflow_id, control=control)

    return [
        ev(1, "WorkflowExecutionStarted"),
        initiated(2, "w:open", child_control("open")),
        started(2, "w:open", "run-open"),
        initiated(4, "w:done", child_control("done")),
        started(4, "w:done", "run-done"),
        ev(6, "ChildWorkflowExecutionCompleted", initiatedEventId=4),
        initiated(7, "daemon:job", json.dumps({"daemon_key": "s3"})),
        started(7, "daemon:job", "run-job"),
        initiated(9, "w:asked", child_control("asked")),
        started(9, "w:asked", "run-asked"),
        ev(11, "RequestCancelExternalWorkflowExecutionInitiated", workflowId="w:asked"),
    ]


def test_open_children_of_the_runs_tasks_are_asked_to_cancel_then_the_run_fails() -> None:
    decisions = failing_run(history(), "payload_missing", {"uri": "s3://b/k"})
    assert [x["decisionType"] for x in decisions] == [
        "RequestCancelExternalWorkflowExecution",
        "FailWorkflowExecution",
    ]
    cancel = decisions[0]["requestCancelExternalWorkflowExecutionDecisionAttributes"]
    assert cancel == {"workflowId": "w:open", "runId": "run-open"}
    fail = decisions[1]["failWorkflowExecutionDecisionAttributes"]
    assert fail["reason"] == "payload_missing"
    assert json.loads(fail["details"]) == {"uri": "s3://b/k"}


def test_a_closed_run_gets_no_decision() -> None:
    events = [*history(), ev(12, "WorkflowExecutionFailed")]
    assert failing_run(events, "payload_missing", {}) == []
