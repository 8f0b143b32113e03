"""An in-test SWF: applies decisions and records the events SWF would, in SWF's shapes.

It keeps SWF's rules that matter to a decider: one decision task at a time (events arriving
meanwhile schedule the next one), at most 100 decisions, closing decisions last and refused with
UNHANDLED_DECISION when events arrived during the decision task, id clashes among open
activities/timers, and the 32,768-character limit on inputs and results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
Decision = dict[str, Any]

CLOSED = {
    "CompleteWorkflowExecution": "WorkflowExecutionCompleted",
    "FailWorkflowExecution": "WorkflowExecutionFailed",
    "CancelWorkflowExecution": "WorkflowExecutionCanceled",
    "ContinueAsNewWorkflowExecution": "WorkflowExecutionContinuedAsNew",
}


class SwfViolation(AssertionError):
    """The decider sent something real SWF would reject as a bad request."""


def attrs_key(name: str) -> str:
    return name[0].lower() + name[1:]


class SwfSim:
    def __init__(
        self,
        input: str | None = None,
        *,
        task_list: str = "decider",
        known_activity_types: set[tuple[str, str]] | None = None,
        known_workflow_types: set[tuple[str, str]] | None = None,
    ) -> None:
        self.events: list[Event] = []
        self.closed: str | None = None
        self.known_activity_types = known_activity_types
        self.known_workflow_types = known_workflow_types
        self._decision: str | None = None  # None, "scheduled" or "started"
        self._decision_ids: tuple[int, int] = (0, 0)
        self._pending = False
        self._after = False
        self.open_activities: dict[str, int] = {}  # activity id -> scheduled event id
        self.activity_attrs: dict[int, dict[str, Any]] = {}
        self.open_timers: dict[str, int] = {}  # timer id -> started event id
        self.open_children: dict[str, int] = {}  # workflow id -> initiated event id
        self.child_attrs: dict[int, dict[str, Any]] = {}
        self.decision_log: list[list[Decision]] = []
        # Causes to refuse the next decisions of a type with, in order (SWF's transient ones).
        self.refuse: dict[str, list[str]] = {}
        started: dict[str, Any] = {
            "childPolicy": "TERMINATE",
            "taskList": {"name": task_list},
            "workflowType": {"name": "wf", "version": "1"},
            "executionStartToCloseTimeout": "3600",
            "taskStartToCloseTimeout": "60",
        }
        if input is not None:
            started["input"] = input
        self.add("WorkflowExecutionStarted", **started)

    # -- events -----------------------------------------------------------------------------

    def add(self, event_type: str, **attrs: Any) -> int:
        event_id = len(self.events) + 1
        self.events.append(
            {
                "eventId": event_id,
                "eventType": event_type,
                "eventTimestamp": 1_700_000_000.0 + event_id,
                attrs_key(event_type) + "EventAttributes": attrs,
            }
        )
        if event_type not in ("DecisionTaskScheduled", "DecisionTaskStarted"):
            self._wake(event_type)
        return event_id

    def _wake(self, event_type: str) -> None:
        if self.closed or event_type in _QUIET:
            return
        if self._decision is None:
            self._decision = "scheduled"
            sched = self.add("DecisionTaskScheduled", taskList={"name": "decider"})
            self._decision_ids = (sched, 0)
        elif self._decision == "started":
            self._pending = True
        elif self._decision == "completing":
            self._after = True

    @property
    def decision_due(self) -> bool:
        return self._decision == "scheduled" and not self.closed

    def decision_task(self) -> list[Event]:
        assert self.decision_due, "no decision task is scheduled"
        started = self.add("DecisionTaskStarted", scheduledEventId=self._decision_ids[0])
        self._decision = "started"
        self._decision_ids = (self._decision_ids[0], started)
        return [dict(e) for e in self.events]

    def timeout_decision_task(self) -> None:
        """The decider died holding the task: SWF times it out and schedules a new one."""
        sched, started = self._decision_ids
        self._decision = None
        self.add(
            "DecisionTaskTimedOut",
            scheduledEventId=sched,
            startedEventId=started,
            timeoutType="START_TO_CLOSE",
        )

    def respond(self, decisions: list[Decision]) -> None:
        assert self._decision == "started", "respond without a started decision task"
        if len(decisions) > 100:
            raise SwfViolation(f"{len(decisions)} decisions in one response")
        json.dumps(decisions)  # must be plain JSON
        self.decision_log.append(decisions)
        sched, started = self._decision_ids
        self._decision = "completing"
        completed = self.add(
            "DecisionTaskCompleted", scheduledEventId=sched, startedEventId=started
        )
        for i, decision in enumerate(decisions):
            kind = decision["decisionType"]
            attrs = decision[attrs_key(kind) + "DecisionAttributes"]
            if kind in CLOSED and i != len(decisions) - 1:
                raise SwfViolation(f"{kind} is not the last decision")
            getattr(self, "_d_" + kind)(attrs, completed)
        self._decision = None
        if (self._pending or self._after) and not self.closed:
            self._pending = self._after = False
            self._wake("pending")

    # -- decisions --------------------------------------------------------------------------

    def _d_ScheduleActivityTask(self, a: dict[str, Any], done: int) -> None:
        _check_size(a.get("input"), "input")
        _check_id(a["activityId"])
        atype = (a["activityType"]["name"], a["activityType"]["version"])
        cause = self._injected("ScheduleActivityTask")
        if cause:
            pass
        elif self.known_activity_types is not None and atype not in self.known_activity_types:
            cause = "ACTIVITY_TYPE_DOES_NOT_EXIST"
        elif a["activityId"] in self.open_activities:
            cause = "ACTIVITY_ID_ALREADY_IN_USE"
        elif len(self.open_activities) >= 1000:
            cause = "OPEN_ACTIVITIES_LIMIT_EXCEEDED"
        if cause:
            self.add(
                "ScheduleActivityTaskFailed",
                activityType=a["activityType"],
                activityId=a["activityId"],
                cause=cause,
                decisionTaskCompletedEventId=done,
            )
            return
        attrs = dict(a, decisionTaskCompletedEventId=done)
        attrs.setdefault("taskList", {"name": "type-default"})
        event_id = self.add("ActivityTaskScheduled", **attrs)
        self.open_activities[a["activityId"]] = event_id
        self.activity_attrs[event_id] = attrs

    def _d_StartTimer(self, a: dict[str, Any], done: int) -> None:
        _check_id(a["timerId"])
        _check_duration(a["startToFireTimeout"])
        _check_size(a.get("control"), "control")
        cause = self._injected("StartTimer")
        if not cause and a["timerId"] in self.open_timers:
            cause = "TIMER_ID_ALREADY_IN_USE"
        elif not cause and len(self.open_timers) >= 1000:
            cause = "OPEN_TIMERS_LIMIT_EXCEEDED"
        if cause:
            self.add(
                "StartTimerFailed",
                timerId=a["timerId"],
                cause=cause,
                decisionTaskCompletedEventId=done,
            )
            return
        event_id = self.add("TimerStarted", **dict(a, decisionTaskCompletedEventId=done))
        self.open_timers[a["timerId"]] = event_id

    def _d_StartChildWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        _check_id(a["workflowId"])
        _check_size(a.get("input"), "input")
        _check_size(a.get("control"), "control")
        wtype = (a["workflowType"]["name"], a["workflowType"]["version"])
        attrs = dict(a, decisionTaskCompletedEventId=done)
        attrs.setdefault("taskList", {"name": "type-default"})
        event_id = self.add("StartChildWorkflowExecutionInitiated", **attrs)
        cause = self._injected("StartChildWorkflowExecution")
        if cause:
            pass
        elif self.known_workflow_types is not None and wtype not in self.known_workflow_types:
            cause = "WORKFLOW_TYPE_DOES_NOT_EXIST"
        elif a["workflowId"] in self.open_children:
            cause = "WORKFLOW_ALREADY_RUNNING"
        if cause:
            self.add(
                "StartChildWorkflowExecutionFailed",
                workflowType=a["workflowType"],
                cause=cause,
                workflowId=a["workflowId"],
                initiatedEventId=event_id,
                decisionTaskCompletedEventId=done,
                control=a.get("control"),
            )
            return
        self.open_children[a["workflowId"]] = event_id
        self.child_attrs[event_id] = attrs

    def _injected(self, decision_type: str) -> str | None:
        causes = self.refuse.get(decision_type)
        return causes.pop(0) if causes else None

    def _d_RequestCancelActivityTask(self, a: dict[str, Any], done: int) -> None:
        if a["activityId"] in self.open_activities:
            self.add(
                "ActivityTaskCancelRequested",
                activityId=a["activityId"],
                decisionTaskCompletedEventId=done,
            )
        else:
            self.add(
                "RequestCancelActivityTaskFailed",
                activityId=a["activityId"],
                cause="ACTIVITY_ID_UNKNOWN",
                decisionTaskCompletedEventId=done,
            )

    def _d_CancelTimer(self, a: dict[str, Any], done: int) -> None:
        started = self.open_timers.pop(a["timerId"], None)
        if started is None:
            self.add(
                "CancelTimerFailed",
                timerId=a["timerId"],
                cause="TIMER_ID_UNKNOWN",
                decisionTaskCompletedEventId=done,
            )
        else:
            self.add(
                "TimerCanceled",
                timerId=a["timerId"],
                startedEventId=started,
                decisionTaskCompletedEventId=done,
            )

    def _d_RequestCancelExternalWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        self.add(
            "RequestCancelExternalWorkflowExecutionInitiated",
            **dict(a, decisionTaskCompletedEventId=done),
        )

    def _close(self, kind: str, a: dict[str, Any], done: int) -> None:
        if self._pending:
            self.add(kind + "Failed", cause="UNHANDLED_DECISION", decisionTaskCompletedEventId=done)
            return
        for field in ("result", "details", "input"):
            _check_size(a.get(field), field)
        if len(a.get("reason") or "") > 256:
            raise SwfViolation("reason over 256 characters")
        event_type = CLOSED[kind]
        attrs = dict(a, decisionTaskCompletedEventId=done)
        if kind == "ContinueAsNewWorkflowExecution":
            attrs = {
                "input": a.get("input"),
                "decisionTaskCompletedEventId": done,
                "newExecutionRunId": "run-2",
                "taskList": a.get("taskList", {"name": "type-default"}),
                "childPolicy": a.get("childPolicy", "TERMINATE"),
                "workflowType": {"name": "wf", "version": "1"},
            }
        self.add(event_type, **attrs)
        self.closed = event_type

    def _d_CompleteWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        self._close("CompleteWorkflowExecution", a, done)

    def _d_FailWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        self._close("FailWorkflowExecution", a, done)

    def _d_CancelWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        self._close("CancelWorkflowExecution", a, done)

    def _d_ContinueAsNewWorkflowExecution(self, a: dict[str, Any], done: int) -> None:
        self._close("ContinueAsNewWorkflowExecution", a, done)

    # -- the outside world -------------------------------------------------------------------

    def activity(self, activity_id: str) -> dict[str, Any]:
        return self.activity_attrs[self.open_activities[activity_id]]

    def _close_activity(self, activity_id: str, event_type: str, **attrs: Any) -> None:
        scheduled = self.open_activities.pop(activity_id)
        started = self.add("ActivityTaskStarted", scheduledEventId=scheduled, identity="w")
        self.add(event_type, scheduledEventId=scheduled, startedEventId=started, **attrs)

    def complete_activity(self, activity_id: str, result: str | None) -> None:
        _check_size(result, "result")
        attrs = {} if result is None else {"result": result}
        self._close_activity(activity_id, "ActivityTaskCompleted", **attrs)

    def fail_activity(self, activity_id: str, reason: str, details: str = "") -> None:
        self._close_activity(activity_id, "ActivityTaskFailed", reason=reason, details=details)

    def timeout_activity(
        self, activity_id: str, timeout_type: str = "START_TO_CLOSE", details: str | None = None
    ) -> None:
        """``details`` are the last heartbeat's; None: the task never heartbeated (SWF then
        leaves the attribute out)."""
        extra = {} if details is None else {"details": details}
        self._close_activity(activity_id, "ActivityTaskTimedOut", timeoutType=timeout_type, **extra)

    def cancel_activity(self, activity_id: str) -> None:
        self._close_activity(activity_id, "ActivityTaskCanceled", details="stopped")

    def fire_timer(self, timer_id: str) -> None:
        started = self.open_timers.pop(timer_id)
        self.add("TimerFired", timerId=timer_id, startedEventId=started)

    def _child(self, workflow_id: str) -> tuple[int, dict[str, Any]]:
        initiated = self.open_children[workflow_id]
        return initiated, {
            "workflowExecution": {"workflowId": workflow_id, "runId": "child-run"},
            "workflowType": self.child_attrs[initiated]["workflowType"],
            "initiatedEventId": initiated,
        }

    def start_child(self, workflow_id: str) -> None:
        _, attrs = self._child(workflow_id)
        self.add("ChildWorkflowExecutionStarted", **attrs)

    def close_child(self, workflow_id: str, event_type: str, **extra: Any) -> None:
        _, attrs = self._child(workflow_id)
        started = self.add("ChildWorkflowExecutionStarted", **attrs)
        del self.open_children[workflow_id]
        self.add(event_type, startedEventId=started, **attrs, **extra)

    def request_cancel(self) -> None:
        self.add("WorkflowExecutionCancelRequested", cause="CHILD_POLICY_APPLIED")

    def signal(self, name: str = "poke", input: str = "{}") -> None:
        self.add("WorkflowExecutionSignaled", signalName=name, input=input)


# Events SWF records without scheduling a decision task.
_QUIET = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionContinuedAsNew",
        "DecisionTaskCompleted",
        "ActivityTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskCancelRequested",
        "TimerStarted",
        "TimerCanceled",
        "StartChildWorkflowExecutionInitiated",
        "ChildWorkflowExecutionStarted",
        "RequestCancelExternalWorkflowExecutionInitiated",
        "MarkerRecorded",
    }
)


def _check_size(value: Any, field: str) -> None:
    if isinstance(value, str) and len(value) > 32768:
        raise SwfViolation(f"{field} is {len(value)} characters")


def _check_duration(value: str) -> None:
    """SWF takes durations as strings of 1 to 8 digits and refuses the whole response else."""
    if not (isinstance(value, str) and value.isdigit() and len(value) <= 8):
        raise SwfViolation(f"duration {value!r} is not 1 to 8 digits")


def _check_id(value: str) -> None:
    if not value or len(value) > 256:
        raise SwfViolation(f"id {value!r} is empty or over 256 characters")


class ActivityError(Exception):
    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


Worker = Callable[[str, str, str, Any], str | None]  # (activity id, name, version, input)
Decider = Callable[[list[Event]], list[Decision]]


def run(
    sim: SwfSim,
    decider: Decider,
    worker: Worker,
    *,
    child_result: Callable[[dict[str, Any]], str | None] | None = None,
    max_steps: int = 10_000,
) -> str:
    """Drive the execution until it closes: decide, then run every open activity in order,
    then fire timers, then finish children. Fails the test if nothing can move."""
    for _ in range(max_steps):
        if sim.closed:
            return sim.closed
        if sim.decision_due:
            sim.respond(decider(sim.decision_task()))
            continue
        if sim.open_activities:
            for activity_id in list(sim.open_activities):
                a = sim.activity(activity_id)
                try:
                    result = worker(
                        activity_id,
                        a["activityType"]["name"],
                        a["activityType"]["version"],
                        json.loads(a["input"]),
                    )
                except ActivityError as exc:
                    sim.fail_activity(activity_id, exc.reason, exc.details)
                else:
                    sim.complete_activity(activity_id, result)
            continue
        if sim.open_timers:
            for timer_id in list(sim.open_timers):
                sim.fire_timer(timer_id)
            continue
        if sim.open_children:
            for workflow_id, initiated in list(sim.open_children.items()):
                attrs = sim.child_attrs[initiated]
                result = child_result(attrs) if child_result else None
                extra = {} if result is None else {"result": result}
                sim.close_child(workflow_id, "ChildWorkflowExecutionCompleted", **extra)
            continue
        raise AssertionError("the workflow hangs: nothing open and no decision task")
    raise AssertionError("too many steps")


def closing(sim: SwfSim) -> dict[str, Any]:
    """The attributes of the event that closed the execution."""
    assert sim.closed is not None
    return sim.events[-1][attrs_key(sim.closed) + "EventAttributes"]  # type: ignore[no-any-return]
