"""The compiled reply parser gives exactly what botocore's own parser gives, only faster."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.parsers import JSONParser

from flotod.swf import SwfClient
from flotod.swf.replies import AVAILABLE, EACH, SwfReplyParser, timestamp_paths

from ..conftest import endpoint_client


@pytest.fixture(scope="module")
def model() -> Any:
    client = boto3.session.Session().client(
        "swf", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    return client.meta.service_model


def _reply(body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {
        "body": json.dumps(body).encode(),
        "headers": {"x-amzn-requestid": "req-1", "content-type": "application/x-amz-json-1.0"},
        "status_code": status,
        "context": {},
    }


def _event(event_id: int, stamp: float, kind: str, **attrs: Any) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "EventAttributes"
    return {"eventId": event_id, "eventTimestamp": stamp, "eventType": kind, key: attrs}


HISTORY = [
    _event(1, 1_790_000_000.125, "WorkflowExecutionStarted", input='{"a": 1}',
           workflowType={"name": "wf", "version": "1"}, taskList={"name": "t"},
           childPolicy="TERMINATE", taskStartToCloseTimeout="60",
           executionStartToCloseTimeout="3600", tagList=["x", "y"]),
    _event(2, 1_790_000_001, "DecisionTaskScheduled", taskList={"name": "t"},
           startToCloseTimeout="60"),
    _event(3, 1_790_000_002.5, "DecisionTaskStarted", scheduledEventId=2, identity="me"),
]  # fmt: skip

REPLIES: dict[str, dict[str, Any]] = {
    "PollForDecisionTask": {
        "taskToken": "tok",
        "startedEventId": 3,
        "previousStartedEventId": 0,
        "workflowExecution": {"workflowId": "w", "runId": "r"},
        "workflowType": {"name": "wf", "version": "1"},
        "events": HISTORY,
        "nextPageToken": "page-2",
    },
    "PollForActivityTask": {
        "taskToken": "tok", "activityId": "a", "startedEventId": 5, "input": "{}",
        "workflowExecution": {"workflowId": "w", "runId": "r"},
        "activityType": {"name": "act", "version": "1"},
    },
    "GetWorkflowExecutionHistory": {"events": HISTORY},
    "ListOpenWorkflowExecutions": {"executionInfos": [
        {"execution": {"workflowId": "w", "runId": "r"},
         "workflowType": {"name": "wf", "version": "1"}, "startTimestamp": 1_790_000_000,
         "executionStatus": "OPEN", "cancelRequested": False, "tagList": []},
        {"execution": {"workflowId": "v", "runId": "s"},
         "workflowType": {"name": "wf", "version": "1"}, "startTimestamp": 1_790_000_000.5,
         "closeTimestamp": 1_790_000_009.25, "executionStatus": "CLOSED",
         "closeStatus": "COMPLETED", "cancelRequested": False},
    ]},
    "DescribeWorkflowExecution": {
        "executionInfo": {"execution": {"workflowId": "w", "runId": "r"},
                          "workflowType": {"name": "wf", "version": "1"},
                          "startTimestamp": 1_790_000_000, "executionStatus": "OPEN",
                          "cancelRequested": False},
        "executionConfiguration": {"taskStartToCloseTimeout": "60",
                                   "executionStartToCloseTimeout": "3600",
                                   "taskList": {"name": "t"}, "childPolicy": "TERMINATE"},
        "openCounts": {"openActivityTasks": 1, "openDecisionTasks": 0, "openTimers": 0,
                       "openChildWorkflowExecutions": 0, "openLambdaFunctions": 0},
        "latestActivityTaskTimestamp": 1_790_000_003,
    },
    "ListActivityTypes": {"typeInfos": [
        {"activityType": {"name": "act", "version": "1"}, "status": "DEPRECATED",
         "creationDate": 1_790_000_000, "deprecationDate": "2026-11-27T10:00:00Z"},
    ]},
    "CountOpenWorkflowExecutions": {"count": 3, "truncated": False},
    "RespondDecisionTaskCompleted": {},
}  # fmt: skip


@pytest.mark.parametrize("operation", sorted(REPLIES))
def test_same_result_as_botocore(model: Any, operation: str) -> None:
    shape = model.operation_model(operation).output_shape
    reply = _reply(REPLIES[operation])
    expected = JSONParser().parse(dict(reply), shape)
    got = SwfReplyParser().parse(dict(reply), shape)
    assert got == expected
    assert got["ResponseMetadata"]["RequestId"] == "req-1"


def test_timestamps_become_utc_datetimes(model: Any) -> None:
    shape = model.operation_model("PollForDecisionTask").output_shape
    got = SwfReplyParser().parse(_reply(REPLIES["PollForDecisionTask"]), shape)
    stamps = [event["eventTimestamp"] for event in got["events"]]
    assert stamps[0] == datetime(2026, 9, 21, 14, 13, 20, 125000, tzinfo=UTC)
    assert all(isinstance(s, datetime) and s.tzinfo is UTC for s in stamps)


def test_every_swf_reply_compiles(model: Any) -> None:
    """SWF's model has nothing the fast path must hand back to botocore; if a new botocore
    adds such a shape, the fallback still parses it, but this says it is no longer fast."""
    for name in model.operation_names:
        shape = model.operation_model(name).output_shape
        if shape is not None:
            assert timestamp_paths(shape) is not None, name
    history = model.operation_model("PollForDecisionTask").output_shape
    assert timestamp_paths(history) == (("events", EACH, "eventTimestamp"),)


def test_errors_go_through_botocore(model: Any) -> None:
    shape = model.operation_model("PollForDecisionTask").output_shape
    body = {"__type": "com.amazonaws.swf.base.model#UnknownResourceFault", "message": "no"}
    got = SwfReplyParser().parse(_reply(body, status=400), shape)
    assert got["Error"]["Code"] == "UnknownResourceFault"
    assert got["Error"]["Message"] == "no"


def test_a_body_that_is_not_json_is_left_to_botocore(model: Any) -> None:
    shape = model.operation_model("CountOpenWorkflowExecutions").output_shape
    reply = _reply({})
    reply["body"] = b"<html>gateway</html>"
    assert SwfReplyParser().parse(dict(reply), shape) == JSONParser().parse(dict(reply), shape)


def test_the_client_uses_it_against_the_embedded_swf(swf_endpoint: str, unique_domain: str) -> None:
    """A real history, read by flotod's client and by stock boto3 from the same endpoint."""
    assert AVAILABLE
    swf = SwfClient(swf_endpoint, "us-east-1", access_key_id="local", secret_access_key="local")
    assert isinstance(swf.boto_client._endpoint._response_parser_factory.create_parser("json"),
                      SwfReplyParser)  # fmt: skip
    swf.register_domain(unique_domain)
    swf.register_workflow_type(unique_domain, "wf", "1", task_list="decide")
    run_id = swf.start_workflow_execution(unique_domain, "w1", "wf", "1", input={"n": 1})
    task = swf.poll_for_decision_task(unique_domain, "decide")
    assert task is not None
    stock = endpoint_client(swf_endpoint)
    reference = stock.get_workflow_execution_history(
        domain=unique_domain, execution={"workflowId": "w1", "runId": run_id}
    )["events"]
    assert task.events == reference
    assert isinstance(task.events[0]["eventTimestamp"], datetime)
    listed = swf.list_open_workflow_executions(unique_domain, workflow_id="w1")
    stock_listed = stock.list_open_workflow_executions(
        domain=unique_domain, startTimeFilter={"oldestDate": 0}
    )["executionInfos"]
    assert listed == stock_listed
