"""Which SWF fields carry payloads, in history events and in decisions, and resolving or
encoding them there: the decider side of large payloads. Pure given a :class:`Payloads`.

Readers (the engine, the daemon, ``flotod replay``) never see an envelope: a history passes
:func:`resolve_events` before it is read, and the decisions read from it pass
:func:`encode_decisions` before they are sent. With payloads off and no envelope in the
history both return what they were given, after a dictionary lookup per event.

Failure details, heartbeat details and ``control`` are never encoded: flotod writes them
itself, always within SWF's limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flotod.engine.attributes import attributes_key
from flotod.payloads.codec import Payloads
from flotod.payloads.errors import PayloadError, PayloadUnavailable
from flotod.payloads.reference import PREFIX, UNRESOLVED_SIGNAL, is_envelope

Event = dict[str, Any]
Decision = dict[str, Any]

# Event type -> the attributes that may hold an envelope.
EVENT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "WorkflowExecutionStarted": ("input",),
    "WorkflowExecutionContinuedAsNew": ("input",),
    "WorkflowExecutionCompleted": ("result",),
    "WorkflowExecutionSignaled": ("input",),
    "ActivityTaskScheduled": ("input",),
    "ActivityTaskCompleted": ("result",),
    "StartChildWorkflowExecutionInitiated": ("input",),
    "ChildWorkflowExecutionCompleted": ("result",),
    "SignalExternalWorkflowExecutionInitiated": ("input",),
    "MarkerRecorded": ("details",),
}


# Event type -> (its attributes key, the payload fields): one lookup per event on the hot path.
_EVENTS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    kind: (attributes_key(kind), fields) for kind, fields in EVENT_FIELDS.items()
}


def _decision_key(kind: str) -> str:
    return kind[:1].lower() + kind[1:] + "DecisionAttributes"


def _get(attrs: Mapping[str, Any], key: str) -> str:
    return str(attrs.get(key, ""))


# Decision type -> (the attribute that carries a payload, the object name it is stored under).
DECISION_FIELDS: Mapping[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "ScheduleActivityTask": ("input", lambda a: _get(a, "activityId")),
    "CompleteWorkflowExecution": ("result", lambda _: "result"),
    "StartChildWorkflowExecution": ("input", lambda a: "child/" + _get(a, "workflowId")),
    "ContinueAsNewWorkflowExecution": ("input", lambda _: "input"),
    "RecordMarker": ("details", lambda a: "marker/" + _get(a, "markerName")),
    "SignalExternalWorkflowExecution": (
        "input",
        lambda a: f"signal/{_get(a, 'workflowId')}/{_get(a, 'signalName')}",
    ),
}


class EventPayloadError(PayloadError):
    """A reference in a history that can never resolve, with the event that holds it: the
    run fails with ``reason`` and these details, since deciding without the value would
    decide something else."""

    def __init__(self, cause: PayloadError, event: Mapping[str, Any], field: str, task: str):
        super().__init__(cause.reason, str(cause), cause.uri)
        self.event_id = event.get("eventId")
        self.event_type = str(event.get("eventType"))
        self.field = field
        self.task = task

    def details(self) -> dict[str, str]:
        out = super().details()
        out["event"] = f"{self.event_type} {self.event_id} ({self.field})"
        if self.task:
            out["task"] = self.task
        return out


def holds_envelopes(events: Sequence[Event]) -> bool:
    """True when any payload field of ``events`` is an envelope (the run was decided with
    large payloads leaving SWF)."""
    for event in events:
        kind = event.get("eventType")
        fields = EVENT_FIELDS.get(kind) if isinstance(kind, str) else None
        if fields is None:
            continue
        attrs = event.get(attributes_key(str(kind)))
        if isinstance(attrs, Mapping) and any(is_envelope(attrs.get(f)) for f in fields):
            return True
    return False


def resolve_events(events: list[Event], payloads: Payloads, start: int = 0) -> list[Event]:
    """``events`` with every envelope from index ``start`` on replaced by its value.

    Changed events are new dicts (the ones given may be shared with a cache); when nothing
    changes the list given is returned. Raises :class:`EventPayloadError` for a reference
    that can never resolve and :class:`PayloadUnavailable` (with its ``uri``) when the store
    cannot be reached now.
    """
    return resolve_counted(events, payloads, start)[0]


def resolve_counted(
    events: list[Event], payloads: Payloads, start: int = 0
) -> tuple[list[Event], int]:
    """:func:`resolve_events`, and how many characters the resolved values hold (what the
    events now weigh beyond their envelopes: a cache of them must count it)."""
    out: list[Event] | None = None
    added = 0
    lookup = _EVENTS.get
    for index in range(start, len(events)):
        event = events[index]
        entry = lookup(event.get("eventType"))  # type: ignore[arg-type]
        if entry is None:
            continue
        key, fields = entry
        attrs = event.get(key)
        if not isinstance(attrs, Mapping):
            continue
        new_attrs: dict[str, Any] | None = None
        for field in fields:
            text = attrs.get(field)
            if text.__class__ is not str or not text.startswith(PREFIX):
                continue
            value = _resolve(text, payloads, events, event, field)
            new_attrs = dict(attrs) if new_attrs is None else new_attrs
            new_attrs[field] = value
            added += len(value)
        if new_attrs is None:
            continue
        if out is None:
            out = list(events)
        out[index] = {**event, key: new_attrs}
    return (events if out is None else out), added


def _resolve(
    text: str, payloads: Payloads, events: Sequence[Event], event: Event, field: str
) -> str:
    try:
        return payloads.decode(text)
    except PayloadUnavailable:
        raise
    except PayloadError as exc:
        error = EventPayloadError(exc, event, field, _task_of(events, event))
        if event.get("eventType") == "WorkflowExecutionSignaled":
            return json.dumps({UNRESOLVED_SIGNAL: error.details()}, sort_keys=True)
        raise error from None


def _task_of(events: Sequence[Event], event: Mapping[str, Any]) -> str:
    """The activity id, child workflow id or marker name an event belongs to ('' if none)."""
    kind = str(event.get("eventType"))
    attrs = event.get(attributes_key(kind)) or {}
    for name in ("activityId", "workflowId", "markerName"):
        if isinstance(attrs.get(name), str):
            return str(attrs[name])
    if kind == "ChildWorkflowExecutionCompleted":
        return str((attrs.get("workflowExecution") or {}).get("workflowId", ""))
    scheduled = attrs.get("scheduledEventId")
    if isinstance(scheduled, int) and 0 < scheduled <= len(events):
        source = events[scheduled - 1]
        if source.get("eventId") == scheduled:
            return _task_of(events, source)
    return ""


def encode_decisions(
    decisions: list[Decision], payloads: Payloads, workflow_id: str, run_id: str
) -> list[Decision]:
    """``decisions`` with every payload past the threshold encoded; the list given when
    payloads are off or nothing is large. Raises :class:`PayloadUnavailable` when the store
    cannot take an object now (the caller leaves the task unanswered)."""
    if not payloads.enabled:
        return decisions
    out: list[Decision] | None = None
    for index, decision in enumerate(decisions):
        kind = decision.get("decisionType")
        entry = DECISION_FIELDS.get(kind) if isinstance(kind, str) else None
        if entry is None:
            continue
        field, name_of = entry
        key = _decision_key(str(kind))
        attrs = decision.get(key)
        text = attrs.get(field) if isinstance(attrs, Mapping) else None
        if not isinstance(text, str) or not isinstance(attrs, Mapping):
            continue
        encoded = payloads.encode(text, workflow_id=workflow_id, run_id=run_id, name=name_of(attrs))
        if encoded is text:
            continue
        if out is None:
            out = list(decisions)
        out[index] = {**decision, key: {**attrs, field: encoded}}
    return decisions if out is None else out


__all__ = [
    "DECISION_FIELDS",
    "EVENT_FIELDS",
    "UNRESOLVED_SIGNAL",
    "EventPayloadError",
    "encode_decisions",
    "holds_envelopes",
    "resolve_counted",
    "resolve_events",
]
