"""floto's README examples, replayed through the in-test SWF from start to close."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import RESERVED_KEY, decide
from flotod.specs import ActivityTask, ChildWorkflow, Generator, Timer, dumps
from tests.engine.conftest import Recorder, attrs, decider_for, kinds, make_spec
from tests.engine.swfsim import SwfSim, closing, run

A = ActivityTask("ActivityA", "v1", activity_id="A")
B = ActivityTask("ActivityB", "v1", activity_id="B")
C = ActivityTask("ActivityC", "v1", activity_id="C", requires=[A, B], input={"k": 1})


def test_a_and_b_then_c_with_contexts_and_result() -> None:
    sim = SwfSim(input='{"day": "2024-01-02"}')
    worker = Recorder({"A": {"a": 1}, "B": "plain text"})
    assert run(sim, decider_for(make_spec(A, B, C)), worker) == "WorkflowExecutionCompleted"
    # A and B were scheduled together in the first decision, C only after both completed.
    first = sim.decision_log[0]
    assert kinds(first) == ["ScheduleActivityTask", "ScheduleActivityTask"]
    assert attrs(first[0])["taskList"] == {"name": "acts"}
    assert attrs(first[0])["activityType"] == {"name": "ActivityA", "version": "v1"}
    assert worker.context("A") == {"workflow": {"day": "2024-01-02"}, RESERVED_KEY: {"attempt": 1}}
    assert worker.context("C") == {
        "A": {"a": 1},
        "B": "plain text",
        "activity_task": {"k": 1},
        RESERVED_KEY: {"attempt": 1},
    }
    assert worker.order().index("C") == 2
    assert json.loads(closing(sim)["result"]) == {"C": {"done": "C"}}


def test_no_task_list_leaves_it_to_the_type_default() -> None:
    decisions = decide(SwfSim().decision_task(), make_spec(A, task_list=None))
    assert "taskList" not in attrs(decisions[0])
    own = ActivityTask("X", "1", activity_id="X", task_list="own")
    decisions = decide(SwfSim().decision_task(), make_spec(own))
    assert attrs(decisions[0])["taskList"] == {"name": "own"}


def test_falsy_results_are_results() -> None:
    tasks = [ActivityTask("n", "1", activity_id=f"t{i}") for i in range(5)]
    sink = ActivityTask("sink", "1", activity_id="sink", requires=tasks)
    worker = Recorder({"t0": "0", "t1": '""', "t2": "[]", "t3": "false", "t4": None})
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(*tasks, sink)), worker) == "WorkflowExecutionCompleted"
    context = worker.context("sink")
    assert [context[f"t{i}"] for i in range(5)] == [0, "", [], False, None]


def test_timer_in_the_graph_delays_its_dependent() -> None:
    timer = Timer("Timer30", 30, requires=[A])
    b = ActivityTask("ActivityB", "v1", activity_id="B", requires=[timer])
    sim = SwfSim()
    worker = Recorder()
    assert run(sim, decider_for(make_spec(A, timer, b)), worker) == "WorkflowExecutionCompleted"
    flat = [d for batch in sim.decision_log for d in batch]
    assert kinds(flat) == [
        "ScheduleActivityTask",
        "StartTimer",
        "ScheduleActivityTask",
        "CompleteWorkflowExecution",
    ]
    assert attrs(flat[1])["timerId"] == "Timer30"
    assert attrs(flat[1])["startToFireTimeout"] == "30"
    assert worker.context("B")["Timer30"] is None
    assert json.loads(closing(sim)["result"]) == {"B": {"done": "B"}}


def test_independent_timer_delays_completion() -> None:
    b = ActivityTask("ActivityB", "v1", activity_id="B", requires=[A])
    timer = Timer("Timer3600", 3600)
    spec = make_spec(A, b, timer)
    sim = SwfSim()
    first = decide(sim.decision_task(), spec)
    assert sorted(kinds(first)) == ["ScheduleActivityTask", "StartTimer"]
    sim.respond(first)
    sim.complete_activity("A", "1")
    sim.respond(decide(sim.decision_task(), spec))
    sim.complete_activity("B", "2")
    assert decide(sim.decision_task(), spec) == []  # the timer still runs
    sim.respond([])
    sim.fire_timer("Timer3600")
    final = decide(sim.decision_task(), spec)
    assert kinds(final) == ["CompleteWorkflowExecution"]
    assert json.loads(attrs(final[0])["result"]) == {"B": 2}


def _week_days(context: dict[str, Any]) -> str:
    days = ["2024-01-05", "2024-01-08"]  # Friday and Monday between a weekend
    tasks = []
    for day in days:
        copy = ActivityTask("copyFile", "1", activity_id=f"copy-{day}", input=day)
        length = ActivityTask("fileLength", "1", activity_id=f"len-{day}", requires=[copy])
        tasks += [copy, length]
    assert context["workflow"] == {"from_date": "2024-01-05", "to_date": "2024-01-08"}
    return dumps(tasks)


def test_generator_week_days() -> None:
    gen = Generator("weekDays", "1", activity_id="weekDays")
    total = ActivityTask("sum", "1", activity_id="sum", requires=[gen])
    worker = Recorder(
        {
            "weekDays": _week_days,
            "len-2024-01-05": "5",
            "len-2024-01-08": "7",
            "sum": lambda ctx: {"total": ctx["len-2024-01-05"] + ctx["len-2024-01-08"]},
        }
    )
    sim = SwfSim(input='{"from_date": "2024-01-05", "to_date": "2024-01-08"}')
    assert run(sim, decider_for(make_spec(gen, total)), worker) == "WorkflowExecutionCompleted"
    # Generated roots inherit the generator's (empty) requirements: they see the workflow input.
    assert worker.context("copy-2024-01-05")["workflow"]["from_date"] == "2024-01-05"
    assert worker.context("copy-2024-01-05")["activity_task"] == "2024-01-05"
    assert set(worker.context("sum")) == {"len-2024-01-05", "len-2024-01-08", RESERVED_KEY}
    assert worker.order()[-1] == "sum"
    assert json.loads(closing(sim)["result"]) == {"sum": {"total": 12}}


def test_generator_as_sink_returns_its_generated_sinks_and_inherits_requirements() -> None:
    gen = Generator("g", "1", activity_id="g", requires=[A])
    generated = [ActivityTask("x", "1", activity_id="x"), ActivityTask("y", "1", activity_id="y")]
    worker = Recorder({"A": {"from": "A"}, "g": dumps(generated)})
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(A, gen)), worker) == "WorkflowExecutionCompleted"
    assert worker.context("x") == {"A": {"from": "A"}, RESERVED_KEY: {"attempt": 1}}
    assert json.loads(closing(sim)["result"]) == {"x": {"done": "x"}, "y": {"done": "y"}}


def test_empty_generator_hands_an_empty_list_on() -> None:
    gen = Generator("g", "1", activity_id="g")
    after = ActivityTask("after", "1", activity_id="after", requires=[gen])
    worker = Recorder({"g": "[]"})
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(gen, after)), worker) == "WorkflowExecutionCompleted"
    assert worker.context("after")["g"] == []


def test_nested_generators() -> None:
    inner = Generator("inner", "1", activity_id="inner")
    outer = Generator("outer", "1", activity_id="outer")
    last = ActivityTask("last", "1", activity_id="last", requires=[outer])
    leaf = ActivityTask("leaf", "1", activity_id="leaf")
    worker = Recorder({"outer": dumps([inner]), "inner": dumps([leaf]), "leaf": "42"})
    sim = SwfSim()
    assert run(sim, decider_for(make_spec(outer, last)), worker) == "WorkflowExecutionCompleted"
    assert worker.context("last")["leaf"] == 42


def test_child_workflow_start_and_result() -> None:
    child = ChildWorkflow(
        "childType", "v2", workflow_id="kid", requires=[A], input={"x": 1}, task_list="kids"
    )
    after = ActivityTask("after", "1", activity_id="after", requires=[child])
    spec = make_spec(A, child, after)
    sim = SwfSim()
    worker = Recorder({"A": "1"})
    seen: list[dict[str, Any]] = []

    def child_result(start: dict[str, Any]) -> str:
        seen.append(start)
        return '{"child": "ok"}'

    result = run(sim, decider_for(spec, "parent-7"), worker, child_result=child_result)
    assert result == "WorkflowExecutionCompleted"
    (start,) = seen
    assert start["workflowId"] == "parent-7:kid"
    assert start["workflowType"] == {"name": "childType", "version": "v2"}
    assert start["taskList"] == {"name": "kids"}
    assert start["childPolicy"] == "TERMINATE"
    assert json.loads(start["input"]) == {"A": 1, "child_workflow": {"x": 1}}
    assert worker.context("after")["kid"] == {"child": "ok"}


def test_child_workflow_id_without_parent_id_is_stable_and_short() -> None:
    long_id = "k" * 250
    child = ChildWorkflow("c", "1", workflow_id=long_id)
    sim = SwfSim(input='"x"')
    events = sim.decision_task()
    first = decide(events, make_spec(child), None)
    again = decide(events, make_spec(child), None)
    wid = attrs(first[0])["workflowId"]
    assert wid == attrs(again[0])["workflowId"]
    assert len(wid) <= 256
    long_parent = decide(events, make_spec(child), "p" * 200)
    assert len(attrs(long_parent[0])["workflowId"]) <= 256
