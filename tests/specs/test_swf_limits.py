"""Specs are checked against SWF's limits when built, so a decision SWF would refuse is never
planned: SWF refuses the whole RespondDecisionTaskCompleted, and the same decisions would be
sent again at every decision task timeout until the run reaches 25,000 events."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from flotod.errors import SpecError
from flotod.specs import (
    ActivityTask,
    ChildWorkflow,
    DeciderSpec,
    ExponentialRetry,
    Timer,
    load_decider_spec,
    tasks_from_list,
)

MAX_SECONDS = 99_999_999  # SWF durations are strings of at most 8 digits


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Timer("T", 10**9), r"Timer 'T': delay_in_seconds .*99999999"),
        (lambda: Timer("T", MAX_SECONDS + 1), "delay_in_seconds"),
        (lambda: Timer("T", -1), "delay_in_seconds"),
        (lambda: Timer("T", math.nan), "delay_in_seconds"),  # type: ignore[arg-type]
        (lambda: ExponentialRetry(1, 10**9), "initial_delay_seconds"),
        (lambda: ExponentialRetry(1, 5, max_delay_seconds=10**9), "max_delay_seconds"),
        (lambda: ExponentialRetry(1, 5, backoff_coefficient=math.nan), "backoff_coefficient"),
        (lambda: ExponentialRetry(1, 5, backoff_coefficient=math.inf), "backoff_coefficient"),
        (lambda: ExponentialRetry(1, 5, jitter=math.nan), "jitter"),
        (lambda: ActivityTask("a", "1", input={"x": math.nan}), "input"),
        (lambda: ActivityTask("a", "1", input=[math.inf]), "input"),
        (lambda: ActivityTask("a\x00b", "1"), "name"),
        (lambda: ActivityTask("a", "1\n"), "version"),
        (lambda: ActivityTask("a", "v" * 65), "version"),
        (lambda: ActivityTask("a", "1", activity_id="x" * 257), "activity_id"),
        (lambda: ActivityTask("a", "1", activity_id="tab\there"), "activity_id"),
        (lambda: ActivityTask("a", "1", task_list="a:b"), "task_list"),
        (lambda: ActivityTask("a", "1", task_list="a/b"), "task_list"),
        (lambda: ActivityTask("a", "1", task_list="a|b"), "task_list"),
        (lambda: ActivityTask("a", "1", task_list="arn"), "task_list"),
        (lambda: ActivityTask("a", "1", task_list=" padded"), "task_list"),
        (lambda: ActivityTask("a", "1", task_list="\x85"), "task_list"),
        (lambda: ChildWorkflow("w", "1", task_list="x" * 257), "task_list"),
        (lambda: ChildWorkflow("w\x7f", "1"), "workflow_type_name"),
        (lambda: DeciderSpec("d" * 257), "domain"),
        (lambda: DeciderSpec("d", task_list="a:b"), "task_list"),
        (lambda: DeciderSpec("d", default_activity_task_list="a|b"), "default_activity_task_list"),
    ],
)
def test_values_swf_would_refuse_are_refused_naming_the_field(build: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build()


def test_values_at_swf_limits_are_accepted() -> None:
    assert Timer("T", MAX_SECONDS).delay_in_seconds == MAX_SECONDS
    assert Timer("T", 0).delay_in_seconds == 0
    strategy = ExponentialRetry(3, MAX_SECONDS, max_delay_seconds=MAX_SECONDS)
    assert strategy.delay_seconds("A", 1) == MAX_SECONDS
    task = ActivityTask("a" * 256, "v" * 64, activity_id="i" * 256, task_list="t" * 256)
    assert task.task_list == "t" * 256
    assert DeciderSpec("d" * 256, task_list="decider-list.1").domain == "d" * 256


@pytest.mark.parametrize("failures", [1, 2, 30, 1000, 10**6])
def test_exponential_delays_never_exceed_the_limit(failures: int) -> None:
    huge = ExponentialRetry(10**9, 1, backoff_coefficient=1e300, max_delay_seconds=MAX_SECONDS)
    delay = huge.delay_seconds("A", failures)
    assert 1 <= delay <= MAX_SECONDS
    jittered = ExponentialRetry(10**9, 7, backoff_coefficient=10.0, jitter=0.5)
    assert 1 <= jittered.delay_seconds("A", failures) <= jittered.max_delay_seconds


def test_the_json_form_names_where_the_bad_value_is() -> None:
    raw = [
        {"type": "Timer", "id_": "ok", "delay_in_seconds": 5},
        {"type": "Timer", "id_": "T", "delay_in_seconds": 10**9},
    ]
    with pytest.raises(SpecError, match=r"activity_tasks\[1\].*delay_in_seconds"):
        tasks_from_list(raw)
    retry = {"type": "ExponentialRetry", "retries": 1, "initial_delay_seconds": 5}
    bad = {**retry, "backoff_coefficient": float("nan")}

    def spec_with(strategy: dict[str, Any]) -> str:
        task = {"type": "ActivityTask", "name": "a", "version": "1", "retry_strategy": strategy}
        return json.dumps({"domain": "d", "activity_tasks": [task]})  # writes NaN, Infinity

    with pytest.raises(
        SpecError, match=r"activity_tasks\[0\]\.retry_strategy.*backoff_coefficient"
    ):
        load_decider_spec(spec_with(bad))
    with pytest.raises(SpecError, match="jitter"):
        load_decider_spec(spec_with({**retry, "jitter": float("inf")}))
