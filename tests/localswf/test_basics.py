"""A whole workflow by hand, and the decision rules SWF enforces."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localswf.helpers import (
    ACTIVITIES,
    DECISIONS,
    DOMAIN,
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


def test_single_activity_workflow_keeps_falsy_values(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client, input="")
    first = poll_decision(swf_client)
    assert first["previousStartedEventId"] == 0
    assert types(first["events"]) == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    assert attrs(first["events"][0])["input"] == ""
    decide(swf_client, first, schedule(input="0"))
    task = poll_activity(swf_client)
    assert (task["activityId"], task["input"]) == ("a1", "0")
    swf_client.respond_activity_task_completed(taskToken=task["taskToken"], result="")
    second = poll_decision(swf_client)
    assert second["previousStartedEventId"] == first["startedEventId"]
    assert last(second["events"], "ActivityTaskCompleted")["result"] == ""
    decide(swf_client, second, d("CompleteWorkflowExecution", result="0"))
    events = history(swf_client, "wf-1", run_id)
    assert last(events, "WorkflowExecutionCompleted")["result"] == "0"
    info = describe(swf_client, "wf-1", run_id)["executionInfo"]
    assert (info["executionStatus"], info["closeStatus"]) == ("CLOSED", "COMPLETED")
    with pytest.raises(ClientError) as err:
        swf_client.respond_activity_task_completed(taskToken=task["taskToken"], result="x")
    assert err.value.response["Error"]["Code"] == "UnknownResourceFault"


def test_two_signals_schedule_one_decision_task(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(swf_client, poll_decision(swf_client))
    swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="a")
    swf_client.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="b", input="x"
    )
    assert (
        swf_client.count_pending_decision_tasks(domain=DOMAIN, taskList={"name": DECISIONS})[
            "count"
        ]
        == 1
    )
    task = poll_decision(swf_client)
    signals = [attrs(e) for e in task["events"] if e["eventType"] == "WorkflowExecutionSignaled"]
    assert signals == [{"signalName": "a"}, {"signalName": "b", "input": "x"}]
    assert types(history(swf_client, "wf-1", run_id)).count("DecisionTaskScheduled") == 2


def test_close_with_unseen_events_fails_with_unhandled_decision(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    task = poll_decision(swf_client)
    swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="late")
    decide(swf_client, task, d("CompleteWorkflowExecution", result="done"))
    failed = last(history(swf_client, "wf-1", run_id), "CompleteWorkflowExecutionFailed")
    assert failed["cause"] == "UNHANDLED_DECISION"
    assert describe(swf_client, "wf-1", run_id)["executionInfo"]["executionStatus"] == "OPEN"
    again = poll_decision(swf_client)  # the decider gets another chance
    decide(swf_client, again, d("CompleteWorkflowExecution", result="done"))
    assert describe(swf_client, "wf-1", run_id)["executionInfo"]["closeStatus"] == "COMPLETED"


def test_bad_decisions_become_failed_events_not_errors(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    task = poll_decision(swf_client)
    decide(
        swf_client,
        task,
        d("ScheduleActivityTask", activityId="x", activityType={"name": "nope", "version": "1"}),
        d("StartTimer", timerId="t", startToFireTimeout="60"),
        d("StartTimer", timerId="t", startToFireTimeout="60"),
        d("CancelTimer", timerId="unknown"),
        d("RequestCancelActivityTask", activityId="unknown"),
    )
    events = history(swf_client, "wf-1", run_id)
    assert last(events, "ScheduleActivityTaskFailed")["cause"] == "ACTIVITY_TYPE_DOES_NOT_EXIST"
    assert last(events, "StartTimerFailed")["cause"] == "TIMER_ID_ALREADY_IN_USE"
    assert last(events, "CancelTimerFailed")["cause"] == "TIMER_ID_UNKNOWN"
    assert last(events, "RequestCancelActivityTaskFailed")["cause"] == "ACTIVITY_ID_UNKNOWN"
    follow_up = poll_decision(swf_client)  # failures come back to the decider, once
    assert follow_up["previousStartedEventId"] == task["startedEventId"]
    assert types(events).count("DecisionTaskScheduled") == 2


def test_malformed_decisions_are_rejected_with_400(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    task = poll_decision(swf_client)
    with pytest.raises(ClientError) as err:
        decide(swf_client, task, {"decisionType": "StartTimer"})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    decide(swf_client, task, d("CompleteWorkflowExecution"))  # the task is still usable
    assert describe(swf_client, "wf-1", run_id)["executionInfo"]["closeStatus"] == "COMPLETED"


def test_no_activity_task_is_handed_out_for_a_closed_execution(swf_client: Any) -> None:
    setup_domain(swf_client)
    start(swf_client)
    decide(swf_client, poll_decision(swf_client), schedule("a1"), schedule("a2"))
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1", reason="stop")
    empty = swf_client.poll_for_activity_task(domain=DOMAIN, taskList={"name": ACTIVITIES})
    assert not empty.get("taskToken")
    assert (
        swf_client.count_pending_activity_tasks(domain=DOMAIN, taskList={"name": ACTIVITIES})[
            "count"
        ]
        == 0
    )


def test_duplicate_workflow_id_and_unknown_names(swf_client: Any) -> None:
    setup_domain(swf_client)
    start(swf_client)
    with pytest.raises(ClientError) as err:
        start(swf_client)
    assert err.value.response["Error"]["Code"] == "WorkflowExecutionAlreadyStartedFault"
    with pytest.raises(ClientError) as err:
        swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="nope", signalName="s")
    assert err.value.response["Error"]["Code"] == "UnknownResourceFault"
    with pytest.raises(ClientError) as err:
        swf_client.poll_for_decision_task(domain="missing", taskList={"name": DECISIONS})
    assert err.value.response["Error"]["Code"] == "UnknownResourceFault"
