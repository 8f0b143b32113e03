"""A closing decision in the same response as an external signal or cancellation.

On SWF the response only initiates the external action: its outcome event comes later, so
it is not an event the closing decision "did not handle", and the close succeeds. Events that
arrived while the decision task was running still make the close fail.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.localswf.helpers import (
    DOMAIN,
    attrs,
    d,
    decide,
    describe,
    history,
    last,
    poll_decision,
    setup_domain,
    start,
    types,
)


def _source_and_target(client: Any) -> tuple[str, str, dict[str, Any]]:
    """wf-1 and target started, target's first task answered; wf-1's first task, unanswered."""
    setup_domain(client)
    source_run = start(client, workflow_id="wf-1")
    target_run = start(client, workflow_id="target")
    source_task = poll_decision(client)  # FIFO: wf-1 was started first
    assert source_task["workflowExecution"]["runId"] == source_run
    decide(client, poll_decision(client))
    return source_run, target_run, source_task


def _after(events: list[dict[str, Any]], kind: str) -> list[str]:
    """Event types after the last ``kind`` event."""
    names = types(events)
    index = len(names) - 1 - names[::-1].index(kind)
    return names[index + 1 :]


@pytest.mark.parametrize(
    ("external", "close", "closed_as", "seen_by_target"),
    [
        (
            d("SignalExternalWorkflowExecution", workflowId="target", signalName="done", input="x"),
            d("CompleteWorkflowExecution", result="r"),
            "COMPLETED",
            "WorkflowExecutionSignaled",
        ),
        (
            d("RequestCancelExternalWorkflowExecution", workflowId="target"),
            d("FailWorkflowExecution", reason="gave up"),
            "FAILED",
            "WorkflowExecutionCancelRequested",
        ),
        (
            d("SignalExternalWorkflowExecution", workflowId="target", signalName="done", input="x"),
            d("CancelWorkflowExecution", details="bye"),
            "CANCELED",
            "WorkflowExecutionSignaled",
        ),
    ],
)
def test_close_in_the_same_response_as_an_external_action_succeeds(
    swf_client: Any, external: Any, close: Any, closed_as: str, seen_by_target: str
) -> None:
    source_run, target_run, source_task = _source_and_target(swf_client)
    decide(swf_client, source_task, external, close)

    info = describe(swf_client, "wf-1", source_run)
    assert info["executionInfo"]["executionStatus"] == "CLOSED"
    assert info["executionInfo"]["closeStatus"] == closed_as
    assert info["openCounts"]["openDecisionTasks"] == 0
    events = history(swf_client, "wf-1", source_run)
    # Initiated, then the close; nothing after it, no refused close, no new decision task.
    closing_event = {
        "COMPLETED": "WorkflowExecutionCompleted",
        "FAILED": "WorkflowExecutionFailed",
        "CANCELED": "WorkflowExecutionCanceled",
    }[closed_as]
    assert _after(events, "DecisionTaskCompleted") == [
        external["decisionType"] + "Initiated",
        closing_event,
    ]
    assert types(events).count("DecisionTaskScheduled") == 1

    # The target still got the signal or cancel request, from the closed source.
    target_task = poll_decision(swf_client)
    assert target_task["workflowExecution"]["runId"] == target_run
    seen = last(target_task["events"], seen_by_target)
    assert seen["externalWorkflowExecution"] == {"workflowId": "wf-1", "runId": source_run}
    if seen_by_target == "WorkflowExecutionSignaled":
        assert seen["signalName"] == "done" and seen["input"] == "x"


def test_close_with_a_signal_to_an_unknown_run_succeeds(swf_client: Any) -> None:
    source_run, _, source_task = _source_and_target(swf_client)
    decide(
        swf_client,
        source_task,
        d("SignalExternalWorkflowExecution", workflowId="ghost", signalName="done"),
        d("CompleteWorkflowExecution", result="r"),
    )
    events = history(swf_client, "wf-1", source_run)
    assert types(events)[-2:] == [
        "SignalExternalWorkflowExecutionInitiated",
        "WorkflowExecutionCompleted",
    ]


def test_events_that_arrived_during_the_task_still_refuse_the_close(swf_client: Any) -> None:
    source_run, target_run, source_task = _source_and_target(swf_client)
    swf_client.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="late", input="1"
    )
    decide(
        swf_client,
        source_task,
        d("SignalExternalWorkflowExecution", workflowId="target", signalName="done", input="x"),
        d("CompleteWorkflowExecution", result="r"),
    )
    assert describe(swf_client, "wf-1", source_run)["executionInfo"]["executionStatus"] == "OPEN"
    events = history(swf_client, "wf-1", source_run)
    failed = [attrs(e) for e in events if e["eventType"] == "CompleteWorkflowExecutionFailed"]
    assert [f["cause"] for f in failed] == ["UNHANDLED_DECISION"]
    # The signal was initiated all the same, and its outcome joins the next decision task.
    tasks = [poll_decision(swf_client), poll_decision(swf_client)]
    by_run = {t["workflowExecution"]["runId"]: t for t in tasks}
    assert set(by_run) == {source_run, target_run}
    source_next = types(by_run[source_run]["events"])
    assert "WorkflowExecutionSignaled" in source_next
    assert "ExternalWorkflowExecutionSignaled" in source_next
    assert last(by_run[target_run]["events"], "WorkflowExecutionSignaled")["signalName"] == "done"
    decide(swf_client, by_run[source_run], d("CompleteWorkflowExecution", result="r"))
    assert describe(swf_client, "wf-1", source_run)["executionInfo"]["closeStatus"] == "COMPLETED"


def test_external_outcome_of_an_open_run_schedules_one_decision_task(swf_client: Any) -> None:
    source_run, _, source_task = _source_and_target(swf_client)
    decide(
        swf_client,
        source_task,
        d("SignalExternalWorkflowExecution", workflowId="target", signalName="a"),
        d("SignalExternalWorkflowExecution", workflowId="ghost", signalName="b"),
        d("RecordMarker", markerName="m"),
    )
    events = history(swf_client, "wf-1", source_run)
    assert _after(events, "DecisionTaskCompleted") == [
        "SignalExternalWorkflowExecutionInitiated",
        "SignalExternalWorkflowExecutionInitiated",
        "MarkerRecorded",
        "ExternalWorkflowExecutionSignaled",
        "SignalExternalWorkflowExecutionFailed",
        "DecisionTaskScheduled",
    ]
