"""VersionedHandler: each run decided by the spec of the workflow type version it started with."""

from __future__ import annotations

from typing import Any

import pytest

from flotod.engine import replay_check
from flotod.engine.versions import VersionedHandler
from flotod.errors import UnservedVersionError
from flotod.specs import ActivityTask
from flotod.swf.types import DecisionTask, WorkflowExecution
from tests.engine.conftest import attrs, make_spec

V1 = make_spec(ActivityTask("ActivityA", "v1", activity_id="a"))
V2 = make_spec(ActivityTask("ActivityB", "v1", activity_id="b"))


def first_task(version: str, name: str = "order", run_id: str = "r1") -> DecisionTask:
    """A run's first decision task, as SWF's JSON history has it."""
    workflow_type = {"name": name, "version": version}
    events: list[dict[str, Any]] = [
        {
            "eventId": 1,
            "eventType": "WorkflowExecutionStarted",
            "eventTimestamp": 1.0,
            "workflowExecutionStartedEventAttributes": {
                "workflowType": workflow_type,
                "taskList": {"name": "decider"},
                "input": "{}",
                "childPolicy": "TERMINATE",
            },
        },
        {
            "eventId": 2,
            "eventType": "DecisionTaskScheduled",
            "eventTimestamp": 1.0,
            "decisionTaskScheduledEventAttributes": {"taskList": {"name": "decider"}},
        },
        {
            "eventId": 3,
            "eventType": "DecisionTaskStarted",
            "eventTimestamp": 1.0,
            "decisionTaskStartedEventAttributes": {"scheduledEventId": 2},
        },
    ]
    return DecisionTask(
        task_token="t",
        workflow_execution=WorkflowExecution("wf", run_id),
        workflow_type=workflow_type,
        events=events,
        started_event_id=3,
    )


def scheduled(handler: VersionedHandler, task: DecisionTask) -> list[str]:
    return [attrs(d)["activityType"]["name"] for d in handler(task).decisions]


@pytest.mark.parametrize("max_events", [0, 1000])
def test_each_run_is_decided_by_the_spec_of_its_version(max_events: int) -> None:
    handler = VersionedHandler("order", {"v1": V1, "v2": V2}, max_events=max_events)
    assert scheduled(handler, first_task("v1", run_id="r1")) == ["ActivityA"]
    assert scheduled(handler, first_task("v2", run_id="r2")) == ["ActivityB"]
    assert handler.spec_of({"name": "order", "version": "v2"}) is V2


@pytest.mark.parametrize(("name", "version"), [("order", "v3"), ("other", "v1")])
def test_a_type_it_does_not_serve_is_refused_by_name(name: str, version: str) -> None:
    handler = VersionedHandler("order", {"v1": V1, "v2": V2})
    with pytest.raises(UnservedVersionError) as info:
        handler(first_task(version, name=name))
    assert str(info.value) == (
        f"no spec for workflow type {name}:{version} (this decider serves order:v1, order:v2)"
    )


def test_the_history_cache_is_shared_out_between_versions() -> None:
    handler = VersionedHandler("order", {"v1": V1, "v2": V2}, max_events=1000)
    held = [h.replays.max_events for h in handler.handlers.values() if h.replays is not None]
    assert held == [500, 500]


def test_replay_check_picks_the_version_from_the_history() -> None:
    """``flotod replay`` and the reload check hand the handler a run's whole history."""
    task = first_task("v2")
    decided = VersionedHandler("order", {"v1": V1, "v2": V2})(task).decisions
    completed = {
        "eventId": 4,
        "eventType": "DecisionTaskCompleted",
        "eventTimestamp": 1.0,
        "decisionTaskCompletedEventAttributes": {"scheduledEventId": 2, "startedEventId": 3},
    }
    scheduled_b = {
        "eventId": 5,
        "eventType": "ActivityTaskScheduled",
        "eventTimestamp": 1.0,
        "activityTaskScheduledEventAttributes": {
            **attrs(decided[0]),
            "decisionTaskCompletedEventId": 4,
        },
    }
    history = [*task.events, completed, scheduled_b]
    assert replay_check(history, VersionedHandler("order", {"v1": V1, "v2": V2})).agreed
    changed = VersionedHandler("order", {"v1": V1, "v2": V1})
    assert not replay_check(history, changed).agreed
