"""The SWF client against moto in-process: every call, end to end through botocore."""

from __future__ import annotations

import json

import pytest

from flotod.errors import AlreadyExistsError, UnknownResourceError, ValidationError
from flotod.specs import ActivityTask as SpecActivityTask
from flotod.specs import task_from_dict
from flotod.swf import SwfClient

from .conftest import DOMAIN

WF = ("wf", "v1")
ACT = ("act", "v1")


def _setup(swf: SwfClient) -> None:
    assert swf.register_workflow_type(DOMAIN, *WF, task_list="decide") is True
    assert swf.register_activity_type(DOMAIN, *ACT, task_list="work") is True


def test_register_is_idempotent(swf: SwfClient) -> None:
    assert swf.register_domain(DOMAIN) is False
    _setup(swf)
    assert swf.register_workflow_type(DOMAIN, *WF) is False
    assert swf.register_activity_type(DOMAIN, *ACT) is False
    info = swf.describe_domain(DOMAIN)
    assert info["domainInfo"]["name"] == DOMAIN
    assert info["configuration"]["workflowExecutionRetentionPeriodInDays"] == "30"


def test_unknown_domain_is_typed(swf: SwfClient) -> None:
    with pytest.raises(UnknownResourceError) as err:
        swf.describe_domain("nope")
    assert err.value.code == "UnknownResourceFault"
    assert err.value.operation == "describe_domain"


def test_start_encodes_input_and_refuses_duplicates(swf: SwfClient) -> None:
    _setup(swf)
    task = SpecActivityTask("a", "1")
    run_id = swf.start_workflow_execution(
        DOMAIN, "w1", *WF, task_list="decide", input={"spec": task, "n": 0}
    )
    assert run_id
    events = swf.get_workflow_execution_history(DOMAIN, "w1", run_id)
    started = events[0]["workflowExecutionStartedEventAttributes"]
    decoded = json.loads(started["input"])
    assert decoded["n"] == 0
    assert task_from_dict(decoded["spec"]) == task
    swf.start_workflow_execution(DOMAIN, "w2", *WF, task_list="decide", input="raw text")
    assert swf.list_open_workflow_executions(DOMAIN, workflow_id="w2")
    with pytest.raises(AlreadyExistsError):
        swf.start_workflow_execution(DOMAIN, "w1", *WF, task_list="decide")


def test_empty_polls_are_none(swf: SwfClient) -> None:
    _setup(swf)
    assert swf.poll_for_decision_task(DOMAIN, "decide") is None
    assert swf.poll_for_activity_task(DOMAIN, "work") is None


def test_decision_and_activity_round_trip(swf: SwfClient) -> None:
    _setup(swf)
    run_id = swf.start_workflow_execution(DOMAIN, "w1", *WF, task_list="decide")
    task = swf.poll_for_decision_task(DOMAIN, "decide")
    assert task is not None
    assert task.workflow_execution.run_id == run_id
    assert task.workflow_type == {"name": "wf", "version": "v1"}
    assert task.previous_started_event_id == 0
    assert [e["eventType"] for e in task.events][-1] == "DecisionTaskStarted"
    assert task.started_event_id == task.events[-1]["eventId"]
    schedule = {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityId": "a1",
            "activityType": {"name": "act", "version": "v1"},
            "taskList": {"name": "work"},
            "input": '{"x": 1}',
        },
    }
    swf.respond_decision_task_completed(task.task_token, [schedule], execution_context="ctx")
    act = swf.poll_for_activity_task(DOMAIN, "work")
    assert act is not None
    assert (act.activity_id, act.name, act.version, act.input) == ("a1", "act", "v1", '{"x": 1}')
    assert act.workflow_execution.workflow_id == "w1"
    assert swf.record_activity_task_heartbeat(act.task_token, "x" * 5000) is False
    swf.respond_activity_task_completed(act.task_token, '"done"')
    events = swf.get_workflow_execution_history(DOMAIN, "w1", run_id)
    completed = [e for e in events if e["eventType"] == "ActivityTaskCompleted"]
    assert completed[0]["activityTaskCompletedEventAttributes"]["result"] == '"done"'
    newest_first = swf.get_workflow_execution_history(DOMAIN, "w1", run_id, reverse=True)
    assert newest_first[0]["eventId"] == events[-1]["eventId"]
    second = swf.poll_for_decision_task(DOMAIN, "decide")
    assert second is not None
    assert second.previous_started_event_id == task.started_event_id


def test_activity_failure_is_recorded_and_clipped(swf: SwfClient) -> None:
    _setup(swf)
    run_id = swf.start_workflow_execution(DOMAIN, "w1", *WF, task_list="decide")
    task = swf.poll_for_decision_task(DOMAIN, "decide")
    assert task is not None
    swf.respond_decision_task_completed(
        task.task_token,
        [
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityId": "a1",
                    "activityType": {"name": "act", "version": "v1"},
                    "taskList": {"name": "work"},
                },
            }
        ],
    )
    act = swf.poll_for_activity_task(DOMAIN, "work")
    assert act is not None
    assert act.input == ""
    swf.respond_activity_task_failed(act.task_token, "R" * 400, "d" * 40_000)
    events = swf.get_workflow_execution_history(DOMAIN, "w1", run_id)
    failed = next(e for e in events if e["eventType"] == "ActivityTaskFailed")
    attrs = failed["activityTaskFailedEventAttributes"]
    assert len(attrs["reason"]) == 256
    assert len(attrs["details"]) == 32_768
    assert attrs["details"].endswith("[truncated]")
    with pytest.raises(ValidationError):
        swf.respond_activity_task_completed("not-a-token", None)


def test_signal_terminate_describe_and_list(swf: SwfClient) -> None:
    _setup(swf)
    run_id = swf.start_workflow_execution(DOMAIN, "w1", *WF, task_list="decide", tags=["t1"])
    swf.signal_workflow_execution(DOMAIN, "w1", "go", input={"k": [1, 2]})
    history = swf.get_workflow_execution_history(DOMAIN, "w1", run_id)
    signal = next(e for e in history if e["eventType"] == "WorkflowExecutionSignaled")
    assert json.loads(signal["workflowExecutionSignaledEventAttributes"]["input"]) == {"k": [1, 2]}
    desc = swf.describe_workflow_execution(DOMAIN, "w1", run_id)
    assert desc["executionInfo"]["executionStatus"] == "OPEN"
    assert [i["execution"]["workflowId"] for i in swf.list_open_workflow_executions(DOMAIN)] == [
        "w1"
    ]
    assert swf.list_open_workflow_executions(DOMAIN, type_name="wf", type_version="v1")
    assert swf.list_open_workflow_executions(DOMAIN, tag="t1")
    swf.terminate_workflow_execution(DOMAIN, "w1", run_id, reason="test", details="bye")
    assert swf.list_open_workflow_executions(DOMAIN) == []
    # moto compares closeStatusFilter wrongly; the filter's wire form is checked with a Stubber.
    closed = swf.list_closed_workflow_executions(DOMAIN)
    assert [i["execution"]["runId"] for i in closed] == [run_id]
    assert closed[0]["closeStatus"] == "TERMINATED"
    with pytest.raises(ValidationError, match="only one of these filters"):
        swf.list_closed_workflow_executions(DOMAIN, close_status="COMPLETED", tag="t1")
    desc = swf.describe_workflow_execution(DOMAIN, "w1", run_id)
    assert desc["executionInfo"]["closeStatus"] == "TERMINATED"
