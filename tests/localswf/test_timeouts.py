"""Every timeout SWF enforces, with the events and the decision task it schedules."""

from __future__ import annotations

import time
from typing import Any

import pytest

from flotod.localswf import in_process_client, make_backend
from tests.localswf.helpers import (
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


def _wait_for(client: Any, run_id: str, kind: str, limit: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        events = history(client, "wf-1", run_id)
        found = [e for e in events if e["eventType"] == kind]
        if found:
            return attrs(found[-1])
        time.sleep(0.05)
    raise AssertionError(f"no {kind} within {limit}s")


@pytest.mark.parametrize(
    ("timeouts", "start_it", "expected"),
    [
        ({"scheduleToStartTimeout": "1"}, False, "SCHEDULE_TO_START"),
        ({"scheduleToCloseTimeout": "1"}, True, "SCHEDULE_TO_CLOSE"),
        ({"startToCloseTimeout": "1"}, True, "START_TO_CLOSE"),
        ({"heartbeatTimeout": "1"}, True, "HEARTBEAT"),
    ],
)
def test_activity_timeouts(
    swf_client: Any, timeouts: dict[str, str], start_it: bool, expected: str
) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(swf_client, poll_decision(swf_client), schedule(**timeouts))
    if start_it:
        task = poll_activity(swf_client)
        swf_client.record_activity_task_heartbeat(taskToken=task["taskToken"], details="50%")
    timed_out = _wait_for(swf_client, run_id, "ActivityTaskTimedOut")
    assert timed_out["timeoutType"] == expected
    if start_it:
        assert timed_out["details"] == "50%"
    follow_up = poll_decision(swf_client)
    assert follow_up["events"][-3]["eventType"] == "ActivityTaskTimedOut"


def test_heartbeats_keep_an_activity_alive_counted_from_its_start(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    decide(swf_client, poll_decision(swf_client), schedule(heartbeatTimeout="1"))
    time.sleep(1.2)  # waiting before the start does not count against the heartbeat
    task = poll_activity(swf_client)
    for _ in range(3):
        time.sleep(0.5)
        answer = swf_client.record_activity_task_heartbeat(taskToken=task["taskToken"])
        assert answer["cancelRequested"] is False
    swf_client.respond_activity_task_completed(taskToken=task["taskToken"], result="r")
    assert last(history(swf_client, "wf-1", run_id), "ActivityTaskCompleted")["result"] == "r"


def test_decision_task_timeout_schedules_a_new_one(swf_client: Any) -> None:
    setup_domain(swf_client, task_timeout="1")
    run_id = start(swf_client)
    lost = poll_decision(swf_client)
    timed_out = _wait_for(swf_client, run_id, "DecisionTaskTimedOut")
    assert timed_out["timeoutType"] == "START_TO_CLOSE"
    retry = poll_decision(swf_client)
    assert retry["taskToken"] != lost["taskToken"]
    decide(swf_client, retry, {"decisionType": "CompleteWorkflowExecution"})
    assert describe(swf_client, "wf-1", run_id)["executionInfo"]["closeStatus"] == "COMPLETED"


def test_workflow_execution_timeout(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client, executionStartToCloseTimeout="1", taskStartToCloseTimeout="NONE")
    decide(swf_client, poll_decision(swf_client), schedule())
    timed_out = _wait_for(swf_client, run_id, "WorkflowExecutionTimedOut")
    assert timed_out["timeoutType"] == "START_TO_CLOSE"
    info = describe(swf_client, "wf-1", run_id)
    assert info["executionInfo"]["closeStatus"] == "TIMED_OUT"
    assert info["openCounts"]["openActivityTasks"] == 0


def test_manual_deadlines_fire_only_when_told() -> None:
    """``make_backend(manual_deadlines=True)``: no clock thread; a test fires each deadline."""
    backend = make_backend(poll_timeout=0.1, manual_deadlines=True)
    try:
        client = in_process_client(backend)
        setup_domain(client)
        run_id = start(client)
        decide(
            client,
            poll_decision(client),
            d("StartTimer", timerId="now", startToFireTimeout="0"),
        )
        time.sleep(0.3)
        wfe = backend.find_run(DOMAIN, "wf-1", run_id)
        assert list(wfe.open_timers) == ["now"]  # due, but nobody fired it
        assert backend.scheduler.fire(wfe.open_timers["now"][1]) is True
        assert "TimerFired" in types(history(client, "wf-1", run_id))
        assert not wfe.open_timers
    finally:
        backend.close()
