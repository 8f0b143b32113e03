"""The client's own logic: pagination, retries, error translation, timeouts.

A botocore Stubber answers here: these are about what the client does with SWF's answers,
which moto cannot produce (pages, throttling). Connection and credential failures are real.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from structlog.testing import capture_logs

from flotod.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    LimitExceededError,
    SwfError,
    TransientSwfError,
    TypeDeprecatedError,
    UnknownResourceError,
    ValidationError,
)
from flotod.swf import RetryPolicy, SwfClient

EXECUTION = {"workflowId": "w", "runId": "r"}
WF_TYPE = {"name": "wf", "version": "1"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def stubbed(env: None, sleeps: list[float]) -> Iterator[tuple[SwfClient, Stubber]]:
    boto = boto3.client("swf", region_name="us-east-1")
    policy = RetryPolicy(max_attempts=4, base_seconds=1.0, cap_seconds=3.0, sleep=sleeps.append)
    with Stubber(boto) as stub:
        yield SwfClient.from_boto(boto, retry=policy, identity="me"), stub
        stub.assert_no_pending_responses()


def _event(event_id: int, kind: str = "WorkflowExecutionStarted") -> dict[str, object]:
    return {"eventId": event_id, "eventType": kind, "eventTimestamp": datetime(2026, 1, 1)}


def test_decision_poll_joins_pages(stubbed: tuple[SwfClient, Stubber]) -> None:
    client, stub = stubbed
    params = {"domain": "d", "taskList": {"name": "tl"}, "identity": "me", "maximumPageSize": 2}
    first = {
        "taskToken": "tok",
        "startedEventId": 5,
        "workflowExecution": EXECUTION,
        "workflowType": WF_TYPE,
        "events": [_event(1), _event(2)],
        "nextPageToken": "p2",
    }
    stub.add_response("poll_for_decision_task", first, params)
    stub.add_response(
        "poll_for_decision_task",
        {**first, "events": [_event(3), _event(4)], "nextPageToken": "p3"},
        {**params, "nextPageToken": "p2"},
    )
    last = {k: v for k, v in first.items() if k != "nextPageToken"}
    stub.add_response(
        "poll_for_decision_task",
        {**last, "events": [_event(5, "DecisionTaskStarted")]},
        {**params, "nextPageToken": "p3"},
    )
    task = client.poll_for_decision_task("d", "tl", page_size=2)
    assert task is not None
    assert [e["eventId"] for e in task.events] == [1, 2, 3, 4, 5]
    assert task.previous_started_event_id == 0
    assert task.started_event_id == 5
    assert task.workflow_execution.workflow_id == "w"


def test_empty_token_is_no_task(env: None) -> None:
    # Stubber validates responses and refuses an empty token, which SWF does send; answer
    # through botocore's own before-call hook instead (the mechanism Stubber itself uses).
    boto = boto3.client("swf", region_name="us-east-1")
    http = AWSResponse("https://swf", 200, {}, None)  # type: ignore[arg-type]
    answers = [{"taskToken": "", "startedEventId": 0}, {"startedEventId": 0}]

    def answer(**_: Any) -> Any:
        return http, answers.pop(0)

    boto.meta.events.register("before-call.swf", answer)
    client = SwfClient.from_boto(boto)
    assert client.poll_for_decision_task("d", "tl") is None
    assert client.poll_for_activity_task("d", "tl") is None
    assert answers == []


def test_history_and_listing_join_pages(stubbed: tuple[SwfClient, Stubber]) -> None:
    client, stub = stubbed
    hist = {"domain": "d", "execution": EXECUTION, "reverseOrder": True, "maximumPageSize": 1}
    stub.add_response(
        "get_workflow_execution_history", {"events": [_event(2)], "nextPageToken": "n"}, hist
    )
    stub.add_response(
        "get_workflow_execution_history", {"events": [_event(1)]}, {**hist, "nextPageToken": "n"}
    )
    info = {
        "execution": EXECUTION,
        "workflowType": WF_TYPE,
        "startTimestamp": datetime(2026, 1, 1),
        "executionStatus": "CLOSED",
    }
    oldest = datetime(2026, 1, 1, tzinfo=UTC)
    listing = {
        "domain": "d",
        "startTimeFilter": {"oldestDate": oldest},
        "closeStatusFilter": {"status": "FAILED"},
    }
    stub.add_response(
        "list_closed_workflow_executions",
        {"executionInfos": [info], "nextPageToken": "x"},
        listing,
    )
    stub.add_response(
        "list_closed_workflow_executions",
        {"executionInfos": [info, info]},
        {**listing, "nextPageToken": "x"},
    )
    stub.add_response(
        "count_open_workflow_executions",
        {"count": 7, "truncated": False},
        {"domain": "d", "startTimeFilter": {"oldestDate": oldest}},
    )
    events = client.get_workflow_execution_history("d", "w", "r", reverse=True, page_size=1)
    assert [e["eventId"] for e in events] == [2, 1]
    closed = client.list_closed_workflow_executions("d", oldest_start=oldest, close_status="FAILED")
    assert len(closed) == 3
    assert client.count_open_workflow_executions("d", oldest_start=oldest) == 7


def test_throttling_is_retried_then_succeeds(
    stubbed: tuple[SwfClient, Stubber], sleeps: list[float]
) -> None:
    client, stub = stubbed
    stub.add_client_error("signal_workflow_execution", "ThrottlingException", "Rate exceeded", 400)
    stub.add_client_error("signal_workflow_execution", "ServiceUnavailable", "busy", 503)
    stub.add_response("signal_workflow_execution", {})
    with capture_logs() as logs:
        client.signal_workflow_execution("d", "w", "go")
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 2.0 and 0 <= sleeps[1] <= 3.0
    retries = [entry for entry in logs if entry["event"] == "swf.retry"]
    assert [r["code"] for r in retries] == ["ThrottlingException", "ServiceUnavailable"]
    assert retries[0]["operation"] == "signal_workflow_execution"


def test_retries_are_bounded(stubbed: tuple[SwfClient, Stubber], sleeps: list[float]) -> None:
    client, stub = stubbed
    for _ in range(4):
        stub.add_client_error("start_workflow_execution", "Throttling", "Rate exceeded", 400)
    with pytest.raises(TransientSwfError) as err:
        client.start_workflow_execution("d", "w", "wf", "1")
    assert err.value.code == "Throttling"
    assert len(sleeps) == 3


def test_a_respond_may_retry_longer_than_the_client(
    stubbed: tuple[SwfClient, Stubber], sleeps: list[float]
) -> None:
    client, stub = stubbed  # the client's own policy allows 4 attempts
    for _ in range(6):
        stub.add_client_error(
            "respond_decision_task_completed", "ThrottlingException", "Rate exceeded", 400
        )
    stub.add_response("respond_decision_task_completed", {})
    longer = RetryPolicy(max_attempts=8, base_seconds=0.1, cap_seconds=1.0, sleep=sleeps.append)
    client.respond_decision_task_completed("token", [], retry=longer)
    assert len(sleeps) == 6 and all(0 <= s <= 1.0 for s in sleeps)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("UnknownResourceFault", 400, UnknownResourceError),
        ("com.amazonaws.swf.base.model#UnknownResourceFault", 400, UnknownResourceError),
        ("WorkflowExecutionAlreadyStartedFault", 400, AlreadyExistsError),
        ("TypeDeprecatedFault", 400, TypeDeprecatedError),
        ("DomainDeprecatedFault", 400, TypeDeprecatedError),
        ("LimitExceededFault", 400, LimitExceededError),
        ("OperationNotPermittedFault", 400, AccessDeniedError),
        ("ExpiredTokenException", 400, AccessDeniedError),
        ("UnrecognizedClientException", 400, AccessDeniedError),
        ("ValidationException", 400, ValidationError),
        ("DefaultUndefinedFault", 400, ValidationError),
        ("SomethingNew", 400, SwfError),
    ],
)
def test_error_codes_are_translated(
    stubbed: tuple[SwfClient, Stubber],
    sleeps: list[float],
    code: str,
    status: int,
    error: type[SwfError],
) -> None:
    client, stub = stubbed
    stub.add_client_error("terminate_workflow_execution", code, "msg", status)
    with pytest.raises(SwfError) as err:
        client.terminate_workflow_execution("d", "w")
    assert type(err.value) is error
    assert err.value.code == code.rsplit("#", 1)[-1]
    assert sleeps == []


def test_unknown_5xx_is_transient(stubbed: tuple[SwfClient, Stubber], sleeps: list[float]) -> None:
    client, stub = stubbed
    stub.add_client_error("describe_domain", "Weird", "oops", 502)
    stub.add_response(
        "describe_domain",
        {
            "domainInfo": {"name": "d", "status": "REGISTERED"},
            "configuration": {"workflowExecutionRetentionPeriodInDays": "1"},
        },
    )
    assert client.describe_domain("d")["domainInfo"]["name"] == "d"
    assert len(sleeps) == 1


def test_connection_errors_are_retried_then_transient(env: None, sleeps: list[float]) -> None:
    policy = RetryPolicy(max_attempts=3, sleep=sleeps.append)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    client = SwfClient("http://127.0.0.1:9", "us-east-1", retry=policy, connect_timeout=1)
    with pytest.raises(TransientSwfError, match="describe_domain"):
        client.describe_domain("d")
    assert len(sleeps) == 2


def test_missing_credentials_is_access_denied(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, sleeps: list[float]
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = SwfClient("http://127.0.0.1:9", "us-east-1", retry=RetryPolicy(sleep=sleeps.append))
    with pytest.raises(AccessDeniedError):
        client.describe_domain("d")
    assert sleeps == []
    with pytest.raises(AccessDeniedError, match="nope"):
        SwfClient("http://127.0.0.1:9", "us-east-1", profile="nope")


def test_timeouts_outlast_long_polls(env: None) -> None:
    client = SwfClient("http://127.0.0.1:9", "us-east-1")
    config = client.boto_client.meta.config
    assert config.read_timeout >= 70
    assert config.connect_timeout <= 30
    assert config.retries["total_max_attempts"] == 1
    with pytest.raises(ValueError, match="70"):
        SwfClient("http://127.0.0.1:9", "us-east-1", read_timeout=60)


def test_backoff_is_capped_full_jitter() -> None:
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high

    policy = RetryPolicy(base_seconds=0.5, cap_seconds=5.0, uniform=uniform)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 10)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert all(low == 0.0 for low, _ in bounds)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
