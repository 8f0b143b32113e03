"""Requests SWF refuses for breaking its model's constraints are refused here the same way."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from flotod.localswf.validation import check_request
from tests.localswf.helpers import (
    DOMAIN,
    WF,
    d,
    decide,
    describe,
    history,
    poll_activity,
    poll_decision,
    schedule,
    setup_domain,
    start,
)


def _refused(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    return str(error["Message"])


def test_a_result_over_32768_characters_is_refused_and_the_task_stays_open(
    swf_client: Any,
) -> None:
    setup_domain(swf_client)
    start(swf_client)
    decide(swf_client, poll_decision(swf_client), schedule("a1"))
    task = poll_activity(swf_client)
    message = _refused(
        swf_client.respond_activity_task_completed,
        taskToken=task["taskToken"],
        result="x" * 32_769,
    )
    assert message.startswith("1 validation error detected: Value 'xxxx")
    assert "at 'result' failed to satisfy constraint: Member must have length less than or " \
        "equal to 32768" in message  # fmt: skip
    assert len(message) < 400, "the rejected value is quoted, not echoed whole"
    # Nothing was recorded: the same task can still complete with a result that fits.
    swf_client.respond_activity_task_completed(taskToken=task["taskToken"], result="x" * 32_768)


def test_a_decision_attribute_is_named_by_its_path(swf_client: Any) -> None:
    setup_domain(swf_client)
    start(swf_client)
    task = poll_decision(swf_client)
    message = _refused(
        swf_client.respond_decision_task_completed,
        taskToken=task["taskToken"],
        decisions=[schedule("a1"), schedule("a2", input="i" * 40_000, control="c" * 32_769)],
    )
    assert message.startswith("2 validation errors detected: ")
    assert "at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.control'" in message
    assert "at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.input'" in message
    decide(swf_client, task, schedule("a1"))  # the task was left as it was


def test_enum_values_and_number_ranges_are_checked(swf_client: Any) -> None:
    setup_domain(swf_client)
    message = _refused(
        swf_client.start_workflow_execution,
        domain=DOMAIN,
        workflowId="w",
        workflowType=WF,
        childPolicy="ABANDON_ALL",
    )
    assert "at 'childPolicy' failed to satisfy constraint: Member must satisfy enum value set: " \
        "[TERMINATE, REQUEST_CANCEL, ABANDON]" in message  # fmt: skip
    message = _refused(
        swf_client.list_open_workflow_executions,
        domain=DOMAIN,
        startTimeFilter={"oldestDate": 0},
        maximumPageSize=1001,
    )
    assert "Value '1001' at 'maximumPageSize'" in message
    assert "Member must have value less than or equal to 1000" in message


def test_identity_and_reason_limits(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    message = _refused(
        swf_client.poll_for_decision_task,
        domain=DOMAIN,
        taskList={"name": "deciders"},
        identity="h" * 257,
    )
    assert "at 'identity'" in message and "less than or equal to 256" in message
    decide(swf_client, poll_decision(swf_client), schedule("a1"))
    task = poll_activity(swf_client)
    message = _refused(
        swf_client.respond_activity_task_failed, taskToken=task["taskToken"], reason="r" * 257
    )
    assert "at 'reason'" in message
    assert describe(swf_client, "wf-1", run_id)["openCounts"]["openActivityTasks"] == 1


def test_the_checker_alone() -> None:
    check_request("CountPendingActivityTasks", {"domain": "d", "taskList": {"name": "t"}})
    with pytest.raises(Exception, match=r"Value null at 'taskList\.name'.*must not be null"):
        check_request("CountPendingActivityTasks", {"domain": "d", "taskList": {}})
    with pytest.raises(Exception, match="length greater than or equal to 1"):
        check_request("CountPendingActivityTasks", {"domain": "", "taskList": {"name": "t"}})
    check_request("NoSuchOperation", {"anything": "x" * 100_000})  # left to the dispatcher
    check_request("SignalWorkflowExecution", ["not", "a", "dict"])  # the operation refuses it


def test_a_run_whose_history_reaches_the_limit_is_terminated(
    swf_client: Any, swf_backend: Any
) -> None:
    """SWF's limit is 25,000 events; the backend's is lowered here to reach it in 40 calls."""
    swf_backend.history_limit = 40
    setup_domain(swf_client)
    run_id = start(swf_client)
    for n in range(60):
        try:
            swf_client.signal_workflow_execution(
                domain=DOMAIN, workflowId="wf-1", signalName=f"s{n}"
            )
        except ClientError as exc:  # the run closed: SWF no longer knows it as open
            assert exc.response["Error"]["Code"] == "UnknownResourceFault"
            break
    info = describe(swf_client, "wf-1", run_id)["executionInfo"]
    assert info["executionStatus"] == "CLOSED" and info["closeStatus"] == "TERMINATED"
    events = swf_client.get_workflow_execution_history(
        domain=DOMAIN, execution={"workflowId": "wf-1", "runId": run_id}
    )["events"]
    assert len(events) == 40
    last = events[-1]
    assert last["eventType"] == "WorkflowExecutionTerminated"
    assert last["workflowExecutionTerminatedEventAttributes"]["cause"] == "EVENT_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    "close",
    [
        d("CompleteWorkflowExecution"),
        d("FailWorkflowExecution", reason="r"),
        d("CancelWorkflowExecution"),
        d("ContinueAsNewWorkflowExecution", input="next"),
    ],
)
def test_a_closing_decision_that_is_not_last_refuses_the_whole_response(
    swf_client: Any, close: dict[str, Any]
) -> None:
    """SWF answers HTTP 400 "Close must be last decision in list" and records nothing, the
    task staying open (measured against SWF: https://github.com/floci-io/floci/pull/2257,
    "Closing decision not last"; the four closing decisions: the Decision API reference,
    https://docs.aws.amazon.com/amazonswf/latest/apireference/API_Decision.html). The test
    SWF of the engine tests raised here while the embedded SWF ignored what followed a
    continue-as-new: this is now the one rule."""
    setup_domain(swf_client)
    run_id = start(swf_client)
    task = poll_decision(swf_client)
    before = len(history(swf_client, "wf-1", run_id))
    marker = d("RecordMarker", markerName="after")
    message = _refused(
        swf_client.respond_decision_task_completed,
        taskToken=task["taskToken"],
        decisions=[close, marker],
    )
    assert message == "Close must be last decision in list"
    assert len(history(swf_client, "wf-1", run_id)) == before
    decide(swf_client, task, marker, close)  # the same task, answered right
    assert describe(swf_client, "wf-1", run_id)["executionInfo"]["executionStatus"] == "CLOSED"
