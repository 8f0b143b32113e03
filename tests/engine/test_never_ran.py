"""A task that never ran is scheduled again at once, outside its retry budget.

A stopping worker abandons its idle long polls; a task SWF hands to such a poll is started by
nobody. Its worker records a first heartbeat (STARTED_DETAILS) the moment a lane takes a task,
so an ActivityTaskTimedOut without details proves the task never ran, and a task received
while stopping is handed back (ActivityTaskFailed, HANDED_BACK_REASON). Neither is an attempt.
A quick stop's "worker shutdown" failure is: the activity did run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from flotod.engine import RESERVED_KEY, decide
from flotod.engine.handback import MAX_FREE_RUNS
from flotod.protocol import HANDED_BACK_REASON, SHUTDOWN_REASON, STARTED_DETAILS
from flotod.specs import ActivityTask, ExponentialRetry, InstantRetry, RetryStrategy
from tests.engine.conftest import attrs, kinds, make_spec
from tests.engine.swfsim import SwfSim

NEVER_RAN: dict[str, Callable[[SwfSim], None]] = {
    "schedule_to_start timeout": lambda sim: sim.timeout_activity("A", "SCHEDULE_TO_START"),
    "start_to_close, no heartbeat": lambda sim: sim.timeout_activity("A", "START_TO_CLOSE"),
    "heartbeat, empty details": lambda sim: sim.timeout_activity("A", "HEARTBEAT", details=""),
    "handed back": lambda sim: sim.fail_activity("A", HANDED_BACK_REASON),
}


def first_attempt(strategy: RetryStrategy | None) -> tuple[SwfSim, Any]:
    spec = make_spec(ActivityTask("a", "1", activity_id="A", retry_strategy=strategy))
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    return sim, spec


def attempt_sent(decision: dict[str, Any]) -> int:
    return int(json.loads(attrs(decision)["input"])[RESERVED_KEY]["attempt"])


@pytest.mark.parametrize("close", NEVER_RAN.values(), ids=NEVER_RAN.keys())
@pytest.mark.parametrize(
    "strategy", [None, InstantRetry(0), ExponentialRetry(2, 600)], ids=["none", "0", "exp"]
)
def test_a_task_that_never_ran_is_scheduled_again_at_once_as_the_same_attempt(
    close: Callable[[SwfSim], None], strategy: RetryStrategy | None
) -> None:
    sim, spec = first_attempt(strategy)
    close(sim)
    again = decide(sim.decision_task(), spec)
    assert kinds(again) == ["ScheduleActivityTask"]  # no retry timer, no failure
    assert attempt_sent(again[0]) == 1
    sim.respond(again)
    sim.complete_activity("A", '"ok"')
    assert kinds(decide(sim.decision_task(), spec)) == ["CompleteWorkflowExecution"]


@pytest.mark.parametrize(
    "close",
    [
        lambda sim: sim.timeout_activity("A", "START_TO_CLOSE", details=STARTED_DETAILS),
        lambda sim: sim.timeout_activity("A", "HEARTBEAT", details='{"progress": 3}'),
        lambda sim: sim.fail_activity("A", SHUTDOWN_REASON),
        lambda sim: sim.fail_activity("A", "ValueError", "bad input"),
    ],
    ids=["timed out after starting", "heartbeat with details", "worker shutdown", "failed"],
)
def test_a_task_that_ran_spends_an_attempt(close: Callable[[SwfSim], None]) -> None:
    sim, spec = first_attempt(InstantRetry(1))
    close(sim)
    again = decide(sim.decision_task(), spec)
    assert kinds(again) == ["ScheduleActivityTask"] and attempt_sent(again[0]) == 2
    sim.respond(again)
    close(sim)
    final = decide(sim.decision_task(), spec)
    assert attrs(final[0])["reason"] == "task_retry_limit_reached"


def test_free_runs_are_bounded_so_a_broken_worker_cannot_loop_forever() -> None:
    sim, spec = first_attempt(InstantRetry(1))
    for _ in range(MAX_FREE_RUNS):
        sim.fail_activity("A", HANDED_BACK_REASON)
        again = decide(sim.decision_task(), spec)
        assert attempt_sent(again[0]) == 1
        sim.respond(again)
    sim.fail_activity("A", HANDED_BACK_REASON)  # one more: counted as attempt 1
    again = decide(sim.decision_task(), spec)
    assert attempt_sent(again[0]) == 2
    sim.respond(again)
    sim.timeout_activity("A", "SCHEDULE_TO_START")
    final = decide(sim.decision_task(), spec)
    assert attrs(final[0])["reason"] == "task_retry_limit_reached"
    details = json.loads(attrs(final[0])["details"])["failed_tasks"][0]
    assert details["reason"] == "timeout: SCHEDULE_TO_START"
