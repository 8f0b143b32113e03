"""Replays: what it keeps between decision tasks, and when it replays a history whole.

That its answers equal decide()'s is checked on every decision of the engine tests (see
``every_decision_also_incremental`` in conftest.py); these are its own rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from flotod.engine import Replays, decide
from flotod.specs import ActivityTask
from tests.engine.conftest import Recorder, kinds, make_spec
from tests.engine.swfsim import SwfSim

A = ActivityTask("ActivityA", "v1", activity_id="A")
B = ActivityTask("ActivityB", "v1", activity_id="B", requires=[A])
SPEC = make_spec(A, B)


def _two_steps() -> tuple[SwfSim, list[dict[str, Any]]]:
    """A run whose A completed: its first decision task was answered, its second is due."""
    sim = SwfSim()
    first = sim.decision_task()
    sim.respond(decide(first, SPEC))
    sim.complete_activity("A", '"a"')
    return sim, sim.decision_task()


def test_a_run_is_read_once_and_continued() -> None:
    replays = Replays(SPEC)
    sim = SwfSim()
    first = sim.decision_task()
    assert kinds(replays.decide("run", first)) == ["ScheduleActivityTask"]
    assert replays.known("run") == len(first)
    sim.respond(decide(first, SPEC))
    sim.complete_activity("A", '"a"')
    second = sim.decision_task()
    assert replays.decide("run", second) == decide(second, SPEC)
    assert replays.known("run") == len(second)


def test_events_that_do_not_continue_the_kept_ones_are_replayed_whole() -> None:
    replays = Replays(SPEC)
    _, later = _two_steps()
    replays.decide("run", later)
    # The same key now brings a shorter history (another run reusing the key): not a
    # continuation, so the state is rebuilt from these events alone.
    fresh = SwfSim().decision_task()
    assert replays.decide("run", fresh) == decide(fresh, SPEC)
    assert replays.known("run") == len(fresh)


def test_a_replay_that_raises_answers_like_decide_and_keeps_nothing() -> None:
    replays = Replays(SPEC)
    _, later = _two_steps()
    broken = [*later[:-1], {"eventId": len(later)}]  # no eventType
    assert replays.decide("run", broken) == decide(broken, SPEC)
    assert replays.decide("run", broken)[0]["decisionType"] == "FailWorkflowExecution"
    assert replays.known("run") == 0
    assert replays.decide("run", later) == decide(later, SPEC)


def test_the_least_recently_decided_runs_go_first_when_events_exceed_the_bound() -> None:
    history = SwfSim().decision_task()  # 3 events
    replays = Replays(SPEC, max_events=7)
    for key in ("a", "b", "a", "c"):
        replays.decide(key, history)
    assert (replays.known("a"), replays.known("b"), replays.known("c")) == (3, 0, 3)
    assert len(replays) == 2 and replays.events == 6
    replays.drop("a")
    assert replays.known("a") == 0 and replays.events == 3
    small = Replays(SPEC, max_events=2)  # a run larger than the bound is decided, not kept
    assert small.decide("big", history) == decide(history, SPEC)
    assert small.known("big") == 0 and small.events == 0
    with pytest.raises(ValueError, match="at least 1"):
        Replays(SPEC, max_events=0)


def test_a_long_run_costs_its_new_events_only() -> None:
    """A hundred tasks in a row: the kept state ends where a whole replay would."""
    tasks = [ActivityTask("T", "1", activity_id=f"t{i}") for i in range(100)]
    spec = make_spec(*tasks)
    replays = Replays(spec)
    sim = SwfSim()
    worker = Recorder()
    while sim.closed is None:
        events = sim.decision_task()
        answer = replays.decide("run", events, "wf")
        assert answer == decide(events, spec, "wf")
        sim.respond(answer)
        for activity_id in list(sim.open_activities)[:7]:  # a few complete per task
            sim.complete_activity(activity_id, worker(activity_id, "T", "1", {}))
    assert sim.closed == "WorkflowExecutionCompleted"
