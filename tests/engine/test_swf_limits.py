"""No decision SWF would refuse goes out, and a refusal ends the run instead of looping.

SWF refuses a RespondDecisionTaskCompleted holding a duration over 8 digits with a
ValidationException and records nothing: the same decisions would go out again at every
decision task timeout until the run reaches 25,000 events.
"""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import decide, decide_dynamic
from flotod.engine.decisions import MAX_PAYLOAD, MAX_REASON, decision_rejected
from flotod.specs import ActivityTask, RetryStrategy
from tests.engine.conftest import attrs, kinds, make_spec
from tests.engine.swfsim import SwfSim


def test_a_dynamic_workflow_with_a_timer_over_swf_limit_fails_in_its_first_decision() -> None:
    tasks = [
        {"type": "ActivityTask", "id_": "A", "name": "a", "version": "1"},
        {"type": "Timer", "id_": "T", "delay_in_seconds": 10**9, "requires": ["A"]},
    ]
    sim = SwfSim(input=json.dumps({"activity_tasks": tasks}))
    decisions = decide_dynamic(sim.decision_task(), make_spec(), "wf")
    assert kinds(decisions) == ["FailWorkflowExecution"]
    fail = attrs(decisions[0])
    assert fail["reason"] == "invalid_activity_tasks"
    error = json.loads(fail["details"])["error"]
    assert "activity_tasks[1]" in error and "delay_in_seconds" in error and "99999999" in error
    sim.respond(decisions)
    assert sim.closed == "WorkflowExecutionFailed"


class Unbounded(RetryStrategy):
    """A strategy written without SWF's limit in mind."""

    type_name = "Unbounded"
    retries = 3

    def delay_seconds(self, task_id: str, failures: int) -> int:
        return 10**12

    def to_dict(self) -> dict[str, Any]:
        return {"retries": self.retries}


def test_a_retry_delay_beyond_swf_limit_is_capped_at_decision_time() -> None:
    spec = make_spec(ActivityTask("a", "1", activity_id="A", retry_strategy=Unbounded()))
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec))
    sim.fail_activity("A", "boom")
    decisions = decide(sim.decision_task(), spec)
    assert kinds(decisions) == ["StartTimer"]
    assert attrs(decisions[0])["startToFireTimeout"] == "99999999"
    sim.respond(decisions)  # the simulated SWF refuses durations over 8 digits


def test_decision_rejected_fails_the_workflow_with_swf_message() -> None:
    message = (
        "1 validation error detected: Value '1000000000' at "
        "'decisions.1.member.startTimerDecisionAttributes.startToFireTimeout' failed to "
        "satisfy constraint: Member must have length less than or equal to 8"
    )
    refused = [
        {"decisionType": "ScheduleActivityTask"},
        {"decisionType": "StartTimer"},
        {"decisionType": "StartTimer"},
    ]
    (fail,) = decision_rejected(message, refused)
    assert fail["decisionType"] == "FailWorkflowExecution"
    assert attrs(fail)["reason"] == "decision_rejected"
    details = json.loads(attrs(fail)["details"])
    assert details["error"] == message
    assert details["refused"] == {"ScheduleActivityTask": 1, "StartTimer": 2}
    # SWF's message is cut to fit, so the failure itself is never refused.
    (long,) = decision_rejected("x" * 100_000, refused)
    assert len(attrs(long)["details"]) <= MAX_PAYLOAD
    assert len(attrs(long)["reason"]) <= MAX_REASON
    assert json.loads(attrs(long)["details"])["error"].startswith("xxx")
    sim = SwfSim()
    sim.decision_task()
    sim.respond(decision_rejected(message))
    assert sim.closed == "WorkflowExecutionFailed"
