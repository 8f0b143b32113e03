"""Failures, retries, and every failure event ending in a decision."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flotod.engine import RESERVED_KEY, decide
from flotod.protocol import STARTED_DETAILS
from flotod.specs import ActivityTask, ChildWorkflow, ExponentialRetry, InstantRetry, Timer
from tests.engine.conftest import Recorder, attrs, decider_for, kinds, make_spec
from tests.engine.swfsim import ActivityError, SwfSim, closing, run


def flaky(failures: int) -> Any:
    """A worker body that fails its first ``failures`` calls."""
    calls = {"n": 0}

    def body(context: dict[str, Any]) -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ActivityError("boom", f"call {calls['n']}")
        return json.dumps({"attempt": context[RESERVED_KEY]["attempt"]})

    return body


def fail_details(sim: SwfSim) -> tuple[str, Any]:
    close = closing(sim)
    return close["reason"], json.loads(close["details"])


def test_failure_without_retry_fails_the_workflow_naming_the_task() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(a)), Recorder({"A": flaky(1)})) == (
        "WorkflowExecutionFailed"
    )
    reason, details = fail_details(sim)
    assert reason == "task_failed"
    (failed,) = details["failed_tasks"]
    assert (failed["task"], failed["reason"], failed["details"]) == ("A", "boom", "call 1")


def test_instant_retry_schedules_again_in_the_same_decision() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(2))
    sim = SwfSim()
    worker = Recorder({"A": flaky(2)})
    assert run(sim, decider_for(make_spec(a)), worker) == "WorkflowExecutionCompleted"
    assert [c[RESERVED_KEY]["attempt"] for _, c in worker.calls] == [1, 2, 3]
    assert json.loads(closing(sim)["result"]) == {"A": {"attempt": 3}}
    # No timers: each retry went out in the decision that saw the failure.
    flat = [d for batch in sim.decision_log for d in batch]
    assert "StartTimer" not in kinds(flat)


def test_instant_retry_exhausted() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(2))
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(a)), Recorder({"A": flaky(3)})) == (
        "WorkflowExecutionFailed"
    )
    reason, details = fail_details(sim)
    assert reason == "task_retry_limit_reached"
    assert details["failed_tasks"][0]["details"] == "call 3"


def test_exponential_retry_waits_with_a_timer_for_the_strategy_delay() -> None:
    strategy = ExponentialRetry(3, initial_delay_seconds=10, backoff_coefficient=3, jitter=0.5)
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=strategy)
    user_timer = Timer("retry:A:2", 5)  # a user timer whose id looks like a retry timer
    sim = SwfSim()
    worker = Recorder({"A": flaky(2)})
    assert run(sim, decider_for(make_spec(a, user_timer)), worker) == "WorkflowExecutionCompleted"
    flat = [d for batch in sim.decision_log for d in batch]
    retry_timers = [
        attrs(d)
        for d in flat
        if d["decisionType"] == "StartTimer"
        and json.loads(attrs(d)["control"])["flotod"] == "retry"
    ]
    assert [t["startToFireTimeout"] for t in retry_timers] == [
        str(strategy.delay_seconds("A", 1)),
        str(strategy.delay_seconds("A", 2)),
    ]
    ids = [t["timerId"] for t in retry_timers]
    assert "retry:A:2" not in ids and ids[1] == "retry:A:3"
    assert worker.context("A")[RESERVED_KEY] == {"attempt": 3}


@pytest.mark.parametrize(
    "close",
    [
        lambda sim: sim.timeout_activity("A", details=STARTED_DETAILS),  # it ran
        lambda sim: sim.cancel_activity("A"),
        lambda sim: sim.fail_activity("A", "r", "d"),
    ],
)
def test_timeouts_and_unrequested_cancels_count_as_failures(close: Any) -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(1))
    spec = make_spec(a)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    close(sim)
    again = decide(sim.decision_task(), spec)
    assert kinds(again) == ["ScheduleActivityTask"]
    assert json.loads(attrs(again[0])["input"])[RESERVED_KEY] == {"attempt": 2}
    sim.respond(again)
    close(sim)
    final = decide(sim.decision_task(), spec)
    assert kinds(final) == ["FailWorkflowExecution"]
    assert attrs(final[0])["reason"] == "task_retry_limit_reached"


@pytest.mark.parametrize(
    ("event_type", "extra"),
    [
        ("ChildWorkflowExecutionFailed", {"reason": "bad", "details": "x"}),
        ("ChildWorkflowExecutionTimedOut", {"timeoutType": "START_TO_CLOSE"}),
        ("ChildWorkflowExecutionCanceled", {"details": "x"}),
        ("ChildWorkflowExecutionTerminated", {}),
    ],
)
def test_child_failures_retry_then_fail(event_type: str, extra: dict[str, Any]) -> None:
    child = ChildWorkflow("c", "1", workflow_id="kid", retry_strategy=InstantRetry(1))
    spec = make_spec(child)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec, "wf"))
    sim.close_child("wf:kid", event_type, **extra)
    again = decide(sim.decision_task(), spec, "wf")
    assert kinds(again) == ["StartChildWorkflowExecution"]
    sim.respond(again)
    sim.close_child("wf:kid", event_type, **extra)
    final = decide(sim.decision_task(), spec, "wf")
    assert attrs(final[0])["reason"] == "task_retry_limit_reached"
    details = json.loads(attrs(final[0])["details"])
    assert details["failed_tasks"][0]["event"] == event_type


def test_schedule_activity_task_failed_fails_with_the_cause() -> None:
    a = ActivityTask("missing", "1", activity_id="A", retry_strategy=InstantRetry(5))
    sim = SwfSim(known_activity_types=set())
    assert run(sim, decider_for(make_spec(a)), Recorder()) == "WorkflowExecutionFailed"
    reason, details = fail_details(sim)
    assert reason == "activity_type_not_registered"  # after a few tries: see test_refusals
    assert details["task"] == "A"
    assert details["cause"] == "ACTIVITY_TYPE_DOES_NOT_EXIST"


def test_start_child_failed_fails_with_the_cause() -> None:
    child = ChildWorkflow("nope", "1", workflow_id="kid")
    sim = SwfSim(known_workflow_types=set())
    assert run(sim, decider_for(make_spec(child)), Recorder()) == "WorkflowExecutionFailed"
    reason, details = fail_details(sim)
    assert reason == "start_child_workflow_failed"
    assert (details["task"], details["cause"]) == ("kid", "WORKFLOW_TYPE_DOES_NOT_EXIST")


def test_start_timer_failed_fails_with_the_cause() -> None:
    spec = make_spec(Timer("T", 5))
    sim = SwfSim()
    decisions = decide(sim.decision_task(), spec)
    # Something else opened a timer "T" first (here: earlier in the same response), so SWF
    # refuses the engine's StartTimer with TIMER_ID_ALREADY_IN_USE.
    other = {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {"timerId": "T", "startToFireTimeout": "60"},
    }
    sim.respond([other, *decisions])
    final = decide(sim.decision_task(), spec)
    assert attrs(final[0])["reason"] == "start_timer_failed"
    assert json.loads(attrs(final[0])["details"])["cause"] == "TIMER_ID_ALREADY_IN_USE"


@pytest.mark.parametrize(
    "failed",
    [
        "CompleteWorkflowExecutionFailed",
        "FailWorkflowExecutionFailed",
        "CancelWorkflowExecutionFailed",
        "ContinueAsNewWorkflowExecutionFailed",
    ],
)
def test_unhandled_closing_decision_means_decide_again(failed: str) -> None:
    """A signal arrives while the closing decision is made: SWF refuses it, we decide again."""
    a = ActivityTask("a", "1", activity_id="A")
    spec = make_spec(a, repeat=failed.startswith("ContinueAsNew"))
    sim = SwfSim(input='{"n": 1}')
    sim.respond(decide(sim.decision_task(), spec))
    if failed.startswith("Fail"):
        sim.fail_activity("A", "boom")
    else:
        sim.complete_activity("A", "1")
    if failed.startswith("Cancel"):
        sim.request_cancel()
    events = sim.decision_task()
    sim.signal()  # arrives during the decision task
    sim.respond(decide(events, spec))
    after = sim.events[len(events) :]  # what this response recorded, and the new task
    refused = [e for e in after if e["eventType"] == failed]
    assert [e[failed[0].lower() + failed[1:] + "EventAttributes"]["cause"] for e in refused] == [
        "UNHANDLED_DECISION"
    ]
    assert sim.decision_due
    events = sim.decision_task()
    again = decide(events, spec)
    assert decide(events, spec) == again
    sim.respond(again)
    assert sim.closed is not None and sim.closed != "WorkflowExecutionTerminated"


def test_closing_decision_refused_for_another_cause_fails_instead_of_looping() -> None:
    spec = make_spec(ActivityTask("a", "1", activity_id="A"), repeat=True)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.complete_activity("A", "1")
    events = sim.decision_task()
    sim.deprecate_workflow_type()  # SWF refuses the continue-as-new: WORKFLOW_TYPE_DEPRECATED
    sim.respond(decide(events, spec))
    assert sim.events[-2]["continueAsNewWorkflowExecutionFailedEventAttributes"]["cause"] == (
        "WORKFLOW_TYPE_DEPRECATED"
    )
    final = decide(sim.decision_task(), spec)
    assert attrs(final[0])["reason"] == "closing_decision_failed"


def test_failed_task_details_are_trimmed_to_fit() -> None:
    tasks = [ActivityTask("a", "1", activity_id=f"T{i}") for i in range(3)]
    spec = make_spec(*tasks)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    for i in range(3):
        sim.fail_activity(f"T{i}", "r" * 256, "d" * 30000)  # SWF's limits: 256 and 32,768
    final = decide(sim.decision_task(), spec)
    sim.respond(final)
    assert sim.closed == "WorkflowExecutionFailed"
    details = json.loads(attrs(final[0])["details"])
    assert [f["task"] for f in details["failed_tasks"]] == ["T0", "T1", "T2"]
    assert len(attrs(final[0])["details"]) <= 32768
