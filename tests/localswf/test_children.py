"""Child workflows, external signals and cancellations, and continue-as-new."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localswf.helpers import (
    DOMAIN,
    WF,
    attrs,
    d,
    decide,
    describe,
    history,
    last,
    poll_activity,
    poll_decision,
    schedule,
    setup_domain,
    start,
    types,
)

CHILD = "child-1"


def _start_child(client: Any, **extra: Any) -> tuple[str, str]:
    """Parent wf-1 starts CHILD; returns (parent run id, child run id)."""
    setup_domain(client)
    parent_run = start(client, childPolicy=extra.pop("parent_policy", "TERMINATE"))
    decide(
        client,
        poll_decision(client),
        d("StartChildWorkflowExecution", workflowId=CHILD, workflowType=WF, input="in", **extra),
    )
    child_task = poll_decision(client)
    assert child_task["workflowExecution"]["workflowId"] == CHILD
    started = attrs(child_task["events"][0])
    assert started["parentWorkflowExecution"] == {"workflowId": "wf-1", "runId": parent_run}
    child_run = child_task["workflowExecution"]["runId"]
    parent_task = poll_decision(client)
    assert (
        last(parent_task["events"], "ChildWorkflowExecutionStarted")["workflowExecution"]["runId"]
        == child_run
    )
    decide(client, parent_task)
    client.child_task = child_task
    return parent_run, child_run


@pytest.mark.parametrize(
    ("close", "event", "field"),
    [
        (d("CompleteWorkflowExecution", result=""), "ChildWorkflowExecutionCompleted", "result"),
        (d("FailWorkflowExecution", reason="r"), "ChildWorkflowExecutionFailed", "reason"),
        (d("CancelWorkflowExecution", details="x"), "ChildWorkflowExecutionCanceled", "details"),
        (None, "ChildWorkflowExecutionTerminated", None),
        ("timeout", "ChildWorkflowExecutionTimedOut", "timeoutType"),
    ],
)
def test_child_outcomes_reach_the_parent(
    swf_client: Any, close: Any, event: str, field: str | None
) -> None:
    extra = {"executionStartToCloseTimeout": "1"} if close == "timeout" else {}
    parent_run, child_run = _start_child(swf_client, **extra)
    if close is None:
        swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId=CHILD)
    elif close != "timeout":
        decide(swf_client, swf_client.child_task, close)
    task = poll_decision(swf_client)  # waits for the child's timeout when that is the case
    got = last(task["events"], event)
    assert got["workflowExecution"] == {"workflowId": CHILD, "runId": child_run}
    if field:
        assert field in got
    assert (
        describe(swf_client, "wf-1", parent_run)["openCounts"]["openChildWorkflowExecutions"] == 0
    )


def test_parent_close_applies_child_policy(swf_client: Any) -> None:
    parent_run, child_run = _start_child(swf_client, childPolicy="TERMINATE")
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    child = describe(swf_client, CHILD, child_run)["executionInfo"]
    assert child["closeStatus"] == "TERMINATED"
    assert (
        last(history(swf_client, CHILD, child_run), "WorkflowExecutionTerminated")["cause"]
        == "CHILD_POLICY_APPLIED"
    )
    assert "ChildWorkflowExecutionTerminated" not in types(history(swf_client, "wf-1", parent_run))


def test_request_cancel_child_policy(swf_client: Any) -> None:
    _, child_run = _start_child(swf_client, parent_policy="REQUEST_CANCEL")
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    decide(swf_client, swf_client.child_task)
    task = poll_decision(swf_client)
    assert last(task["events"], "WorkflowExecutionCancelRequested")["cause"] == (
        "CHILD_POLICY_APPLIED"
    )
    assert describe(swf_client, CHILD, child_run)["executionInfo"]["cancelRequested"] is True


def test_start_child_failures(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(
        swf_client,
        poll_decision(swf_client),
        d(
            "StartChildWorkflowExecution",
            workflowId="c",
            workflowType={"name": "x", "version": "1"},
        ),
        d("StartChildWorkflowExecution", workflowId="wf-1", workflowType=WF),
    )
    failed = [
        attrs(e)["cause"]
        for e in history(swf_client, "wf-1", run_id)
        if e["eventType"] == "StartChildWorkflowExecutionFailed"
    ]
    assert failed == ["WORKFLOW_TYPE_DOES_NOT_EXIST", "WORKFLOW_ALREADY_RUNNING"]
    poll_decision(swf_client)


def test_external_signal_and_cancel(swf_client: Any) -> None:
    setup_domain(swf_client)
    source_run = start(swf_client, workflow_id="wf-1")
    target_run = start(swf_client, workflow_id="target")
    source_first = poll_decision(swf_client)  # FIFO: wf-1 was started first
    assert source_first["workflowExecution"]["runId"] == source_run
    decide(swf_client, poll_decision(swf_client))  # the target's first task
    decide(
        swf_client,
        source_first,
        d("SignalExternalWorkflowExecution", workflowId="target", signalName="go"),
        d("RequestCancelExternalWorkflowExecution", workflowId="target", runId=target_run),
        d("SignalExternalWorkflowExecution", workflowId="ghost", signalName="go"),
    )
    target_task = poll_decision(swf_client)
    signaled = last(target_task["events"], "WorkflowExecutionSignaled")
    assert signaled["externalWorkflowExecution"]["runId"] == source_run
    assert "WorkflowExecutionCancelRequested" in types(target_task["events"])
    source_events = history(swf_client, "wf-1", source_run)
    assert "ExternalWorkflowExecutionSignaled" in types(source_events)
    assert "ExternalWorkflowExecutionCancelRequested" in types(source_events)
    assert last(source_events, "SignalExternalWorkflowExecutionFailed")["cause"] == (
        "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION"
    )


def test_request_cancel_workflow_and_activity(swf_client: Any) -> None:
    """A task no worker has taken is cancelled at once (ActivityTaskCanceled), a started one
    is told through its heartbeat: "If the activity task was scheduled but has not been
    assigned to a worker, then it is canceled. If the activity task was already assigned to a
    worker, then the worker is informed that cancellation has been requested in the response
    to RecordActivityTaskHeartbeat" (Decision, SWF API reference,
    https://docs.aws.amazon.com/amazonswf/latest/apireference/API_Decision.html). The engine
    tests' own SWF only recorded the request; they now run on this one."""
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(swf_client, poll_decision(swf_client), schedule("a1"), schedule("a2"))
    running = poll_activity(swf_client)
    swf_client.request_cancel_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    task = poll_decision(swf_client)
    assert "WorkflowExecutionCancelRequested" in types(task["events"])
    decide(
        swf_client,
        task,
        d("RequestCancelActivityTask", activityId="a1"),
        d("RequestCancelActivityTask", activityId="a2"),
    )
    answer = swf_client.record_activity_task_heartbeat(taskToken=running["taskToken"])
    assert answer["cancelRequested"] is True
    swf_client.respond_activity_task_canceled(taskToken=running["taskToken"], details="bye")
    task = poll_decision(swf_client)
    canceled = [attrs(e) for e in task["events"] if e["eventType"] == "ActivityTaskCanceled"]
    assert len(canceled) == 2 and canceled[-1]["details"] == "bye"
    decide(swf_client, task, d("CancelWorkflowExecution", details="done"))
    info = describe(swf_client, "wf-1", run_id)["executionInfo"]
    assert info["closeStatus"] == "CANCELED" and info["cancelRequested"] is True


def test_continue_as_new_starts_a_new_run(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client, tagList=["t1"])
    decide(swf_client, poll_decision(swf_client), d("ContinueAsNewWorkflowExecution", input="next"))
    task = poll_decision(swf_client)
    new_run = task["workflowExecution"]["runId"]
    assert new_run != run_id
    started = attrs(task["events"][0])
    assert (started["input"], started["continuedExecutionRunId"]) == ("next", run_id)
    assert started["tagList"] == ["t1"]
    old = describe(swf_client, "wf-1", run_id)["executionInfo"]
    assert old["closeStatus"] == "CONTINUED_AS_NEW"
    assert (
        last(history(swf_client, "wf-1", run_id), "WorkflowExecutionContinuedAsNew")[
            "newExecutionRunId"
        ]
        == new_run
    )
    swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s")
    assert "WorkflowExecutionSignaled" in types(history(swf_client, "wf-1", new_run))
