"""Injected decision failures: ScheduleActivityTask, StartTimer and StartChildWorkflowExecution
refused for a rate or a limit, as SWF reports it (a ``...Failed`` event with that cause and a
new decision task), so that tests can prove a decider treats these as transient."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from flotod.localswf import in_process_client, make_backend
from flotod.localswf.faults import DECISION_FAILURE_CAUSES, DecisionFaults
from tests.conftest import endpoint_client
from tests.localswf.helpers import (
    WF,
    attrs,
    d,
    decide,
    history,
    poll_decision,
    schedule,
    setup_domain,
    start,
    types,
)

STARTING = [
    schedule("a1"),
    d("StartTimer", timerId="t1", startToFireTimeout="600"),
    d("StartChildWorkflowExecution", workflowId="kid", workflowType=WF),
]
FAILED = {
    "ScheduleActivityTask": "ScheduleActivityTaskFailed",
    "StartTimer": "StartTimerFailed",
    "StartChildWorkflowExecution": "StartChildWorkflowExecutionFailed",
}


def _new_events(client: Any, share: float, seed: int = 0) -> list[dict[str, Any]]:
    setup_domain(client)
    start(client)
    task = poll_decision(client)
    decide(client, task, *STARTING)
    run_id = task["workflowExecution"]["runId"]
    return [e for e in history(client, "wf-1", run_id) if e["eventId"] > task["startedEventId"]]


def test_off_by_default() -> None:
    backend = make_backend(poll_timeout=0.1)
    try:
        assert backend.decision_faults is None
        events = _new_events(in_process_client(backend), 0.0)
        assert not [t for t in types(events) if t.endswith("Failed")]
    finally:
        backend.close()


def test_every_starting_decision_fails_with_a_transient_cause() -> None:
    backend = make_backend(poll_timeout=0.1, decision_failure_share=1.0)
    try:
        events = _new_events(in_process_client(backend), 1.0)
    finally:
        backend.close()
    kinds = types(events)
    assert kinds[0] == "DecisionTaskCompleted" and kinds[-1] == "DecisionTaskScheduled"
    completed = events[0]["eventId"]
    for decision, failed in FAILED.items():
        (event,) = [e for e in events if e["eventType"] == failed]
        cause = attrs(event)["cause"]
        assert cause in DECISION_FAILURE_CAUSES[decision], (failed, cause)
        assert attrs(event)["decisionTaskCompletedEventId"] == completed
    assert "ActivityTaskScheduled" not in kinds and "TimerStarted" not in kinds
    assert "ChildWorkflowExecutionStarted" not in kinds
    assert attrs(next(e for e in events if e["eventType"] == FAILED["StartTimer"]))["timerId"] == (
        "t1"
    )
    assert attrs(next(e for e in events if e["eventType"] == FAILED["ScheduleActivityTask"]))[
        "activityId"
    ] == ("a1")


def test_the_same_seed_fails_the_same_decisions() -> None:
    faults = [DecisionFaults(0.5, seed=11) for _ in range(2)]
    draws = [[f.draw("StartTimer") for _ in range(200)] for f in faults]
    assert draws[0] == draws[1]
    assert 40 < sum(1 for cause in draws[0] if cause) < 160
    assert {c for c in draws[0] if c} == set(DECISION_FAILURE_CAUSES["StartTimer"])
    assert DecisionFaults(1.0).draw("RecordMarker") is None  # only the three kinds fail


def test_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        DecisionFaults(1.5)


@pytest.mark.slow
def test_cli_flag() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--inject-decision-failures", "-1"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 64 and "between 0 and 1" in bad.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0",
         "--poll-timeout", "1", "--inject-decision-failures", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        client = endpoint_client(proc.stdout.readline().strip())
        events = _new_events(client, 1.0)
        assert [t for t in types(events) if t.endswith("Failed")] == list(FAILED.values())
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "failing 100% of" in err
