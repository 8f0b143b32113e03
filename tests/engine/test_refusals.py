"""Decisions SWF refuses for a passing reason put the task back after a short timer, without
spending its retries; permanent refusals fail the workflow as before.

Causes from SWF's API model (botocore's swf service-2.json): ScheduleActivityTaskFailed,
StartTimerFailed and StartChildWorkflowExecutionFailed. A rate or an open-count limit passes;
a missing activity type may be a worker still registering it, so it is tried a few times.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flotod.engine import RESERVED_KEY, decide
from flotod.specs import ActivityTask, ChildWorkflow, ExponentialRetry, InstantRetry, Timer
from tests.engine.conftest import Recorder, attrs, decider_for, kinds, make_spec
from tests.engine.swfsim import SwfSim, closing, run


def timers(sim: SwfSim) -> list[dict[str, Any]]:
    return [attrs(x) for batch in sim.decision_log for x in batch if kinds([x]) == ["StartTimer"]]


def scheduled(sim: SwfSim, kind: str = "ScheduleActivityTask") -> list[dict[str, Any]]:
    return [attrs(x) for batch in sim.decision_log for x in batch if kinds([x]) == [kind]]


@pytest.mark.parametrize(
    "cause", ["ACTIVITY_CREATION_RATE_EXCEEDED", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"]
)
def test_a_rate_or_limit_refusal_waits_a_little_and_schedules_again(cause: str) -> None:
    a = ActivityTask("a", "1", activity_id="A")  # no retry strategy: one failure would end it
    sim = SwfSim()
    sim.refuse["ScheduleActivityTask"] = [cause, cause, cause]
    worker = Recorder()
    assert run(sim, decider_for(make_spec(a)), worker) == "WorkflowExecutionCompleted"
    assert worker.order() == ["A"]
    assert worker.context("A")[RESERVED_KEY] == {"attempt": 1}
    waits = [int(t["startToFireTimeout"]) for t in timers(sim)]
    assert len(waits) == 3 and all(1 <= w <= 10 for w in waits)
    assert waits[0] <= waits[-1]  # growing a little, never shrinking much
    assert len({t["timerId"] for t in timers(sim)}) == 3


def test_a_refused_retry_keeps_its_attempt_and_the_budget_is_untouched() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(1))
    sim = SwfSim()
    spec = make_spec(a)
    sim.respond(decide(sim.decision_task(), spec))
    sim.fail_activity("A", "boom")  # attempt 1 failed: the one retry is due
    sim.refuse["ScheduleActivityTask"] = ["ACTIVITY_CREATION_RATE_EXCEEDED"] * 4
    worker = Recorder()
    assert run(sim, decider_for(spec), worker) == "WorkflowExecutionCompleted"
    assert worker.order() == ["A"]
    assert worker.context("A")[RESERVED_KEY] == {"attempt": 2}


def test_the_same_history_gives_the_same_wait_on_every_decider() -> None:
    spec = make_spec(ActivityTask("a", "1", activity_id="A"))
    sim = SwfSim()
    sim.refuse["ScheduleActivityTask"] = ["ACTIVITY_CREATION_RATE_EXCEEDED"]
    sim.respond(decide(sim.decision_task(), spec))
    events = sim.decision_task()
    first = decide(events, spec)
    assert kinds(first) == ["StartTimer"] and decide(events, spec) == first
    assert json.loads(attrs(first[0])["control"]) == {"flotod": "retry", "task": "A"}


def test_endless_rate_refusals_end_in_a_failure_naming_the_count() -> None:
    spec = make_spec(ActivityTask("a", "1", activity_id="A"))
    sim = SwfSim()
    sim.refuse["ScheduleActivityTask"] = ["ACTIVITY_CREATION_RATE_EXCEEDED"] * 1000
    assert run(sim, decider_for(spec), Recorder()) == "WorkflowExecutionFailed"
    details = json.loads(closing(sim)["details"])
    assert closing(sim)["reason"] == "schedule_activity_task_failed"
    assert details["cause"] == "ACTIVITY_CREATION_RATE_EXCEEDED" and details["refusals"] == 100
    assert max(int(t["startToFireTimeout"]) for t in timers(sim)) <= 60


def test_a_missing_activity_type_is_tried_five_times_over_a_couple_of_minutes() -> None:
    a = ActivityTask("late", "1", activity_id="A", retry_strategy=InstantRetry(10))
    sim = SwfSim(known_activity_types=set())
    assert run(sim, decider_for(make_spec(a)), Recorder()) == "WorkflowExecutionFailed"
    assert len(scheduled(sim)) == 5
    waited = sum(int(t["startToFireTimeout"]) for t in timers(sim))
    assert 60 <= waited <= 180
    assert closing(sim)["reason"] == "activity_type_not_registered"
    details = json.loads(closing(sim)["details"])
    assert (details["task"], details["activity_type"], details["refusals"]) == ("A", "late/1", 5)
    assert "not registered" in details["error"]


def test_an_activity_type_registered_meanwhile_runs() -> None:
    a = ActivityTask("late", "1", activity_id="A")
    sim = SwfSim()
    sim.refuse["ScheduleActivityTask"] = ["ACTIVITY_TYPE_DOES_NOT_EXIST"] * 2
    worker = Recorder()
    assert run(sim, decider_for(make_spec(a)), worker) == "WorkflowExecutionCompleted"
    assert worker.context("A")[RESERVED_KEY] == {"attempt": 1}


@pytest.mark.parametrize(
    "cause", ["ACTIVITY_TYPE_DEPRECATED", "ACTIVITY_ID_ALREADY_IN_USE", "OPERATION_NOT_PERMITTED"]
)
def test_permanent_activity_refusals_fail_at_once(cause: str) -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(5))
    sim = SwfSim()
    sim.refuse["ScheduleActivityTask"] = [cause]
    assert run(sim, decider_for(make_spec(a)), Recorder()) == "WorkflowExecutionFailed"
    assert closing(sim)["reason"] == "schedule_activity_task_failed"
    assert json.loads(closing(sim)["details"])["cause"] == cause
    assert timers(sim) == []


@pytest.mark.parametrize("cause", ["TIMER_CREATION_RATE_EXCEEDED", "OPEN_TIMERS_LIMIT_EXCEEDED"])
def test_a_refused_timer_is_started_again(cause: str) -> None:
    spec = make_spec(Timer("T", 5), ActivityTask("a", "1", activity_id="A", requires=["T"]))
    sim = SwfSim()
    sim.refuse["StartTimer"] = [cause, cause]
    assert run(sim, decider_for(spec), Recorder()) == "WorkflowExecutionCompleted"
    assert [t["timerId"] for t in timers(sim)] == ["T", "T", "T"]


def test_a_refused_retry_timer_is_started_again_without_spending_a_retry() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=ExponentialRetry(1, 30))
    sim = SwfSim()
    spec = make_spec(a)
    sim.respond(decide(sim.decision_task(), spec))
    sim.fail_activity("A", "boom")
    sim.refuse["StartTimer"] = ["TIMER_CREATION_RATE_EXCEEDED"]
    worker = Recorder()
    assert run(sim, decider_for(spec), worker) == "WorkflowExecutionCompleted"
    assert worker.context("A")[RESERVED_KEY] == {"attempt": 2}


def test_endless_timer_refusals_end_in_a_failure() -> None:
    spec = make_spec(Timer("T", 5))
    sim = SwfSim()
    sim.refuse["StartTimer"] = ["TIMER_CREATION_RATE_EXCEEDED"] * 1000
    assert run(sim, decider_for(spec), Recorder()) == "WorkflowExecutionFailed"
    assert closing(sim)["reason"] == "start_timer_failed"
    details = json.loads(closing(sim)["details"])
    assert details["cause"] == "TIMER_CREATION_RATE_EXCEEDED" and details["refusals"] == 100


@pytest.mark.parametrize(
    "cause",
    [
        "CHILD_CREATION_RATE_EXCEEDED",
        "OPEN_CHILDREN_LIMIT_EXCEEDED",
        "OPEN_WORKFLOWS_LIMIT_EXCEEDED",
    ],
)
def test_a_refused_child_waits_and_starts_again_on_its_first_attempt(cause: str) -> None:
    child = ChildWorkflow("c", "1", workflow_id="kid")
    sim = SwfSim()
    sim.refuse["StartChildWorkflowExecution"] = [cause, cause]
    assert run(sim, decider_for(make_spec(child), "wf"), Recorder()) == (
        "WorkflowExecutionCompleted"
    )
    starts = scheduled(sim, "StartChildWorkflowExecution")
    assert len(starts) == 3 and len(timers(sim)) == 2
    assert {s["workflowId"] for s in starts} == {"wf:kid"}


def test_a_child_refusal_without_an_initiated_event_is_handled_alike() -> None:
    spec = make_spec(ChildWorkflow("c", "1", workflow_id="kid"))
    sim = SwfSim()
    sim.decision_task()
    sim.respond([])
    # SWF may refuse a start before it records the initiation: a history only a real SWF
    # makes, so the refusal and the next decision task are written into the JSON history.
    events = sim.events
    after = len(events)
    failed = {
        "workflowType": {"name": "c", "version": "1"},
        "cause": "CHILD_CREATION_RATE_EXCEEDED",
        "workflowId": "wf:kid",
        "initiatedEventId": 0,
        "decisionTaskCompletedEventId": after,
        "control": json.dumps({"flotod": "child", "task": "kid"}),
    }
    events += [
        _event(after + 1, "StartChildWorkflowExecutionFailed", failed),
        _event(after + 2, "DecisionTaskScheduled", {"taskList": {"name": "decider"}}),
        _event(after + 3, "DecisionTaskStarted", {"scheduledEventId": after + 2}),
    ]
    assert kinds(decide(events, spec, "wf")) == ["StartTimer"]


def _event(event_id: int, kind: str, attrs: dict[str, Any]) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "EventAttributes"
    return {"eventId": event_id, "eventType": kind, "eventTimestamp": 0, key: attrs}


@pytest.mark.parametrize("cause", ["WORKFLOW_TYPE_DEPRECATED", "WORKFLOW_ALREADY_RUNNING"])
def test_permanent_child_refusals_fail_at_once(cause: str) -> None:
    child = ChildWorkflow("c", "1", workflow_id="kid", retry_strategy=InstantRetry(3))
    sim = SwfSim()
    sim.refuse["StartChildWorkflowExecution"] = [cause]
    assert run(sim, decider_for(make_spec(child), "wf"), Recorder()) == "WorkflowExecutionFailed"
    assert closing(sim)["reason"] == "start_child_workflow_failed"
