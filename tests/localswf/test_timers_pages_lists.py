"""Timers and open counts, paginated histories, list/count filters."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

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


def test_timers_fire_cancel_and_die_with_their_workflow(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(
        swf_client,
        poll_decision(swf_client),
        d("StartTimer", timerId="fast", startToFireTimeout="0"),
        d("StartTimer", timerId="slow", startToFireTimeout="1"),
        d("StartTimer", timerId="never", startToFireTimeout="60"),
    )
    task = poll_decision(swf_client)
    assert last(task["events"], "TimerFired")["timerId"] == "fast"
    assert describe(swf_client, "wf-1", run_id)["openCounts"]["openTimers"] == 2
    decide(swf_client, task, d("CancelTimer", timerId="slow"))
    assert last(history(swf_client, "wf-1", run_id), "TimerCanceled")["timerId"] == "slow"
    swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    time.sleep(1.2)
    events = types(history(swf_client, "wf-1", run_id))
    assert events[-1] == "WorkflowExecutionTerminated"
    assert events.count("TimerFired") == 1
    assert describe(swf_client, "wf-1", run_id)["openCounts"]["openTimers"] == 0


def test_history_pages_forward_and_reverse(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    for i in range(7):
        swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName=f"s{i}")
    whole = history(swf_client, "wf-1", run_id)
    execution = {"workflowId": "wf-1", "runId": run_id}
    seen: list[int] = []
    kwargs: dict[str, Any] = {"reverseOrder": True}
    while True:
        page = swf_client.get_workflow_execution_history(
            domain=DOMAIN, execution=execution, maximumPageSize=3, **kwargs
        )
        assert len(page["events"]) <= 3
        seen.extend(e["eventId"] for e in page["events"])
        if not page.get("nextPageToken"):
            break
        kwargs["nextPageToken"] = page["nextPageToken"]
    assert seen == [e["eventId"] for e in reversed(whole)]
    assert len(whole) == 9


def test_decision_task_history_pages(swf_client: Any) -> None:
    setup_domain(swf_client)
    start(swf_client)
    for i in range(5):
        swf_client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName=f"s{i}")
    first = poll_decision(swf_client, maximumPageSize=3)
    events = list(first["events"])
    token = first.get("nextPageToken")
    while token:
        page = swf_client.poll_for_decision_task(
            domain=DOMAIN, taskList={"name": "deciders"}, maximumPageSize=3, nextPageToken=token
        )
        assert page["taskToken"] == first["taskToken"]
        events.extend(page["events"])
        token = page.get("nextPageToken")
    assert [e["eventId"] for e in events] == list(range(1, first["startedEventId"] + 1))
    decide(swf_client, first)


def test_list_and_count_filters(swf_client: Any) -> None:
    setup_domain(swf_client)
    swf_client.register_workflow_type(domain=DOMAIN, name="other", version="1")
    began = time.time() - 1
    runs = {f"wf-{i}": start(swf_client, f"wf-{i}", tagList=[f"t{i % 2}"]) for i in range(5)}
    swf_client.start_workflow_execution(
        domain=DOMAIN,
        workflowId="x",
        workflowType={"name": "other", "version": "1"},
        taskList={"name": "deciders"},
        executionStartToCloseTimeout="60",
        taskStartToCloseTimeout="10",
        childPolicy="ABANDON",
    )
    for wid in ("wf-0", "wf-1"):
        swf_client.terminate_workflow_execution(domain=DOMAIN, workflowId=wid)
    window = {"oldestDate": began}
    count_open = swf_client.count_open_workflow_executions
    assert count_open(domain=DOMAIN, startTimeFilter=window)["count"] == 4
    assert count_open(domain=DOMAIN, startTimeFilter=window, tagFilter={"tag": "t0"})["count"] == 2
    assert count_open(domain=DOMAIN, startTimeFilter=window, typeFilter=WF)["count"] == 3
    assert (
        count_open(domain=DOMAIN, startTimeFilter=window, executionFilter={"workflowId": "x"})[
            "count"
        ]
        == 1
    )
    closed = swf_client.count_closed_workflow_executions(
        domain=DOMAIN, closeTimeFilter=window, closeStatusFilter={"status": "TERMINATED"}
    )
    assert closed["count"] == 2
    future = {"oldestDate": time.time() + 3600}
    assert count_open(domain=DOMAIN, startTimeFilter=future)["count"] == 0
    listed: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = swf_client.list_open_workflow_executions(
            domain=DOMAIN, startTimeFilter=window, maximumPageSize=2, **kwargs
        )
        listed.extend(info["execution"]["workflowId"] for info in page["executionInfos"])
        if not page.get("nextPageToken"):
            break
        kwargs["nextPageToken"] = page["nextPageToken"]
    assert listed == ["x", "wf-4", "wf-3", "wf-2"]  # newest first
    assert set(runs) - set(listed) == {"wf-0", "wf-1"}
    with pytest.raises(ClientError) as err:
        swf_client.list_closed_workflow_executions(
            domain=DOMAIN,
            startTimeFilter=window,
            tagFilter={"tag": "t0"},
            closeStatusFilter={"status": "TERMINATED"},
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
