"""The task model: construction, default ids, validation messages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flotod.errors import SpecError
from flotod.specs import (
    ActivityTask,
    ChildWorkflow,
    DeciderSpec,
    ExponentialRetry,
    Generator,
    InstantRetry,
    Timer,
)


def test_readme_graph_builds_with_floto_names() -> None:
    a = ActivityTask(name="ActivityA", version="v1")
    b = ActivityTask(name="ActivityB", version="v1")
    c = ActivityTask(name="ActivityC", version="v1", requires=[a, b])
    spec = DeciderSpec(
        domain="floto_test",
        task_list="simple_decider",
        default_activity_task_list="atl",
        activity_tasks=[a, b, c],
    )
    assert c.requires == (a.id_, b.id_)
    assert set(spec.tasks_by_id) == {a.id_, b.id_, c.id_}
    assert a.id_.startswith("ActivityA:v1:") and len(a.id_.rsplit(":", 1)[1]) == 10


def test_requires_accepts_ids_and_tasks_alike() -> None:
    a = ActivityTask("A", "1")
    assert ActivityTask("B", "1", requires=[a]) == ActivityTask("B", "1", requires=[a.id_])


def test_default_id_depends_on_input_and_requirements_only() -> None:
    base = ActivityTask("A", "1", input={"x": 1, "y": [1, 2]})
    same = ActivityTask("A", "1", input={"y": [1, 2], "x": 1}, task_list="elsewhere")
    other_input = ActivityTask("A", "1", input={"x": 2})
    other_req = ActivityTask("A", "1", input={"x": 1, "y": [1, 2]}, requires=["r"])
    assert base.id_ == same.id_
    assert len({base.id_, other_input.id_, other_req.id_}) == 3


def test_default_id_is_stable_across_processes() -> None:
    code = (
        "from flotod.specs import ActivityTask;"
        "print(ActivityTask('A','1',input={'k':[1,'\u00e9']},requires=['x']).id_)"
    )
    ids = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert ids == {ActivityTask("A", "1", input={"k": [1, "\u00e9"]}, requires=["x"]).id_}


def test_explicit_ids() -> None:
    assert ActivityTask("A", "1", activity_id="mine").id_ == "mine"
    child = ChildWorkflow("wf", "1", workflow_id="kid")
    assert child.id_ == child.workflow_id == "kid"
    assert Timer("T", 5).id_ == "T"


def test_generator_is_an_activity_task() -> None:
    g = Generator("weekDays", "1")
    assert isinstance(g, ActivityTask)
    assert g.id_.startswith("weekDays:1:")


def test_tasks_are_immutable() -> None:
    a = ActivityTask("A", "1")
    with pytest.raises(AttributeError):
        a.name = "B"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ActivityTask("", "1"), "name must be a non-empty string"),
        (lambda: ActivityTask("A", "v" * 65), "version is 65 characters, SWF allows 64"),
        (lambda: ActivityTask("A", "1", input={1, 2}), "input is not plain JSON"),
        (lambda: ActivityTask("A", "1", requires="B"), "requires must be a list"),
        (lambda: ActivityTask("A", "1", requires=["B", "B"]), "same task twice"),
        (lambda: ActivityTask("A", "1", requires=[3]), "neither a task nor an id"),  # type: ignore[list-item]
        (lambda: ActivityTask("A", "1", retry_strategy=3), "retry_strategy must be"),  # type: ignore[arg-type]
        (lambda: Timer("T", -1), "delay_in_seconds is -1, SWF allows 0 to"),
        (lambda: Timer("", 1), "id_ must be a non-empty string"),
        (lambda: InstantRetry(-1), "retries must be an integer >= 0"),
        (lambda: ExponentialRetry(1, 1, backoff_coefficient=0.5), "backoff_coefficient"),
        (lambda: ExponentialRetry(1, 1, jitter=2), "jitter must be between 0 and 1"),
    ],
)
def test_bad_tasks_are_refused_with_a_message(build: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build()  # type: ignore[operator]


def test_spec_refuses_duplicate_ids() -> None:
    with pytest.raises(SpecError, match="task id 'X' is used by more than one task"):
        DeciderSpec("d", activity_tasks=[ActivityTask("A", "1", "X"), Timer("X", 1)])


def test_spec_refuses_unknown_requirements() -> None:
    with pytest.raises(SpecError, match="task 'B' requires 'nope', which is not in the spec"):
        DeciderSpec("d", activity_tasks=[ActivityTask("B", "1", "B", requires=["nope"])])


def test_spec_refuses_cycles_naming_a_task() -> None:
    a = ActivityTask("A", "1", "a", requires=["c"])
    b = ActivityTask("B", "1", "b", requires=["a"])
    c = ActivityTask("C", "1", "c", requires=["b"])
    ok = ActivityTask("D", "1", "d")
    with pytest.raises(SpecError, match="'a' is part of a dependency cycle"):
        DeciderSpec("d", activity_tasks=[ok, a, b, c])


def test_spec_refuses_non_tasks() -> None:
    with pytest.raises(SpecError, match="not a task"):
        DeciderSpec("d", activity_tasks=[{"name": "A"}])  # type: ignore[list-item]


def test_large_graph_validation_is_fast_enough_to_be_linear() -> None:
    tasks: list[ActivityTask] = [ActivityTask("T", "1", "t0")]
    for i in range(1, 20_000):
        tasks.append(ActivityTask("T", "1", f"t{i}", requires=[f"t{i - 1}"]))
    spec = DeciderSpec("d", activity_tasks=tasks)
    assert len(spec.tasks_by_id) == 20_000


def test_retry_strategies() -> None:
    instant = InstantRetry(retries=2)
    assert not instant.is_exhausted(2) and instant.is_exhausted(3)
    assert instant.delay_seconds("t", 1) == 0
    exp = ExponentialRetry(retries=5, initial_delay_seconds=10, max_delay_seconds=60)
    assert [exp.delay_seconds("t", n) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert ExponentialRetry(3, 0).delay_seconds("t", 2) == 0


def test_exponential_jitter_is_deterministic_and_bounded() -> None:
    exp = ExponentialRetry(retries=3, initial_delay_seconds=100, jitter=0.5)
    delays = [exp.delay_seconds(f"task-{i}", 1) for i in range(200)]
    assert delays == [exp.delay_seconds(f"task-{i}", 1) for i in range(200)]
    assert all(50 <= d <= 100 for d in delays)
    assert len(set(delays)) > 20
