"""A parent's child policy is applied exactly when SWF applies it.

SWF's API reference, ``childPolicy`` of StartWorkflowExecution, StartChildWorkflowExecution
and WorkflowExecutionConfiguration: "The policy to use for the child workflow executions if
this workflow execution is terminated, by calling the TerminateWorkflowExecution action
explicitly or due to an expired timeout"
(https://docs.aws.amazon.com/amazonswf/latest/apireference/API_WorkflowExecutionConfiguration.html,
API_TerminateWorkflowExecution.html). A parent its decider completes, fails, cancels or
continues as new leaves its children running, whatever the policy: a decider that wants them
gone must request their cancellation itself.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.localswf.helpers import (
    DOMAIN,
    WF,
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

CHILD = "child-1"


def _parent_with_child(client: Any, policy: str, parent_timeout: str = "300") -> tuple[str, str]:
    """wf-1 (child policy ``policy``) starts CHILD; returns (parent run, child run)."""
    setup_domain(client)
    parent_run = start(client, childPolicy=policy, executionStartToCloseTimeout=parent_timeout)
    decide(
        client,
        poll_decision(client),
        d(
            "StartChildWorkflowExecution",
            workflowId=CHILD,
            workflowType=WF,
            executionStartToCloseTimeout="300",
        ),
    )
    child_run = poll_decision(client)["workflowExecution"]["runId"]  # the child's first task
    decide(client, poll_decision(client))  # the parent's ChildWorkflowExecutionStarted
    return parent_run, child_run


def _child(client: Any, child_run: str) -> tuple[dict[str, Any], list[str]]:
    info = describe(client, CHILD, child_run)["executionInfo"]
    return info, types(history(client, CHILD, child_run))


CLOSED_BY_DECIDER = [
    (d("CompleteWorkflowExecution", result="done"), "COMPLETED"),
    (d("FailWorkflowExecution", reason="broken"), "FAILED"),
    (d("CancelWorkflowExecution"), "CANCELED"),
    (d("ContinueAsNewWorkflowExecution", input="again"), "CONTINUED_AS_NEW"),
]


@pytest.mark.parametrize("policy", ["TERMINATE", "REQUEST_CANCEL"])
@pytest.mark.parametrize(("close", "status"), CLOSED_BY_DECIDER)
def test_a_decider_close_leaves_children_running(
    swf_client: Any, policy: str, close: dict[str, Any], status: str
) -> None:
    parent_run, child_run = _parent_with_child(swf_client, policy)
    swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="go")
    decide(swf_client, poll_decision(swf_client), close)
    assert describe(swf_client, "wf-1", parent_run)["executionInfo"]["closeStatus"] == status
    info, events = _child(swf_client, child_run)
    assert info["executionStatus"] == "OPEN"
    assert info["cancelRequested"] is False
    assert "WorkflowExecutionCancelRequested" not in events


def test_terminating_the_parent_applies_terminate(swf_client: Any) -> None:
    _parent_run, child_run = _parent_with_child(swf_client, "TERMINATE")
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    info, _events = _child(swf_client, child_run)
    assert info["closeStatus"] == "TERMINATED"
    assert last(history(swf_client, CHILD, child_run), "WorkflowExecutionTerminated")["cause"] == (
        "CHILD_POLICY_APPLIED"
    )


def test_terminating_the_parent_applies_request_cancel(swf_client: Any) -> None:
    _, child_run = _parent_with_child(swf_client, "TERMINATE")
    swf_client.terminate_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", childPolicy="REQUEST_CANCEL"
    )
    info, _events = _child(swf_client, child_run)
    assert info["executionStatus"] == "OPEN" and info["cancelRequested"] is True
    assert last(history(swf_client, CHILD, child_run), "WorkflowExecutionCancelRequested")[
        "cause"
    ] == ("CHILD_POLICY_APPLIED")


def test_terminating_the_parent_with_abandon_leaves_children(swf_client: Any) -> None:
    _, child_run = _parent_with_child(swf_client, "TERMINATE")
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1", childPolicy="ABANDON")
    info, _events = _child(swf_client, child_run)
    assert info["executionStatus"] == "OPEN" and info["cancelRequested"] is False


@pytest.mark.parametrize(
    ("policy", "child_status", "cancel_requested"),
    [("TERMINATE", "CLOSED", False), ("REQUEST_CANCEL", "OPEN", True), ("ABANDON", "OPEN", False)],
)
def test_a_parent_timeout_applies_its_policy(
    swf_client: Any, policy: str, child_status: str, cancel_requested: bool
) -> None:
    parent_run, child_run = _parent_with_child(swf_client, policy, parent_timeout="2")
    deadline = time.monotonic() + 10
    while describe(swf_client, "wf-1", parent_run)["executionInfo"]["executionStatus"] == "OPEN":
        assert time.monotonic() < deadline, "the parent never timed out"
        time.sleep(0.1)
    assert describe(swf_client, "wf-1", parent_run)["executionInfo"]["closeStatus"] == "TIMED_OUT"
    info, _events = _child(swf_client, child_run)
    assert info["executionStatus"] == child_status
    assert info["cancelRequested"] is cancel_requested
