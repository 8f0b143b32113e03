"""One linear pass over an execution's history into the state the decider needs.

Every event is looked at once; activities, timers and children are matched to their tasks via
``scheduledEventId``, ``timerId`` and ``initiatedEventId``. Nothing here decides anything: the
pass only records what happened, including the problems the decision must report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flotod import safe_json
from flotod.engine import refusals
from flotod.engine.attributes import attributes_key
from flotod.engine.details import decode_details
from flotod.engine.graph import CHILD, TIMER, GeneratorOutputError, TaskGraph
from flotod.engine.handback import MAX_FREE_RUNS, never_ran

Event = Mapping[str, Any]

# Control field kinds of the timers flotod starts.
TIMER_TASK = "task"
TIMER_RETRY = "retry"
TIMER_CONTINUE = "continue"

CLOSED_EVENTS = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionContinuedAsNew",
        "WorkflowExecutionTerminated",
        "WorkflowExecutionTimedOut",
    }
)


class Problem:
    """A reason to fail the workflow, found while reading the history."""

    __slots__ = ("details", "reason")

    def __init__(self, reason: str, details: dict[str, Any]) -> None:
        self.reason = reason
        self.details = details


class OpenActivity:
    __slots__ = ("cancel_requested", "task_id")

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.cancel_requested = False


class OpenTimer:
    __slots__ = ("kind", "task_id")

    def __init__(self, kind: str, task_id: str | None) -> None:
        self.kind = kind
        self.task_id = task_id


class OpenChild:
    __slots__ = ("cancel_requested", "run_id", "task_id", "workflow_id")

    def __init__(self, task_id: str, workflow_id: str) -> None:
        self.task_id = task_id
        self.workflow_id = workflow_id
        self.run_id: str | None = None
        self.cancel_requested = False


class Replay:
    """The state of one execution after reading its whole history."""

    def __init__(self, graph: TaskGraph) -> None:
        self.graph = graph
        self.started: dict[str, Any] = {}
        self.input: str | None = None
        self.started_at: Any = None
        self.closed = False
        self.cancel_requested = False
        self.problems: list[Problem] = []
        self.failed_tasks: dict[str, dict[str, Any]] = {}
        self.open_activities: dict[str, OpenActivity] = {}
        self.open_timers: dict[str, OpenTimer] = {}
        self.open_children: dict[int, OpenChild] = {}
        self.retry_due: dict[str, None] = {}  # failed tasks to schedule again now
        self.retry_wait: dict[str, int] = {}  # failed tasks needing a retry timer: delay
        self.refused_wait: dict[str, int] = {}  # refused tasks needing a timer: delay
        self._type_missing: dict[str, int] = {}  # task id -> ACTIVITY_TYPE_DOES_NOT_EXIST seen
        self._timer_refusals: dict[str, int] = {}  # timer id -> passing StartTimerFailed seen
        self.continue_timers = 0
        self.closing_failures: list[tuple[str, str]] = []  # (event type, cause)
        self._scheduled: dict[int, str] = {}  # ActivityTaskScheduled eventId -> task id
        self._handlers: dict[str, Callable[[Mapping[str, Any], int], None]] = {
            "WorkflowExecutionStarted": self._started,
            "WorkflowExecutionCancelRequested": self._cancel_requested,
            "ActivityTaskScheduled": self._activity_scheduled,
            "ActivityTaskCompleted": self._activity_completed,
            "ActivityTaskFailed": self._activity_failed,
            "ActivityTaskTimedOut": self._activity_timed_out,
            "ActivityTaskCanceled": self._activity_canceled,
            "ActivityTaskCancelRequested": self._activity_cancel_requested,
            "RequestCancelActivityTaskFailed": self._activity_cancel_requested,
            "ScheduleActivityTaskFailed": self._schedule_failed,
            "TimerStarted": self._timer_started,
            "TimerFired": self._timer_fired,
            "TimerCanceled": self._timer_gone,
            "TimerCancelled": self._timer_gone,  # moto's spelling
            "CancelTimerFailed": self._timer_gone,
            "StartTimerFailed": self._timer_failed,
            "StartChildWorkflowExecutionInitiated": self._child_initiated,
            "StartChildWorkflowExecutionFailed": self._child_start_failed,
            "ChildWorkflowExecutionStarted": self._child_started,
            "ChildWorkflowExecutionCompleted": self._child_completed,
            "ChildWorkflowExecutionFailed": self._child_failed,
            "ChildWorkflowExecutionTimedOut": self._child_failed,
            "ChildWorkflowExecutionCanceled": self._child_failed,
            "ChildWorkflowExecutionTerminated": self._child_failed,
            "RequestCancelExternalWorkflowExecutionInitiated": self._child_cancel_requested,
            "RequestCancelExternalWorkflowExecutionFailed": self._child_cancel_requested,
            "CompleteWorkflowExecutionFailed": self._closing_failed,
            "FailWorkflowExecutionFailed": self._closing_failed,
            "CancelWorkflowExecutionFailed": self._closing_failed,
            "ContinueAsNewWorkflowExecutionFailed": self._closing_failed,
        }
        self._event_type = ""

    def read(self, events: Iterable[Event]) -> Replay:
        handlers = self._handlers
        keys: dict[str, str] = {}
        for event in events:
            event_type = event["eventType"]
            handler = handlers.get(event_type)
            if handler is None:
                if event_type in CLOSED_EVENTS:
                    self.closed = True
                continue  # decision tasks, signals, markers, unknown types
            key = keys.get(event_type)
            if key is None:
                key = keys[event_type] = attributes_key(event_type)
            self._event_type = event_type
            if event_type == "WorkflowExecutionStarted":
                self.started_at = event.get("eventTimestamp")
            handler(event.get(key) or {}, event["eventId"])
        return self

    # -- workflow -----------------------------------------------------------------------------

    def _started(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        self.started = dict(attrs)
        self.input = attrs.get("input")

    def _cancel_requested(self, _attrs: Mapping[str, Any], _event_id: int) -> None:
        self.cancel_requested = True

    def _closing_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        self.closing_failures.append((self._event_type, str(attrs.get("cause", ""))))

    def _problem(self, reason: str, **details: Any) -> None:
        self.problems.append(Problem(reason, details))

    def _task(self, task_id: str | None, what: str) -> str | None:
        """``task_id`` if the graph knows it; otherwise note that the history does not fit."""
        if task_id is not None and task_id in self.graph.nodes:
            return task_id
        self._problem("history_mismatch", event=self._event_type, task=task_id, problem=what)
        return None

    def _complete(self, task_id: str, result: str | None) -> None:
        try:
            self.graph.complete(task_id, result)
        except GeneratorOutputError as exc:
            self._problem("generator_output_invalid", task=exc.generator_id, error=exc.problem)

    def _failure(self, task_id: str, reason: Any, details: Any) -> None:
        """Count a failed attempt and decide between retrying and failing the workflow."""
        node = self.graph.nodes[task_id]
        node.failures += 1
        node.last_failure = {
            "task": task_id,
            "event": self._event_type,
            "reason": reason,
            "details": details,
            "attempts": node.attempts,
        }
        strategy = getattr(node.task, "retry_strategy", None)
        if strategy is None:
            self.failed_tasks[task_id] = {"why": "task_failed", **node.last_failure}
        elif strategy.is_exhausted(node.failures):
            self.failed_tasks[task_id] = {"why": "task_retry_limit_reached", **node.last_failure}
        else:
            delay = strategy.delay_seconds(task_id, node.failures)
            if delay > 0:
                self.retry_wait[task_id] = delay
            else:
                self.retry_due[task_id] = None

    def _attempt_started(self, task_id: str) -> None:
        self.graph.nodes[task_id].attempts += 1
        self.graph.ready.pop(task_id, None)
        self.retry_due.pop(task_id, None)

    # -- activities ---------------------------------------------------------------------------

    def _activity_scheduled(self, attrs: Mapping[str, Any], event_id: int) -> None:
        task_id = self._task(attrs.get("activityId"), "scheduled activity is not in the spec")
        if task_id is None:
            return
        self._scheduled[event_id] = task_id
        self.open_activities[task_id] = OpenActivity(task_id)
        self._attempt_started(task_id)

    def _activity_closed(self, attrs: Mapping[str, Any]) -> tuple[str | None, OpenActivity | None]:
        task_id = self._scheduled.get(attrs.get("scheduledEventId", -1))
        if task_id is None:
            self._problem(
                "history_mismatch",
                event=self._event_type,
                problem=f"no activity scheduled as event {attrs.get('scheduledEventId')}",
            )
            return None, None
        return task_id, self.open_activities.pop(task_id, None)

    def _activity_completed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        task_id, _ = self._activity_closed(attrs)
        if task_id is not None:
            self._complete(task_id, attrs.get("result"))

    def _activity_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        task_id, _ = self._activity_closed(attrs)
        if task_id is not None and not self._ran_not(task_id, attrs):
            self._failure(task_id, attrs.get("reason"), attrs.get("details"))

    def _activity_timed_out(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        task_id, _ = self._activity_closed(attrs)
        if task_id is not None and not self._ran_not(task_id, attrs):
            self._failure(
                task_id, "timeout: " + str(attrs.get("timeoutType")), attrs.get("details")
            )

    def _ran_not(self, task_id: str, attrs: Mapping[str, Any]) -> bool:
        """Schedule again at once, as the same attempt, a task that provably never ran
        (see :mod:`flotod.engine.handback`); False when it ran or has had its free runs."""
        node = self.graph.nodes[task_id]
        if node.free_runs >= MAX_FREE_RUNS or not never_ran(self._event_type, attrs):
            return False
        node.free_runs += 1
        node.attempts -= 1
        self.retry_due[task_id] = None
        return True

    def _activity_canceled(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        task_id, open_activity = self._activity_closed(attrs)
        if task_id is not None and not (open_activity and open_activity.cancel_requested):
            self._failure(task_id, "canceled", attrs.get("details"))

    def _activity_cancel_requested(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        # Also for RequestCancelActivityTaskFailed: SWF no longer knows the activity, so asking
        # again would fail the same way; its close event (if any) is in the history.
        open_activity = self.open_activities.get(attrs.get("activityId", ""))
        if open_activity is not None:
            open_activity.cancel_requested = True

    def _schedule_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        activity_type = attrs.get("activityType") or {}
        cause = attrs.get("cause")
        details = {
            "task": attrs.get("activityId"),
            "cause": cause,
            "activity_type": f"{activity_type.get('name')}/{activity_type.get('version')}",
        }
        if cause == refusals.TYPE_MISSING:
            task_id = self._task(attrs.get("activityId"), "refused activity is not in the spec")
            if task_id is None:
                return
            seen = self._type_missing[task_id] = self._type_missing.get(task_id, 0) + 1
            if seen >= refusals.MAX_TYPE_MISSING_REFUSALS:
                error = (
                    f"activity type {details['activity_type']} was still not registered "
                    f"after {seen} attempts to schedule it"
                )
                self._problem(refusals.TYPE_MISSING_REASON, **details, refusals=seen, error=error)
                return
            self._refused(task_id, type_missing=True)
        elif cause in refusals.PASSING_CAUSES:
            task_id = self._task(attrs.get("activityId"), "refused activity is not in the spec")
            if task_id is not None and not self._refused(task_id, type_missing=False):
                self._problem(
                    "schedule_activity_task_failed", **details, refusals=self._count(task_id)
                )
        else:
            self._problem("schedule_activity_task_failed", **details)

    def _count(self, task_id: str) -> int:
        return self.graph.nodes[task_id].refusals

    def _refused(self, task_id: str, type_missing: bool) -> bool:
        """Put a task SWF refused for a passing cause back after a short timer; False when it
        was refused too often for that (the caller then fails the workflow)."""
        node = self.graph.nodes[task_id]
        node.refusals += 1
        if not type_missing and node.refusals >= refusals.MAX_PASSING_REFUSALS:
            return False
        self.graph.ready.pop(task_id, None)
        self.retry_due.pop(task_id, None)
        self.refused_wait[task_id] = refusals.wait_seconds(task_id, node.refusals, type_missing)
        return True

    # -- timers -------------------------------------------------------------------------------

    def _timer_started(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        timer_id = attrs.get("timerId", "")
        kind, task_id = _timer_control(attrs.get("control"), timer_id)
        if kind == TIMER_CONTINUE:
            self.continue_timers += 1
        elif kind == TIMER_RETRY:
            if self._task(task_id, "retry timer names an unknown task") is None:
                return
            assert task_id is not None
            self.retry_wait.pop(task_id, None)
            self.refused_wait.pop(task_id, None)
        else:
            task_id = self._task(task_id, "timer is not in the spec")
            if task_id is None:
                return
            if self.graph.nodes[task_id].kind != TIMER:
                self._problem("history_mismatch", task=task_id, problem="timer for a non-timer")
                return
            self._attempt_started(task_id)
        self.open_timers[timer_id] = OpenTimer(kind, task_id)

    def _timer_fired(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        timer = self.open_timers.pop(attrs.get("timerId", ""), None)
        if timer is None or timer.task_id is None:
            return
        if timer.kind == TIMER_RETRY:
            self.retry_due[timer.task_id] = None
        elif timer.kind == TIMER_TASK:
            self._complete(timer.task_id, None)

    def _timer_gone(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        # TimerCanceled, or CancelTimerFailed: SWF does not know the timer (already fired).
        self.open_timers.pop(attrs.get("timerId", ""), None)

    def _timer_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        # A timer is how flotod waits, so a timer refused for a passing cause is started again
        # by the next decision task, which SWF schedules for the refusal; bounded per timer.
        timer_id = str(attrs.get("timerId"))
        cause = attrs.get("cause")
        if cause in refusals.PASSING_CAUSES:
            seen = self._timer_refusals[timer_id] = self._timer_refusals.get(timer_id, 0) + 1
            if seen < refusals.MAX_PASSING_REFUSALS:
                return
            self._problem("start_timer_failed", timer=timer_id, cause=cause, refusals=seen)
            return
        self._problem("start_timer_failed", timer=timer_id, cause=cause)

    # -- child workflows ----------------------------------------------------------------------

    def _child_initiated(self, attrs: Mapping[str, Any], event_id: int) -> None:
        task_id = self._task(_control_task(attrs.get("control")), "child workflow not in spec")
        if task_id is None:
            return
        if self.graph.nodes[task_id].kind != CHILD:
            self._problem("history_mismatch", task=task_id, problem="child for a non-child task")
            return
        self.open_children[event_id] = OpenChild(task_id, attrs.get("workflowId", ""))
        self._attempt_started(task_id)

    def _child_start_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        child = self.open_children.pop(attrs.get("initiatedEventId", -1), None)
        task = _control_task(attrs.get("control"))
        details = {
            "task": task,
            "workflow_id": attrs.get("workflowId"),
            "cause": attrs.get("cause"),
        }
        if attrs.get("cause") in refusals.PASSING_CAUSES:
            task_id = self._task(task, "refused child workflow is not in the spec")
            if task_id is None:
                return
            if child is not None:  # the initiation was no attempt: give it back
                self.graph.nodes[task_id].attempts -= 1
            if not self._refused(task_id, type_missing=False):
                self._problem(
                    "start_child_workflow_failed", **details, refusals=self._count(task_id)
                )
            return
        self._problem("start_child_workflow_failed", **details)

    def _child_started(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        child = self.open_children.get(attrs.get("initiatedEventId", -1))
        if child is not None:
            child.run_id = (attrs.get("workflowExecution") or {}).get("runId")

    def _child_closed(self, attrs: Mapping[str, Any]) -> OpenChild | None:
        child = self.open_children.pop(attrs.get("initiatedEventId", -1), None)
        if child is None:
            self._problem(
                "history_mismatch",
                event=self._event_type,
                problem=f"no child initiated as event {attrs.get('initiatedEventId')}",
            )
        return child

    def _child_completed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        child = self._child_closed(attrs)
        if child is not None:
            self._complete(child.task_id, attrs.get("result"))

    def _child_failed(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        child = self._child_closed(attrs)
        if child is None:
            return
        if self._event_type == "ChildWorkflowExecutionCanceled" and child.cancel_requested:
            return
        reason = attrs.get("reason")
        if reason is None:
            reason = self._event_type.removeprefix("ChildWorkflowExecution").lower()
            if "timeoutType" in attrs:
                reason += ": " + str(attrs["timeoutType"])
        self._failure(child.task_id, reason, decode_details(attrs.get("details")))

    def _child_cancel_requested(self, attrs: Mapping[str, Any], _event_id: int) -> None:
        # Also for RequestCancelExternalWorkflowExecutionFailed: the child is unknown or closed.
        workflow_id = attrs.get("workflowId")
        for child in self.open_children.values():
            if child.workflow_id == workflow_id:
                child.cancel_requested = True


def timer_control(kind: str, task_id: str | None) -> str:
    """The ``control`` of a timer flotod starts: says what the timer is for."""
    body: dict[str, Any] = {"flotod": kind}
    if task_id is not None:
        body["task"] = task_id
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def child_control(task_id: str) -> str:
    return json.dumps({"flotod": "child", "task": task_id}, separators=(",", ":"))


def _control(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = safe_json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "flotod" in value else None


def control_task(text: Any) -> str | None:
    """The task id in a ``control`` flotod wrote (a child's, a timer's); None otherwise."""
    return _control_task(text)


def _control_task(text: Any) -> str | None:
    body = _control(text)
    task = body.get("task") if body else None
    return task if isinstance(task, str) else None


def _timer_control(text: Any, timer_id: str) -> tuple[str, str | None]:
    """(kind, task id) of a timer; a timer without flotod's control is a task timer by id."""
    body = _control(text)
    if body is None:
        return TIMER_TASK, timer_id
    kind = body.get("flotod")
    task = body.get("task")
    if kind not in (TIMER_TASK, TIMER_RETRY, TIMER_CONTINUE):
        kind = TIMER_TASK
    return str(kind), task if isinstance(task, str) else None
