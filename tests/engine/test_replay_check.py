"""replay_check on golden histories: recorded runs replayed through their spec agree, through an
edited spec they diverge at the first changed decision, and broken histories are refused.

The histories are recorded by running the engine against the in-test SWF (tests/engine/swfsim)
and passed through JSON, as ``flotod workflow history --json`` would save them; the checked-in
fixtures of test_fixtures.py are replayed too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flotod.engine import HistoryError, ReplayResult, decide, replay_check
from flotod.engine.handlers import Answer, DynamicHandler, SpecHandler
from flotod.specs import (
    ActivityTask,
    ChildWorkflow,
    DeciderSpec,
    ExponentialRetry,
    Generator,
    InstantRetry,
    Timer,
    decider_spec_from_dict,
    dumps,
)
from flotod.swf.types import DecisionTask
from tests.engine.conftest import Recorder, decider_for, make_spec
from tests.engine.swfsim import ActivityError, Event, SwfSim, run

# The checked-in histories recorded from the engine's own decisions (hand-written ones need not
# be what the engine decides in every detail).
RECORDED = ("a_b_then_c", "generator_week_days", "retry_after_decider_crash")
FIXTURES = [Path(__file__).parent / "fixtures" / f"{name}.json" for name in RECORDED]

A = ActivityTask("ActivityA", "v1", activity_id="A")
B = ActivityTask("ActivityB", "v1", activity_id="B")
C = ActivityTask("ActivityC", "v1", activity_id="C", requires=[A, B], input={"k": 1})


def saved(sim: SwfSim) -> list[dict[str, Any]]:
    """The history as a file holds it: plain JSON."""
    return json.loads(json.dumps(sim.events))  # type: ignore[no-any-return]


def recorded(spec: DeciderSpec, worker: Any, workflow_id: str = "wf-1", **kw: Any) -> list[Event]:
    sim = SwfSim(input=kw.pop("input", '{"day": "2024-01-02"}'))
    assert run(sim, decider_for(spec, workflow_id), worker, **kw).startswith("WorkflowExecution")
    return saved(sim)


def agree(result: ReplayResult, history: list[Event]) -> None:
    """The replay agrees, having checked every completed decision task of ``history``."""
    tasks = sum(e["eventType"] == "DecisionTaskCompleted" for e in history)
    assert tasks >= 1
    assert result.divergence is None, result.divergence.text()
    assert result.agreed and result.decision_tasks == tasks
    plural = "" if tasks == 1 else "s"
    assert result.summary() == f"{tasks} decision task{plural} agree"


def flaky(failures: int) -> Any:
    calls = {"n": 0}

    def body(context: dict[str, Any]) -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ActivityError("boom", f"call {calls['n']}")
        return "{}"

    return body


# -- agreeing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_checked_in_golden_histories_agree_with_their_spec(path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    spec = decider_spec_from_dict(fixture["spec"])
    result = replay_check(fixture["history"], spec, workflow_id=fixture["workflow_id"])
    agree(result, fixture["history"])


def test_graph_with_instant_and_exponential_retries_agrees() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(2))
    b = ActivityTask(
        "b", "1", activity_id="B", requires=[a], retry_strategy=ExponentialRetry(3, 10, 2)
    )
    spec = make_spec(a, b)
    events = recorded(spec, Recorder({"A": flaky(2), "B": flaky(1)}))
    kinds = [e["eventType"] for e in events]
    assert kinds.count("ActivityTaskFailed") == 3 and "TimerStarted" in kinds
    agree(replay_check(events, spec), events)


def test_timers_agree_and_a_changed_delay_diverges_at_the_timer() -> None:
    timer = Timer("Timer30", 30, requires=[A])
    b = ActivityTask("ActivityB", "v1", activity_id="B", requires=[timer])
    alone = Timer("Timer3600", 3600)
    events = recorded(make_spec(A, timer, b, alone), Recorder())
    agree(replay_check(events, make_spec(A, timer, b, alone)), events)

    longer = Timer("Timer30", 60, requires=[A])
    b2 = ActivityTask("ActivityB", "v1", activity_id="B", requires=[longer])
    result = replay_check(events, make_spec(A, longer, b2, alone))
    assert not result.agreed and result.divergence is not None
    assert result.divergence.task == 2 and result.divergence.ids == ("Timer30",)
    text = result.divergence.text()
    assert "startToFireTimeout differs" in text
    assert '"30"' in text and '"60"' in text


def test_child_workflow_agrees_with_or_without_the_workflow_id() -> None:
    child = ChildWorkflow("childType", "v2", workflow_id="kid", requires=[A], input={"x": 1})
    after = ActivityTask("after", "1", activity_id="after", requires=[child])
    spec = make_spec(A, child, after)
    events = recorded(spec, Recorder(), "parent-7", child_result=lambda _: '{"ok": 1}')
    assert any(e["eventType"] == "StartChildWorkflowExecutionInitiated" for e in events)
    agree(replay_check(events, spec, workflow_id="parent-7"), events)
    # SWF's history does not name its run: the id is read back from the child it started.
    agree(replay_check(events, spec), events)
    # A different workflow id makes a different child id: that is a divergence, not a guess.
    result = replay_check(events, spec, workflow_id="parent-8")
    assert result.divergence is not None
    assert result.divergence.ids == ("parent-7:kid", "parent-8:kid")
    assert "workflowId differs" in result.divergence.text()


def test_generator_agrees() -> None:
    gen = Generator("weekDays", "1", activity_id="weekDays")
    total = ActivityTask("sum", "1", activity_id="sum", requires=[gen])
    made = [ActivityTask("copyFile", "1", activity_id=f"copy-{d}", input=d) for d in "xyz"]
    spec = make_spec(gen, total)
    events = recorded(spec, Recorder({"weekDays": dumps(made)}))
    agree(replay_check(events, spec), events)


def test_continue_as_new_and_cancellation_agree() -> None:
    spec = make_spec(A, repeat=True)
    events = recorded(spec, Recorder(), input='{"n": 1}')
    assert events[-1]["eventType"] == "WorkflowExecutionContinuedAsNew"
    agree(replay_check(events, spec), events)

    spec = make_spec(A, B)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.request_cancel()
    sim.respond(decide(sim.decision_task(), spec))
    assert sim.events[-1]["eventType"] == "WorkflowExecutionCanceled"
    agree(replay_check(saved(sim), spec), saved(sim))


def test_refused_decisions_agree_by_their_ids() -> None:
    """ScheduleActivityTaskFailed keeps the id and type, not the input: that is what counts."""
    a = ActivityTask("missing", "1", activity_id="A")
    spec = make_spec(a)
    sim = SwfSim(known_activity_types=set())
    sim.respond(decide(sim.decision_task(), spec))
    sim.respond(decide(sim.decision_task(), spec))
    kinds = [e["eventType"] for e in sim.events]
    assert "ScheduleActivityTaskFailed" in kinds  # then a retry timer, or a failure
    agree(replay_check(saved(sim), spec), saved(sim))
    renamed = make_spec(ActivityTask("missing", "2", activity_id="A"))
    result = replay_check(saved(sim), renamed)
    assert result.divergence is not None and result.divergence.task == 1
    assert "activityType differs" in result.divergence.text()
    assert "refused by SWF: ACTIVITY_TYPE_DOES_NOT_EXIST" in result.divergence.text()


class WithTimeout:
    """A handler that gives every activity a start-to-close timeout (None: leave it out)."""

    def __init__(self, spec: DeciderSpec, seconds: str | None) -> None:
        self.handler = SpecHandler(spec)
        self.seconds = seconds

    def __call__(self, task: DecisionTask) -> Answer:
        decisions = self.handler(task).decisions
        for decision in decisions:
            attrs = decision.get("scheduleActivityTaskDecisionAttributes")
            if attrs is not None and self.seconds is not None:
                attrs["startToCloseTimeout"] = self.seconds
        return Answer(decisions)

    def forget(self, workflow_id: str, run_id: str) -> None:
        """Nothing kept."""


def test_a_timeout_the_decision_sets_must_match_and_a_default_is_not_compared() -> None:
    spec = make_spec(A)
    sim = SwfSim()
    sim.respond(WithTimeout(spec, "30")(_task(sim.decision_task())).decisions)
    assert saved(sim)[4]["activityTaskScheduledEventAttributes"]["startToCloseTimeout"] == "30"
    agree(replay_check(saved(sim), WithTimeout(spec, "30")), saved(sim))
    # Left out, SWF would have put the type's default in: nothing to compare.
    agree(replay_check(saved(sim), WithTimeout(spec, None)), saved(sim))
    result = replay_check(saved(sim), WithTimeout(spec, "60"))
    assert result.divergence is not None
    assert "startToCloseTimeout differs" in result.divergence.text()


def test_a_child_start_that_fails_later_is_one_decision_not_two() -> None:
    """SWF records StartChildWorkflowExecutionInitiated, then (here at once, in real SWF maybe
    later) StartChildWorkflowExecutionFailed pointing back at it: one decision."""
    child = ChildWorkflow("unknownType", "v1", workflow_id="kid")
    spec = make_spec(child)
    sim = SwfSim(known_workflow_types=set())
    sim.respond(decide(sim.decision_task(), spec, "wf-1"))
    sim.respond(decide(sim.decision_task(), spec, "wf-1"))
    kinds = [e["eventType"] for e in sim.events]
    assert "StartChildWorkflowExecutionFailed" in kinds and sim.closed
    agree(replay_check(saved(sim), spec, workflow_id="wf-1"), saved(sim))


def test_a_completion_refused_as_unhandled_is_a_completion_and_the_next_task_agrees() -> None:
    spec = make_spec(A)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.complete_activity("A", "1")
    seen = sim.decision_task()
    sim.signal()  # arrives while the decider decides: SWF refuses the completion
    sim.respond(decide(seen, spec))
    assert "CompleteWorkflowExecutionFailed" in [e["eventType"] for e in sim.events]
    sim.respond(decide(sim.decision_task(), spec))
    assert sim.closed == "WorkflowExecutionCompleted"
    agree(replay_check(saved(sim), spec), saved(sim))
    # A spec that no longer completes there diverges even though SWF refused the completion.
    longer = make_spec(A, ActivityTask("D", "1", activity_id="D", requires=[A]))
    result = replay_check(saved(sim), longer)
    assert result.divergence is not None and result.divergence.task == 2
    assert "the history shows CompleteWorkflowExecution, the spec decides Schedule" in (
        result.divergence.text()
    )


def test_each_task_sees_only_the_events_up_to_its_decision_task_started() -> None:
    """B completes after the decision task started: the decider did not see it, so C was not
    scheduled in that task. Deciding on the whole prefix to DecisionTaskCompleted would."""
    spec = make_spec(A, B, C)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.complete_activity("A", "{}")
    seen = sim.decision_task()
    sim.complete_activity("B", "{}")  # recorded between DecisionTaskStarted and Completed
    sim.respond(decide(seen, spec))
    assert sim.decision_log[-1] == []
    sim.respond(decide(sim.decision_task(), spec))
    assert sim.decision_log[-1][0]["decisionType"] == "ScheduleActivityTask"
    agree(replay_check(saved(sim), spec), saved(sim))


def test_the_services_handlers_replay_as_the_spec_does() -> None:
    spec = make_spec(A, B, C)
    events = recorded(spec, Recorder())
    agree(replay_check(events, SpecHandler(spec)), events)
    agree(replay_check(events, SpecHandler(spec, max_events=5)), events)

    defaults = make_spec()
    tasks = dumps([A, B, C])
    dynamic_input = json.dumps({"activity_tasks": json.loads(tasks)})
    sim = SwfSim(input=dynamic_input)
    assert run(sim, lambda e: decide_dynamic_for(defaults, e), Recorder()) == (
        "WorkflowExecutionCompleted"
    )
    agree(replay_check(saved(sim), DynamicHandler(defaults)), saved(sim))


def decide_dynamic_for(defaults: DeciderSpec, events: list[Event]) -> list[dict[str, Any]]:
    return DynamicHandler(defaults)(_task(events)).decisions


def _task(events: list[Event]) -> DecisionTask:
    from flotod.swf.types import WorkflowExecution

    return DecisionTask("t", WorkflowExecution("wf-1", "r"), {}, events, events[-1]["eventId"])


def test_one_handler_replays_unrelated_runs_without_mixing_their_states() -> None:
    """A service's SpecHandler keeps replay states by run, and files carry no run ids: each
    replay must start from nothing, not continue the state another run left under that key."""
    spec = make_spec(A, B, C)
    handler = SpecHandler(spec, max_events=10_000)
    for day in ("1", "2"):
        sim = SwfSim(input=json.dumps({"day": day}))
        sim.respond(decide(sim.decision_task(), spec))
        agree(replay_check(saved(sim), handler), saved(sim))
        agree(replay_check(saved(sim), handler, workflow_id="wf-1", run_id="r"), saved(sim))


def test_a_run_without_completed_decision_tasks_agrees_with_nothing_checked() -> None:
    sim = SwfSim()
    sim.decision_task()
    result = replay_check(saved(sim), make_spec(A))
    assert result.agreed and result.decision_tasks == 0


# -- diverging --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def a_b_c() -> list[Event]:
    return recorded(make_spec(A, B, C), Recorder({"A": {"a": 1}, "B": "b"}))


def test_a_null_in_the_json_is_a_value_not_a_missing_key() -> None:
    a = ActivityTask("ActivityA", "v1", activity_id="A", input={"k": None})
    events = recorded(make_spec(a), Recorder())
    one = ActivityTask("ActivityA", "v1", activity_id="A", input={"k": 1})
    result = replay_check(events, make_spec(one))
    assert result.divergence is not None
    assert "first difference at $.activity_task.k: null in the history, 1 in the spec" in (
        result.divergence.text()
    )


def test_changed_input_names_the_task_and_where_the_json_differs(a_b_c: list[Event]) -> None:
    changed = ActivityTask("ActivityC", "v1", activity_id="C", requires=[A, B], input={"k": 2})
    result = replay_check(a_b_c, make_spec(A, B, changed))
    assert not result.agreed and result.decision_tasks == 2
    div = result.divergence
    assert div is not None
    assert (div.task, div.position, div.ids) == (2, 1, ("C",))
    first_completed = [e for e in a_b_c if e["eventType"] == "DecisionTaskCompleted"][1]
    assert div.completed_event_id == first_completed["eventId"]
    assert (
        div.started_event_id
        == first_completed["decisionTaskCompletedEventAttributes"]["startedEventId"]
    )
    text = div.text()
    assert text.startswith(f"decision task 2 (events {div.scheduled_event_id} scheduled, ")
    assert "input differs" in text
    assert "first difference at $.activity_task.k: 1 in the history, 2 in the spec" in text
    assert "ScheduleActivityTask C (ActivityC:v1)" in text


def test_renamed_task_shows_both_ids(a_b_c: list[Event]) -> None:
    renamed = ActivityTask("ActivityB", "v1", activity_id="B2")
    c = ActivityTask("ActivityC", "v1", activity_id="C", requires=[A, renamed], input={"k": 1})
    result = replay_check(a_b_c, make_spec(A, renamed, c))
    div = result.divergence
    assert div is not None and (div.task, div.position) == (1, 2)
    assert div.ids == ("B", "B2")
    assert "activityId differs" in div.text()


def test_removed_task_is_a_decision_the_spec_no_longer_makes(a_b_c: list[Event]) -> None:
    c = ActivityTask("ActivityC", "v1", activity_id="C", requires=[A], input={"k": 1})
    result = replay_check(a_b_c, make_spec(A, c))
    div = result.divergence
    assert div is not None and (div.task, div.position, div.ids) == (1, 2, ("B",))
    assert "the spec does not decide ScheduleActivityTask B (ActivityB:v1)" in div.text()
    assert div.spec == ("ScheduleActivityTask A (ActivityA:v1)",)


def test_added_task_is_a_decision_the_history_lacks(a_b_c: list[Event]) -> None:
    extra = ActivityTask("ActivityD", "v1", activity_id="D")
    result = replay_check(a_b_c, make_spec(A, B, C, extra))
    div = result.divergence
    assert div is not None and (div.task, div.position, div.ids) == (1, 3, ("D",))
    assert "the spec also decides ScheduleActivityTask D (ActivityD:v1)" in div.text()
    assert len(div.history) == 2 and len(div.spec) == 3


def test_an_added_dependent_diverges_where_it_becomes_ready(a_b_c: list[Event]) -> None:
    d = ActivityTask("ActivityD", "v1", activity_id="D", requires=[A])
    result = replay_check(a_b_c, make_spec(A, B, C, d))
    div = result.divergence
    assert div is not None and (div.task, div.position, div.ids) == (2, 1, ("C", "D"))


def test_a_task_added_after_the_last_one_replaces_the_completion(a_b_c: list[Event]) -> None:
    e = ActivityTask("ActivityE", "v1", activity_id="E", requires=[C])
    result = replay_check(a_b_c, make_spec(A, B, C, e))
    div = result.divergence
    assert div is not None and (div.task, div.position, div.ids) == (3, 1, ("E",))
    assert div.history[0].startswith("CompleteWorkflowExecution [event ")
    assert (
        "the history shows CompleteWorkflowExecution, the spec decides ScheduleActivityTask"
        in div.text()
    )


def test_a_handler_that_raises_is_a_divergence_not_a_crash(a_b_c: list[Event]) -> None:
    class Broken:
        def __call__(self, task: DecisionTask) -> Answer:
            raise RuntimeError("bad \x1b[2J spec")

        def forget(self, workflow_id: str, run_id: str) -> None:
            """Nothing kept."""

    result = replay_check(a_b_c, Broken())
    assert result.divergence is not None and result.divergence.task == 1
    assert "the spec raised RuntimeError: bad \\u001b[2J spec" in result.divergence.text()


def test_workflow_data_cannot_reach_the_terminal_raw() -> None:
    hostile = ActivityTask("A", "1", activity_id="A", input="\x1b]0;pwned\x07")
    events = recorded(make_spec(hostile), Recorder())
    result = replay_check(events, make_spec(ActivityTask("A", "1", activity_id="A")))
    assert result.divergence is not None
    text = result.divergence.text()
    assert "\x1b" not in text and "\x07" not in text and "\\u001b]0;pwned" in text


# -- unreadable -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({"events": []}, "a history is a JSON list of events, not dict"),
        ([], "the history has no events"),
        ([1], "item 1 of the history is not an event object"),
        ([{"eventType": "WorkflowExecutionStarted"}], "item 1 of the history has no integer"),
        ([{"eventId": 1}], "event 1 has no eventType"),
        (
            [{"eventId": 2, "eventType": "DecisionTaskScheduled"}],
            "starts with event 2 (DecisionTaskScheduled), not WorkflowExecutionStarted",
        ),
        (
            [
                {"eventId": 2, "eventType": "WorkflowExecutionStarted"},
                {"eventId": 1, "eventType": "DecisionTaskScheduled"},
            ],
            "event 1 follows event 2",
        ),
        (
            [
                {"eventId": 1, "eventType": "WorkflowExecutionStarted"},
                {"eventId": 3, "eventType": "DecisionTaskScheduled"},
            ],
            "the history jumps from event 1 to 3: it is not a run's whole history",
        ),
        (
            [
                {"eventId": 1, "eventType": "WorkflowExecutionStarted"},
                {
                    "eventId": 2,
                    "eventType": "DecisionTaskCompleted",
                    "decisionTaskCompletedEventAttributes": {"startedEventId": 7},
                },
            ],
            "names startedEventId 7, which is not a DecisionTaskStarted event",
        ),
        (
            [
                {"eventId": 1, "eventType": "WorkflowExecutionStarted"},
                {
                    "eventId": 2,
                    "eventType": "TimerStarted",
                    "timerStartedEventAttributes": {"decisionTaskCompletedEventId": [1]},
                },
            ],
            "names decisionTaskCompletedEventId [1], which is not a DecisionTaskCompleted",
        ),
    ],
)
def test_histories_that_cannot_be_replayed_say_why(events: Any, message: str) -> None:
    with pytest.raises(HistoryError) as caught:
        replay_check(events, make_spec(A))
    assert message in str(caught.value)


def test_a_history_cut_before_its_start_is_refused(a_b_c: list[Event]) -> None:
    with pytest.raises(HistoryError, match="not a run's whole history"):
        replay_check(a_b_c[3:], make_spec(A, B, C))
