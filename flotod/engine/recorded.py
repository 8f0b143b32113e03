"""What a history shows was decided: each completed decision task's decisions, read back.

SWF keeps no copy of a RespondDecisionTaskCompleted call. What it keeps is one event per
decision, in the order the decisions were sent, each naming the DecisionTaskCompleted it came
from (``decisionTaskCompletedEventId``): ActivityTaskScheduled for a ScheduleActivityTask,
ScheduleActivityTaskFailed when SWF refused it, WorkflowExecutionCompleted or
CompleteWorkflowExecutionFailed for a CompleteWorkflowExecution, and so on. Reading those
events back gives the decisions, as far as SWF recorded them:

- an accepted decision's event repeats what identifies it (ids, types, inputs, controls), so
  those are compared exactly;
- SWF fills in what a decision left out (a task list, a child policy, timeouts: the type's
  defaults), so those are compared only when the decision being checked sets them (and the
  event records them: moto leaves some out);
- a refused decision's ``*Failed`` event keeps only its ids and a cause: a refused
  CompleteWorkflowExecution (UNHANDLED_DECISION when new events arrived) shows only that a
  completion was decided, not its result;
- a child start, an external signal or cancel request that fails later records the failure
  with the id of its ``*Initiated`` event: one decision, already read from that event.

Timestamps, event ids and identities say when and by whom, not what: never compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flotod.engine.attributes import event_attributes
from flotod.engine.completeness import check_complete
from flotod.errors import EX_DATAERR, FlotodError, IncompleteHistoryError


class HistoryError(FlotodError, ValueError):
    """A history that cannot be replayed: says which event is wrong and how."""

    exit_code = EX_DATAERR


@dataclass(frozen=True)
class _Field:
    name: str  # the decision attribute
    path: tuple[str, ...]  # where the event keeps it
    # SWF fills a default in when the decision leaves it out (and moto may not record it):
    # compared only when both the decision and the event have it.
    optional: bool = False


def _f(name: str, *path: str, optional: bool = False) -> _Field:
    return _Field(name, path or (name,), optional)


def _optional(*names: str) -> tuple[_Field, ...]:
    return tuple(_f(name, optional=True) for name in names)


@dataclass(frozen=True)
class _Outcome:
    decision_type: str
    fields: tuple[_Field, ...]
    refused: bool = False
    initiated: str = ""  # a failure that may come later, pointing at this *Initiated event


_ACTIVITY_TYPE = _f("activityType")
_WORKFLOW_TYPE = _f("workflowType")
_TASK_LIST = _f("taskList", optional=True)

# Every event a decision can produce -> the decision and what the event keeps of it.
OUTCOMES: Mapping[str, _Outcome] = {
    "ActivityTaskScheduled": _Outcome(
        "ScheduleActivityTask",
        (
            _f("activityId"),
            _ACTIVITY_TYPE,
            _f("input"),
            _f("control"),
            _TASK_LIST,
            *_optional(
                "scheduleToStartTimeout",
                "scheduleToCloseTimeout",
                "startToCloseTimeout",
                "heartbeatTimeout",
                "taskPriority",
            ),
        ),
    ),
    "ScheduleActivityTaskFailed": _Outcome(
        "ScheduleActivityTask", (_f("activityId"), _ACTIVITY_TYPE), refused=True
    ),
    "ActivityTaskCancelRequested": _Outcome("RequestCancelActivityTask", (_f("activityId"),)),
    "RequestCancelActivityTaskFailed": _Outcome(
        "RequestCancelActivityTask", (_f("activityId"),), refused=True
    ),
    "TimerStarted": _Outcome(
        "StartTimer", (_f("timerId"), _f("startToFireTimeout"), _f("control"))
    ),
    "StartTimerFailed": _Outcome("StartTimer", (_f("timerId"),), refused=True),
    "TimerCanceled": _Outcome("CancelTimer", (_f("timerId"),)),
    "TimerCancelled": _Outcome("CancelTimer", (_f("timerId"),)),  # moto's spelling
    "CancelTimerFailed": _Outcome("CancelTimer", (_f("timerId"),), refused=True),
    "StartChildWorkflowExecutionInitiated": _Outcome(
        "StartChildWorkflowExecution",
        (
            _f("workflowId"),
            _WORKFLOW_TYPE,
            _f("input"),
            _f("control"),
            _TASK_LIST,
            *_optional(
                "childPolicy",
                "executionStartToCloseTimeout",
                "taskStartToCloseTimeout",
                "taskPriority",
                "tagList",
                "lambdaRole",
            ),
        ),
    ),
    "StartChildWorkflowExecutionFailed": _Outcome(
        "StartChildWorkflowExecution",
        (_f("workflowId"), _WORKFLOW_TYPE, _f("control")),
        refused=True,
        initiated="StartChildWorkflowExecutionInitiated",
    ),
    "SignalExternalWorkflowExecutionInitiated": _Outcome(
        "SignalExternalWorkflowExecution",
        (
            _f("workflowId"),
            _f("runId"),
            _f("signalName"),
            _f("input"),
            _f("control"),
        ),
    ),
    "SignalExternalWorkflowExecutionFailed": _Outcome(
        "SignalExternalWorkflowExecution",
        (_f("workflowId"), _f("runId"), _f("control")),
        refused=True,
        initiated="SignalExternalWorkflowExecutionInitiated",
    ),
    "RequestCancelExternalWorkflowExecutionInitiated": _Outcome(
        "RequestCancelExternalWorkflowExecution",
        (_f("workflowId"), _f("runId"), _f("control")),
    ),
    "RequestCancelExternalWorkflowExecutionFailed": _Outcome(
        "RequestCancelExternalWorkflowExecution",
        (_f("workflowId"), _f("runId"), _f("control")),
        refused=True,
        initiated="RequestCancelExternalWorkflowExecutionInitiated",
    ),
    "MarkerRecorded": _Outcome("RecordMarker", (_f("markerName"), _f("details"))),
    "RecordMarkerFailed": _Outcome("RecordMarker", (_f("markerName"),), refused=True),
    "LambdaFunctionScheduled": _Outcome(
        "ScheduleLambdaFunction", (_f("id"), _f("name"), _f("input"), _f("control"))
    ),
    "ScheduleLambdaFunctionFailed": _Outcome(
        "ScheduleLambdaFunction", (_f("id"), _f("name")), refused=True
    ),
    "WorkflowExecutionCompleted": _Outcome("CompleteWorkflowExecution", (_f("result"),)),
    "CompleteWorkflowExecutionFailed": _Outcome("CompleteWorkflowExecution", (), refused=True),
    "WorkflowExecutionFailed": _Outcome("FailWorkflowExecution", (_f("reason"), _f("details"))),
    "FailWorkflowExecutionFailed": _Outcome("FailWorkflowExecution", (), refused=True),
    "WorkflowExecutionCanceled": _Outcome("CancelWorkflowExecution", (_f("details"),)),
    "CancelWorkflowExecutionFailed": _Outcome("CancelWorkflowExecution", (), refused=True),
    "WorkflowExecutionContinuedAsNew": _Outcome(
        "ContinueAsNewWorkflowExecution",
        (
            _f("input"),
            _f("workflowTypeVersion", "workflowType", "version", optional=True),
            _TASK_LIST,
            *_optional(
                "childPolicy",
                "executionStartToCloseTimeout",
                "taskStartToCloseTimeout",
                "taskPriority",
                "tagList",
                "lambdaRole",
            ),
        ),
    ),
    "ContinueAsNewWorkflowExecutionFailed": _Outcome(
        "ContinueAsNewWorkflowExecution", (), refused=True
    ),
}


@dataclass(frozen=True)
class RecordedDecision:
    """One decision as its event shows it. ``values`` holds the decision attributes the
    event kept; those in ``optional`` count only when the decision checked sets them."""

    decision_type: str
    event_id: int
    event_type: str
    values: Mapping[str, Any]
    optional: frozenset[str]
    cause: str | None = None  # why SWF refused it; None when accepted


@dataclass(frozen=True)
class RecordedTask:
    """A completed decision task: which events it saw, and what it decided."""

    number: int  # 1 for the run's first completed decision task
    scheduled_event_id: int
    started_event_id: int
    completed_event_id: int
    previous_started_event_id: int
    decisions: tuple[RecordedDecision, ...]


def normal(value: Any) -> Any:
    """SWF (and moto, which drops falsy attributes) may leave out what is empty: '' and an
    absent attribute mean the same."""
    return None if value == "" else value


def _get(attrs: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = attrs
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return normal(value)


def check_events(events: object) -> list[Mapping[str, Any]]:
    """The events, when they form a history that can be replayed; HistoryError otherwise."""
    if not isinstance(events, list | tuple):
        raise HistoryError(f"a history is a JSON list of events, not {type(events).__name__}")
    events = list(events)
    if not events:
        raise HistoryError("the history has no events")
    last = 0
    for position, event in enumerate(events, 1):
        if not isinstance(event, Mapping):
            raise HistoryError(f"item {position} of the history is not an event object")
        event_id, event_type = event.get("eventId"), event.get("eventType")
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            raise HistoryError(f"item {position} of the history has no integer eventId")
        if not isinstance(event_type, str) or not event_type:
            raise HistoryError(f"event {event_id} has no eventType")
        if event_id <= last:
            raise HistoryError(
                f"event {event_id} follows event {last}: a history lists events in ascending "
                "eventId order (as GetWorkflowExecutionHistory does without reverseOrder)"
            )
        last = event_id
    first = events[0]
    if first["eventType"] != "WorkflowExecutionStarted":
        raise HistoryError(
            f"the history starts with event {first['eventId']} ({first['eventType']}), not "
            "WorkflowExecutionStarted: it is not a run's whole history"
        )
    try:
        check_complete(events)  # the deciders' own rule: 1, 2, 3 ... with no gap
    except IncompleteHistoryError as exc:
        raise HistoryError(f"{exc}: it is not a run's whole history") from None
    return events


def _is(by_id: Mapping[int, Mapping[str, Any]], event_id: object, event_type: str) -> bool:
    """``event_id`` names an event of this history of type ``event_type``."""
    if not isinstance(event_id, int):
        return False
    event = by_id.get(event_id)
    return event is not None and event["eventType"] == event_type


def recorded_tasks(events: Sequence[Mapping[str, Any]]) -> list[RecordedTask]:
    """Every completed decision task of a checked history, with its decisions in order."""
    by_id = {e["eventId"]: e for e in events}
    outcomes: dict[int, list[RecordedDecision]] = {}
    for event in events:
        event_type = event["eventType"]
        outcome = OUTCOMES.get(event_type)
        attrs = event_attributes(event)
        completed = attrs.get("decisionTaskCompletedEventId")
        if outcome is None:
            if completed is not None and event_type != "DecisionTaskCompleted":
                raise HistoryError(
                    f"event {event['eventId']} ({event_type}) came from a decision that "
                    "flotod cannot read back"
                )
            continue
        if outcome.initiated and _is(by_id, attrs.get("initiatedEventId"), outcome.initiated):
            continue  # the decision is its *Initiated event, already read
        if not _is(by_id, completed, "DecisionTaskCompleted"):
            raise HistoryError(
                f"event {event['eventId']} ({event_type}) names decisionTaskCompletedEventId "
                f"{completed!r}, which is not a DecisionTaskCompleted event of this history"
            )
        assert isinstance(completed, int)
        outcomes.setdefault(completed, []).append(
            RecordedDecision(
                decision_type=outcome.decision_type,
                event_id=event["eventId"],
                event_type=event_type,
                values={f.name: _get(attrs, f.path) for f in outcome.fields},
                optional=frozenset(f.name for f in outcome.fields if f.optional),
                cause=str(attrs.get("cause") or "unknown") if outcome.refused else None,
            )
        )
    tasks: list[RecordedTask] = []
    previous = 0
    for event in events:
        if event["eventType"] != "DecisionTaskCompleted":
            continue
        attrs = event_attributes(event)
        started = attrs.get("startedEventId")
        if not _is(by_id, started, "DecisionTaskStarted"):
            raise HistoryError(
                f"event {event['eventId']} (DecisionTaskCompleted) names startedEventId "
                f"{started!r}, which is not a DecisionTaskStarted event of this history"
            )
        assert isinstance(started, int)
        tasks.append(
            RecordedTask(
                number=len(tasks) + 1,
                scheduled_event_id=int(attrs.get("scheduledEventId") or 0),
                started_event_id=started,
                completed_event_id=event["eventId"],
                previous_started_event_id=previous,
                decisions=tuple(outcomes.get(event["eventId"], ())),
            )
        )
        previous = started
    return tasks
