"""A workflow that fails asks its open children to cancel first (issue 14, item 5).

SWF applies a parent's child policy only when the parent is terminated or times out
(API reference, ``childPolicy``: "if this workflow execution is terminated, by calling the
TerminateWorkflowExecution action explicitly or due to an expired timeout"), not when its
decider fails it. Without a RequestCancelExternalWorkflowExecution per open child, the
siblings of a failed child run on and hold their workflow ids, so re-running the workflow
collides with them. The histories here are plain JSON, as SWF returns them.
"""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import decide
from flotod.engine.history import child_control
from flotod.specs import ActivityTask, ChildWorkflow, InstantRetry
from tests.engine.conftest import attrs, kinds, make_spec

Event = dict[str, Any]


class History:
    """A JSON history written event by event, ids and timestamps filled in."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.add(
            "WorkflowExecutionStarted",
            childPolicy="TERMINATE",
            taskList={"name": "decider"},
            workflowType={"name": "wf", "version": "1"},
            executionStartToCloseTimeout="3600",
            taskStartToCloseTimeout="60",
        )

    def add(self, event_type: str, **attributes: Any) -> int:
        event_id = len(self.events) + 1
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        self.events.append(
            {
                "eventId": event_id,
                "eventType": event_type,
                "eventTimestamp": 1_700_000_000.0 + event_id,
                key: attributes,
            }
        )
        return event_id

    def decision_task(self) -> int:
        """Scheduled, started and (unless it is the last) completed: returns the completed id."""
        scheduled = self.add("DecisionTaskScheduled", taskList={"name": "decider"})
        started = self.add("DecisionTaskStarted", scheduledEventId=scheduled)
        return self.add("DecisionTaskCompleted", scheduledEventId=scheduled, startedEventId=started)

    def pending_decision_task(self) -> list[Event]:
        scheduled = self.add("DecisionTaskScheduled", taskList={"name": "decider"})
        self.add("DecisionTaskStarted", scheduledEventId=scheduled)
        return [json.loads(json.dumps(e)) for e in self.events]

    def start_child(self, workflow_id: str, task_id: str, completed: int) -> int:
        initiated = self.add(
            "StartChildWorkflowExecutionInitiated",
            workflowId=workflow_id,
            workflowType={"name": "c", "version": "1"},
            control=child_control(task_id),
            input="{}",
            childPolicy="TERMINATE",
            taskList={"name": "kids"},
            decisionTaskCompletedEventId=completed,
        )
        self.add(
            "ChildWorkflowExecutionStarted",
            workflowExecution={"workflowId": workflow_id, "runId": f"run-{task_id}"},
            workflowType={"name": "c", "version": "1"},
            initiatedEventId=initiated,
        )
        return initiated

    def child_failed(self, workflow_id: str, task_id: str, initiated: int) -> None:
        self.add(
            "ChildWorkflowExecutionFailed",
            workflowExecution={"workflowId": workflow_id, "runId": f"run-{task_id}"},
            workflowType={"name": "c", "version": "1"},
            initiatedEventId=initiated,
            startedEventId=initiated + 1,
            reason="boom",
            details="it broke",
        )


def _two_children(failing_retries: int = 0) -> tuple[Any, History, dict[str, int]]:
    retry = InstantRetry(failing_retries) if failing_retries else None
    spec = make_spec(
        ChildWorkflow("c", "1", workflow_id="bad", retry_strategy=retry),
        ChildWorkflow("c", "1", workflow_id="good"),
    )
    history = History()
    completed = history.decision_task()
    initiated = {
        "bad": history.start_child("wf:bad", "bad", completed),
        "good": history.start_child("wf:good", "good", completed),
    }
    return spec, history, initiated


def test_a_failing_parent_cancels_its_open_children_before_failing() -> None:
    spec, history, initiated = _two_children()
    history.child_failed("wf:bad", "bad", initiated["bad"])
    decisions = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(decisions) == [
        "RequestCancelExternalWorkflowExecution",
        "FailWorkflowExecution",
    ]
    assert attrs(decisions[0]) == {"workflowId": "wf:good", "runId": "run-good"}
    assert attrs(decisions[1])["reason"] == "task_failed"


def test_a_child_already_asked_is_not_asked_again() -> None:
    spec, history, initiated = _two_children()
    history.child_failed("wf:bad", "bad", initiated["bad"])
    completed = history.decision_task()
    history.add(
        "RequestCancelExternalWorkflowExecutionInitiated",
        workflowId="wf:good",
        runId="run-good",
        decisionTaskCompletedEventId=completed,
    )
    # the failure was refused (a signal came in meanwhile): decide again
    history.add(
        "FailWorkflowExecutionFailed",
        cause="UNHANDLED_DECISION",
        decisionTaskCompletedEventId=completed,
    )
    history.add("WorkflowExecutionSignaled", signalName="poke", input="{}")
    decisions = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(decisions) == ["FailWorkflowExecution"]


def test_a_failing_parent_without_open_children_fails_alone() -> None:
    spec, history, initiated = _two_children()
    history.child_failed("wf:bad", "bad", initiated["bad"])
    history.add(
        "ChildWorkflowExecutionCompleted",
        workflowExecution={"workflowId": "wf:good", "runId": "run-good"},
        workflowType={"name": "c", "version": "1"},
        initiatedEventId=initiated["good"],
        startedEventId=initiated["good"] + 1,
        result="{}",
    )
    decisions = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(decisions) == ["FailWorkflowExecution"]


def test_a_retried_child_failure_cancels_nothing() -> None:
    spec, history, initiated = _two_children(failing_retries=1)
    history.child_failed("wf:bad", "bad", initiated["bad"])
    decisions = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(decisions) == ["StartChildWorkflowExecution"]


def test_an_activity_failure_cancels_open_children_too() -> None:
    spec = make_spec(
        ActivityTask("a", "1", activity_id="A"), ChildWorkflow("c", "1", workflow_id="kid")
    )
    history = History()
    completed = history.decision_task()
    scheduled = history.add(
        "ActivityTaskScheduled",
        activityId="A",
        activityType={"name": "a", "version": "1"},
        input="{}",
        taskList={"name": "acts"},
        decisionTaskCompletedEventId=completed,
    )
    history.start_child("wf:kid", "kid", completed)
    started = history.add("ActivityTaskStarted", scheduledEventId=scheduled)
    history.add(
        "ActivityTaskFailed", scheduledEventId=scheduled, startedEventId=started, reason="r"
    )
    decisions = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(decisions) == [
        "RequestCancelExternalWorkflowExecution",
        "FailWorkflowExecution",
    ]
    assert attrs(decisions[0])["workflowId"] == "wf:kid"


def test_more_open_children_than_one_response_holds() -> None:
    kids = [ChildWorkflow("c", "1", workflow_id=f"k{i}") for i in range(120)]
    spec = make_spec(ChildWorkflow("c", "1", workflow_id="bad"), *kids)
    history = History()
    completed = history.decision_task()
    bad = history.start_child("wf:bad", "bad", completed)
    for i in range(120):
        history.start_child(f"wf:k{i}", f"k{i}", completed)
    history.child_failed("wf:bad", "bad", bad)
    first = decide(history.pending_decision_task(), spec, "wf")
    assert len(first) == 100
    assert kinds(first)[:99] == ["RequestCancelExternalWorkflowExecution"] * 99
    assert kinds(first)[99] == "StartTimer"  # the rest, and the failure, come next
    history.events.pop()  # answer the pending task with those decisions
    history.events.pop()
    completed = history.decision_task()
    for decision in first[:99]:
        history.add(
            "RequestCancelExternalWorkflowExecutionInitiated",
            **attrs(decision),
            decisionTaskCompletedEventId=completed,
        )
    timer = attrs(first[99])
    started = history.add("TimerStarted", **timer, decisionTaskCompletedEventId=completed)
    history.add("TimerFired", timerId=timer["timerId"], startedEventId=started)
    second = decide(history.pending_decision_task(), spec, "wf")
    assert kinds(second) == ["RequestCancelExternalWorkflowExecution"] * 21 + [
        "FailWorkflowExecution"
    ]
