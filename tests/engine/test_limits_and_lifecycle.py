"""SWF limits, cancel, continue-as-new, bad input and output, replay after a crash."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import closes_workflow, decide, decide_dynamic, workflow_input
from flotod.specs import ActivityTask, ChildWorkflow, Generator, InstantRetry, Timer, dumps
from tests.engine.conftest import Recorder, attrs, decider_for, kinds, make_spec
from tests.engine.swfsim import SwfSim, closing, run


def fan_out(n: int) -> list[ActivityTask]:
    root = ActivityTask("root", "1", activity_id="root")
    middle = [ActivityTask("m", "1", activity_id=f"m{i}", requires=[root]) for i in range(n)]
    final = ActivityTask("final", "1", activity_id="final", requires=middle)
    return [root, *middle, final]


def test_at_most_100_decisions_and_1000_open_activities() -> None:
    spec = make_spec(*fan_out(1500))
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.complete_activity("root", '"r"')
    peak = 0
    # Ramp up: full responses, each ending in a 0-second timer so that the next decision follows.
    while sim.decision_due:
        decisions = decide(sim.decision_task(), spec)
        assert len(decisions) <= 100
        sim.respond(decisions)
        peak = max(peak, len(sim.open_activities))
        for timer_id in list(sim.open_timers):
            sim.fire_timer(timer_id)
    assert len(sim.open_activities) == 1000 == peak
    # Nothing is due until something closes; then the rest follows as activities close.
    worker = Recorder({f"m{i}": "1" for i in range(1500)})
    run(sim, decider_for(spec, None), worker)
    assert sim.closed == "WorkflowExecutionCompleted", closing(sim)
    assert sum(v for k, v in worker.context("final").items() if k.startswith("m")) == 1500
    scheduled = [e for e in sim.events if e["eventType"] == "ActivityTaskScheduled"]
    assert len(scheduled) == 1502


def test_cancel_request_cancels_everything_open_then_the_workflow() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    timer = Timer("T", 60)
    child = ChildWorkflow("c", "1", workflow_id="kid")
    spec = make_spec(a, timer, child)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec, "wf"))
    sim.start_child("wf:kid")
    sim.request_cancel()
    decisions = decide(sim.decision_task(), spec, "wf")
    assert kinds(decisions) == [
        "RequestCancelActivityTask",
        "CancelTimer",
        "RequestCancelExternalWorkflowExecution",
        "CancelWorkflowExecution",
    ]
    assert attrs(decisions[2]) == {"workflowId": "wf:kid", "runId": sim.child_run_id("wf:kid")}
    sim.respond(decisions)
    assert sim.closed == "WorkflowExecutionCanceled"
    assert decide(sim.events, spec) == []


def test_cancel_with_more_than_100_open_keeps_going() -> None:
    spec = make_spec(*[Timer(f"T{i}", 60) for i in range(150)])
    sim = SwfSim()
    while sim.decision_due:
        sim.respond(decide(sim.decision_task(), spec))
        for timer_id in [t for t in sim.open_timers if t.startswith("flotod.")]:
            sim.fire_timer(timer_id)
    assert len(sim.open_timers) == 150
    sim.request_cancel()
    rounds = 0
    while not sim.closed:
        rounds += 1
        sim.respond(decide(sim.decision_task(), spec))
        for timer_id in [t for t in sim.open_timers if t.startswith("flotod.")]:
            sim.fire_timer(timer_id)
    assert sim.closed == "WorkflowExecutionCanceled" and rounds == 2
    assert not sim.open_timers


def test_repeat_workflow_continues_as_new_with_the_same_input_after_success_only() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    sim = SwfSim(input='{"n": 1}', task_list="my-decider")
    assert run(sim, decider_for(make_spec(a, repeat=True)), Recorder()) == (
        "WorkflowExecutionContinuedAsNew"
    )
    last = sim.decision_log[-1][-1]
    assert attrs(last)["input"] == '{"n": 1}'
    assert attrs(last)["taskList"] == {"name": "my-decider"}
    failing = SwfSim(input='{"n": 1}')
    worker = Recorder({"A": lambda ctx: (_ for _ in ()).throw(_fail())})
    assert run(failing, decider_for(make_spec(a, repeat=True)), worker) == (
        "WorkflowExecutionFailed"
    )


def _fail() -> Exception:
    from tests.engine.swfsim import ActivityError

    return ActivityError("boom")


def test_too_large_input_fails_naming_the_task_and_size() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    a2 = ActivityTask("a", "1", activity_id="A2")
    b = ActivityTask("b", "1", activity_id="B", requires=[a, a2])
    sim = SwfSim()
    worker = Recorder({"A": json.dumps("x" * 20000), "A2": json.dumps("x" * 20000)})
    assert run(sim, decider_for(make_spec(a, a2, b)), worker) == "WorkflowExecutionFailed"
    close = closing(sim)
    assert close["reason"] == "payload_too_large"
    details = json.loads(close["details"])
    assert details["task"] == "B" and details["size"] > 40000


def test_too_large_workflow_result_fails() -> None:
    tasks = [ActivityTask("a", "1", activity_id=f"A{i}") for i in range(3)]
    sim = SwfSim()
    worker = Recorder({f"A{i}": json.dumps("y" * 15000) for i in range(3)})
    assert run(sim, decider_for(make_spec(*tasks)), worker) == "WorkflowExecutionFailed"
    details = json.loads(closing(sim)["details"])
    assert closing(sim)["reason"] == "payload_too_large"
    assert details["payload"] == "workflow result" and details["size"] > 45000


def test_invalid_workflow_input_fails() -> None:
    sim = SwfSim(input="{not json")
    decisions = decide(sim.decision_task(), make_spec(ActivityTask("a", "1")))
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs(decisions[0])["reason"] == "invalid_workflow_input"


def test_input_nested_past_the_recursion_limit_is_invalid_input_not_a_crash() -> None:
    sim = SwfSim(input="[" * 3000)
    decisions = decide(sim.decision_task(), make_spec(ActivityTask("a", "1")))
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs(decisions[0])["reason"] == "invalid_workflow_input"


def test_bad_generator_output_fails_naming_the_generator() -> None:
    gen = Generator("g", "1", activity_id="G")
    other = ActivityTask("o", "1", activity_id="O")
    bad_outputs = {
        "not a list": '{"a": 1}',
        "not JSON": "tasks!",
        "unknown type": '[{"type": "os.system", "id_": "x"}]',
        "duplicate id": dumps([ActivityTask("o", "1", activity_id="O")]),
        "cycle": json.dumps(
            [
                {
                    "type": "ActivityTask",
                    "id_": "x",
                    "name": "n",
                    "version": "1",
                    "requires": ["y"],
                },
                {
                    "type": "ActivityTask",
                    "id_": "y",
                    "name": "n",
                    "version": "1",
                    "requires": ["x"],
                },
            ]
        ),
        "requires its generator": dumps([ActivityTask("n", "1", activity_id="x", requires=["G"])]),
    }
    for problem, output in bad_outputs.items():
        sim = SwfSim()
        worker = Recorder({"G": output})
        assert run(sim, decider_for(make_spec(gen, other)), worker) == "WorkflowExecutionFailed"
        close = closing(sim)
        assert close["reason"] == "generator_output_invalid", problem
        details = json.loads(close["details"])
        assert details["task"] == "G" and details["error"], problem


def test_crashed_decider_replays_after_decision_task_timeout() -> None:
    a = ActivityTask("a", "1", activity_id="A", retry_strategy=InstantRetry(1))
    b = ActivityTask("b", "1", activity_id="B", requires=[a])
    spec = make_spec(a, b)
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.fail_activity("A", "boom")
    sim.decision_task()  # a decider takes the task and dies
    sim.timeout_decision_task()
    events = sim.decision_task()
    decisions = decide(events, spec)
    assert kinds(decisions) == ["ScheduleActivityTask"]
    assert json.loads(attrs(decisions[0])["input"])["__flotod__"] == {"attempt": 2}
    sim.respond(decisions)
    assert run(sim, decider_for(spec), Recorder()) == "WorkflowExecutionCompleted"


def test_same_history_same_decisions_and_prefixes_replay() -> None:
    gen = Generator("g", "1", activity_id="G")
    tasks = [gen, ActivityTask("z", "1", activity_id="Z", requires=[gen])]
    spec = make_spec(*tasks)
    sim = SwfSim(input="{}")
    worker = Recorder({"G": dumps([ActivityTask("x", "1", activity_id=f"x{i}") for i in range(5)])})
    run(sim, decider_for(spec), worker)
    # Every decision recorded in the history is what decide() gives again for its prefix.
    prefixes = [i for i, e in enumerate(sim.events) if e["eventType"] == "DecisionTaskStarted"]
    assert len(prefixes) == len(sim.decision_log)
    for end, sent in zip(prefixes, sim.decision_log, strict=True):
        history = sim.events[: end + 1]
        assert decide(history, spec) == sent == decide(json.loads(json.dumps(history)), spec)


def test_signals_markers_and_unknown_events_are_ignored() -> None:
    spec = make_spec(ActivityTask("a", "1", activity_id="A"))
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.signal()
    sim.decision_task()  # another decider records a marker
    marker = {"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": {"markerName": "m"}}
    sim.respond([marker])
    sim.signal()
    events = sim.decision_task()
    assert decide(events, spec) == []
    # An event type SWF may add one day (none has it today, so it is written into the JSON)
    assert decide(with_event_inserted(events, -2, "SomethingNew", {"x": 1}), spec) == []


def with_event_inserted(
    events: list[dict[str, Any]], index: int, event_type: str, attributes: dict[str, Any]
) -> list[dict[str, Any]]:
    """``events`` with one more event at ``index``; later ids and references move up by one."""
    at = len(events) + index if index < 0 else index
    new_id = events[at]["eventId"]

    def shifted(event: dict[str, Any]) -> dict[str, Any]:
        moved = dict(event, eventId=event["eventId"] + 1)
        for key, value in event.items():
            if key.endswith("EventAttributes"):
                moved[key] = {
                    k: v + 1 if k.endswith("EventId") and isinstance(v, int) and v >= new_id else v
                    for k, v in value.items()
                }
        return moved

    extra = {
        "eventId": new_id,
        "eventType": event_type,
        "eventTimestamp": events[at]["eventTimestamp"],
        event_type[0].lower() + event_type[1:] + "EventAttributes": attributes,
    }
    return [*events[:at], extra, *(shifted(e) for e in events[at:])]


def test_history_that_does_not_fit_the_spec_fails_clearly() -> None:
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), make_spec(ActivityTask("a", "1", activity_id="A"))))
    sim.complete_activity("A", "1")
    decisions = decide(sim.decision_task(), make_spec(ActivityTask("b", "1", activity_id="B")))
    assert attrs(decisions[0])["reason"] == "history_mismatch"


def test_dynamic_decider_reads_tasks_from_the_input() -> None:
    defaults = make_spec(task_list="dyn-acts")
    a = ActivityTask("a", "1", activity_id="A")
    b = ActivityTask("b", "1", activity_id="B", requires=[a])
    sim = SwfSim(input=json.dumps({"activity_tasks": json.loads(dumps([a, b])), "x": 1}))
    worker = Recorder()

    def decider(events: list[dict[str, object]]) -> list[dict[str, object]]:
        return decide_dynamic(events, defaults)

    assert run(sim, decider, worker) == "WorkflowExecutionCompleted"
    assert worker.context("A")["workflow"]["x"] == 1
    assert attrs(sim.decision_log[0][0])["taskList"] == {"name": "dyn-acts"}
    assert workflow_input(sim.events) is not None


def test_dynamic_decider_refuses_missing_or_malformed_lists() -> None:
    defaults = make_spec()
    cases = {
        None: "missing_activity_tasks",
        '{"other": 1}': "missing_activity_tasks",
        '{"activity_tasks": 5}': "invalid_activity_tasks",
        '{"activity_tasks": [{"type": "Nope"}]}': "invalid_activity_tasks",
        "nope": "invalid_workflow_input",
    }
    for text, reason in cases.items():
        decisions = decide_dynamic(SwfSim(input=text).decision_task(), defaults)
        assert closes_workflow(decisions)
        assert attrs(decisions[0])["reason"] == reason, text
        assert "activity_tasks" in attrs(decisions[0])["details"] or reason.endswith("input")


def test_never_raises_on_a_broken_history() -> None:
    """A complete history with events the spec cannot explain is answered, never raised."""
    spec = make_spec(ActivityTask("a", "1", activity_id="A"))
    start = {"eventId": 1, "eventType": "WorkflowExecutionStarted"}
    orphan = [start, {"eventId": 2, "eventType": "ActivityTaskCompleted"}]
    assert attrs(decide(orphan, spec)[0])["reason"] == "history_mismatch"
    garbage: list[dict[str, object]] = [start, {"eventId": 2, "no": "event type"}]
    decisions = decide(garbage, spec)
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs(decisions[0])["reason"] == "decider_error"
    assert "KeyError" in attrs(decisions[0])["details"]
