"""Per-task timeouts in the decisions, and a repeating workflow's result marker."""

from __future__ import annotations

import json

import pytest

from flotod.engine import decide, ends_workflow
from flotod.errors import SpecError
from flotod.specs import ActivityTask, ChildWorkflow, decider_spec_from_dict, dumps
from tests.engine.conftest import Recorder, attrs, decider_for, kinds, make_spec
from tests.engine.swfsim import SwfSim, closing, run


def test_activity_timeouts_override_the_registered_defaults_in_the_decision() -> None:
    a = ActivityTask(
        "a",
        "1",
        activity_id="A",
        start_to_close_timeout=5400,
        schedule_to_start_timeout="NONE",
        schedule_to_close_timeout=9000,
        heartbeat_timeout=120,
    )
    b = ActivityTask("b", "1", activity_id="B")
    sim = SwfSim()
    decisions = decide(sim.decision_task(), make_spec(a, b))
    by_id = {attrs(x)["activityId"]: attrs(x) for x in decisions}
    assert {k: v for k, v in by_id["A"].items() if k.endswith("Timeout")} == {
        "startToCloseTimeout": "5400",
        "scheduleToStartTimeout": "NONE",
        "scheduleToCloseTimeout": "9000",
        "heartbeatTimeout": "120",
    }
    # A task without overrides leaves the type's registered defaults to SWF.
    assert not [k for k in by_id["B"] if k.endswith("Timeout")]


def test_child_timeouts_go_into_start_child_workflow_execution() -> None:
    kid = ChildWorkflow(
        "kid",
        "1",
        workflow_id="kid",
        child_decision_timeout_seconds=30,
        child_execution_timeout_seconds=86400,
    )
    decisions = decide(SwfSim().decision_task(), make_spec(kid), "wf")
    assert kinds(decisions) == ["StartChildWorkflowExecution"]
    assert attrs(decisions[0])["taskStartToCloseTimeout"] == "30"
    assert attrs(decisions[0])["executionStartToCloseTimeout"] == "86400"


def test_timeouts_survive_the_json_form() -> None:
    a = ActivityTask("a", "1", activity_id="A", heartbeat_timeout="NONE", start_to_close_timeout=7)
    kid = ChildWorkflow("kid", "1", workflow_id="kid", child_execution_timeout_seconds=60)
    spec = decider_spec_from_dict(json.loads(dumps(make_spec(a, kid))))
    assert list(spec.activity_tasks) == [a, kid]
    assert spec.activity_tasks[0].to_dict()["heartbeat_timeout"] == "NONE"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"start_to_close_timeout": 0}, "start_to_close_timeout is 0"),
        ({"heartbeat_timeout": 100_000_000}, "heartbeat_timeout is 100000000"),
        ({"schedule_to_close_timeout": "1h"}, "schedule_to_close_timeout must be whole seconds"),
        ({"schedule_to_start_timeout": 1.5}, "schedule_to_start_timeout must be whole seconds"),
    ],
)
def test_bad_activity_timeouts_are_refused_naming_the_field(
    kwargs: dict[str, object], words: str
) -> None:
    with pytest.raises(SpecError, match=words):
        ActivityTask("a", "1", activity_id="A", **kwargs)  # type: ignore[arg-type]


def test_a_child_execution_timeout_cannot_be_none() -> None:
    with pytest.raises(SpecError, match="child_execution_timeout_seconds cannot be 'NONE'"):
        ChildWorkflow("kid", "1", child_execution_timeout_seconds="NONE")  # type: ignore[arg-type]


def test_a_repeating_run_records_its_result_in_a_marker_before_continuing() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    sim = SwfSim(input='{"n": 1}')
    assert run(sim, decider_for(make_spec(a, repeat=True)), Recorder({"A": '"done"'})) == (
        "WorkflowExecutionContinuedAsNew"
    )
    last = sim.decision_log[-1]
    assert kinds(last) == ["RecordMarker", "ContinueAsNewWorkflowExecution"]
    assert attrs(last[0])["markerName"] == "flotod.result"
    assert json.loads(attrs(last[0])["details"]) == {"A": "done"}
    assert not ends_workflow(last)


def test_a_repeating_run_with_an_oversized_result_fails_as_a_completing_one_does() -> None:
    a = ActivityTask("a", "1", activity_id="A")
    a2 = ActivityTask("a", "1", activity_id="A2")
    big = json.dumps("x" * 20000)
    sim = SwfSim()
    spec = make_spec(a, a2, repeat=True)
    assert run(sim, decider_for(spec), Recorder({"A": big, "A2": big})) == (
        "WorkflowExecutionFailed"
    )
    assert closing(sim)["reason"] == "payload_too_large"
    assert "RecordMarker" not in kinds(sim.decision_log[-1])
