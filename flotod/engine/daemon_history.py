"""One pass over the daemon workflow's history: what it was asked, and what it started.

Requests are kept raw here and parsed by the decision only while unhandled: a run holds
thousands of signals, and each is answered (started or rejected) once; re-validating every
spec at every replay would make each decision task slower than the last. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flotod.engine import decisions as d
from flotod.engine.attributes import event_attributes
from flotod.engine.daemon_requests import (
    CLOSED_SIGNAL,
    REJECTED_BATCH_MARKER,
    REJECTED_MARKER,
    START_SIGNAL,
)
from flotod.payloads.reference import UNRESOLVED_SIGNAL
from flotod.safe_json import loads

CHILD_CLOSED_EVENTS = frozenset(
    {
        "ChildWorkflowExecutionCompleted",
        "ChildWorkflowExecutionFailed",
        "ChildWorkflowExecutionTimedOut",
        "ChildWorkflowExecutionCanceled",
        "ChildWorkflowExecutionTerminated",
    }
)


@dataclass
class Child:
    workflow_id: str
    run_id: str | None = None
    deadline: float | None = None
    timeout: float = 0.0
    open: bool = True
    starting: bool = False
    carried: bool = False


@dataclass(frozen=True)
class Request:
    """A signal's or a carried request's raw payload, or the reason it is already refused."""

    raw: Any = None
    reason: str | None = None


def timestamp(value: Any) -> float | None:
    """An event timestamp as epoch seconds (boto3 gives datetimes, JSON numbers or text)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return loads(text)
    except ValueError:
        return None


def _field(text: Any, name: str) -> Any:
    """``name`` of the JSON object in ``text``; None when it is no such object."""
    value = _json(text)
    return value.get(name) if isinstance(value, dict) else None


_UNRESOLVED_PREFIX = '{"' + UNRESOLVED_SIGNAL + '":'


def _unresolved(raw: Any) -> str | None:
    """The reason a signal's input is missing, when it was a large payload's reference that
    could never be resolved (flotod.payloads.history put the fault in its place)."""
    if not (isinstance(raw, str) and raw.startswith(_UNRESOLVED_PREFIX)):
        return None
    fault = _field(raw, UNRESOLVED_SIGNAL)
    if not isinstance(fault, dict):
        return None
    where = f" ({fault['uri']})" if fault.get("uri") else ""
    return f"{fault.get('reason')}: signal input could not be read{where}: {fault.get('message')}"


def describe(exc: BaseException) -> str:
    return d.trim(f"{type(exc).__name__}: {exc}", 512)


def event_id_of(event: Any) -> int | None:
    value = event.get("eventId") if isinstance(event, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class DaemonHistory:
    """One pass over the daemon run's history: requests, children, timers, flags."""

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self.notes: list[dict[str, Any]] = []
        # key -> the raw request (parsed only while unhandled), or the reason to reject it
        self.requests: dict[str, Request] = {}
        self.handled: set[str] = set()
        self.children: dict[int, Child] = {}  # initiated event id (or -i for carried) -> child
        self.open_timers: set[str] = set()
        self.timers_started = 0
        self.now = 0.0
        self.cancel_requested = False
        self.continue_refused = False
        for event in events:
            try:
                stamp = timestamp(event.get("eventTimestamp"))
                if stamp is not None:
                    self.now = max(self.now, stamp)
                self._read(event)
            except Exception as exc:  # one malformed event must not stop the daemon
                self._bad_event(event, exc)
        for child in self.children.values():
            if child.open and child.deadline is not None and self.now >= child.deadline:
                child.open = False
                if child.carried:
                    self.notes.append(
                        {"event": "daemon.child_deadline_passed", "child": child.workflow_id}
                    )

    def _bad_event(self, event: Any, exc: Exception) -> None:
        """Note the event; if it is a signal, reject it so that it is answered once."""
        event_id = event_id_of(event)
        self.notes.append(
            {"event": "daemon.bad_event", "level": "error", "event_id": event_id,
             "error": describe(exc)}
        )  # fmt: skip
        kind = event.get("eventType") if isinstance(event, Mapping) else None
        if kind == "WorkflowExecutionSignaled" and event_id is not None:
            reason = f"signal could not be read: {describe(exc)}"
            self.requests[f"s{event_id}"] = Request(reason=reason)

    def _read(self, event: Mapping[str, Any]) -> None:
        kind = event.get("eventType")
        attrs = event_attributes(event)
        event_id = int(event.get("eventId") or 0)
        if kind == "WorkflowExecutionStarted":
            self._carried(attrs.get("input"))
        elif kind == "WorkflowExecutionSignaled":
            self._signal(attrs, event_id)
        elif kind == "WorkflowExecutionCancelRequested":
            self.cancel_requested = True
        elif kind == "MarkerRecorded" and attrs.get("markerName") == REJECTED_MARKER:
            key = _field(attrs.get("details"), "key")
            if isinstance(key, str):
                self.handled.add(key)
        elif kind == "MarkerRecorded" and attrs.get("markerName") == REJECTED_BATCH_MARKER:
            entries = _field(attrs.get("details"), "rejected")
            for entry in entries if isinstance(entries, list) else []:
                key = entry.get("key") if isinstance(entry, dict) else None
                if isinstance(key, str):
                    self.handled.add(key)
        elif kind == "StartChildWorkflowExecutionInitiated":
            key = _field(attrs.get("control"), "daemon_key")
            if isinstance(key, str):
                self.handled.add(key)
            timeout = float(attrs.get("executionStartToCloseTimeout") or 0)
            self.children[event_id] = Child(
                str(attrs.get("workflowId", "")), timeout=timeout, starting=True
            )
        elif kind == "ChildWorkflowExecutionStarted":
            child = self.children.get(int(attrs.get("initiatedEventId") or 0))
            if child is not None:
                child.starting = False
                child.run_id = (attrs.get("workflowExecution") or {}).get("runId")
                stamp = timestamp(event.get("eventTimestamp"))
                if stamp is not None and child.timeout:
                    child.deadline = stamp + child.timeout
        elif kind == "StartChildWorkflowExecutionFailed":
            child = self.children.get(int(attrs.get("initiatedEventId") or 0))
            if child is not None:
                child.open = child.starting = False
            self.notes.append(
                {
                    "event": "daemon.child_start_failed",
                    "level": "warning",
                    "child": attrs.get("workflowId"),
                    "cause": attrs.get("cause"),
                }
            )
        elif kind in CHILD_CLOSED_EVENTS:
            child = self.children.get(int(attrs.get("initiatedEventId") or 0))
            if child is not None:
                child.open = child.starting = False
        elif kind == "TimerStarted":
            self.open_timers.add(str(attrs.get("timerId")))
            self.timers_started += 1
        elif kind in ("TimerFired", "TimerCanceled", "TimerCancelled"):
            self.open_timers.discard(str(attrs.get("timerId")))
        elif (
            kind == "ContinueAsNewWorkflowExecutionFailed"
            and attrs.get("cause") != "UNHANDLED_DECISION"
        ):
            self.continue_refused = True
            cause = attrs.get("cause")
            self.notes.append({"event": "daemon.continue_failed", "level": "error", "cause": cause})

    def _carried(self, raw: Any) -> None:
        value = _json(raw) if raw else {}
        if not isinstance(value, dict):
            self.notes.append({"event": "daemon.bad_carried_state", "level": "error"})
            return
        pending = value.get("pending")
        for i, item in enumerate(pending if isinstance(pending, list) else []):
            self.requests[f"p{i}"] = Request(raw=item)
        children = value.get("children")
        for i, item in enumerate(children if isinstance(children, list) else []):
            if isinstance(item, dict) and isinstance(item.get("workflow_id"), str):
                deadline = item.get("deadline")
                self.children[-1 - i] = Child(
                    item["workflow_id"],
                    run_id=item.get("run_id") if isinstance(item.get("run_id"), str) else None,
                    deadline=float(deadline) if isinstance(deadline, int | float) else None,
                    carried=True,
                )

    def _signal(self, attrs: Mapping[str, Any], event_id: int) -> None:
        name = attrs.get("signalName")
        if name == START_SIGNAL:
            raw = attrs.get("input") or ""
            fault = _unresolved(raw)
            key = f"s{event_id}"
            self.requests[key] = Request(raw=raw) if fault is None else Request(reason=fault)
        elif name == CLOSED_SIGNAL:
            reason = self._child_closed(attrs.get("input"))
            if reason is not None:
                self.requests[f"s{event_id}"] = Request(reason=reason)
        else:
            self.notes.append(
                {"event": "daemon.signal_ignored", "signal": str(name)[:256], "event_id": event_id}
            )

    def _child_closed(self, raw: Any) -> str | None:
        """Count the named child run closed; the reason to reject the signal, if any.

        Only a run this daemon run started (or carried) matches, by workflow id and run id
        both: a forged signal cannot free a slot. A report for a child already counted closed
        (its Child* close event came first) is simply redundant.
        """
        try:
            value = loads(raw) if isinstance(raw, str) else None
        except ValueError as exc:
            return f"{CLOSED_SIGNAL} input is not JSON: {exc}"
        workflow_id = value.get("workflow_id") if isinstance(value, dict) else None
        run_id = value.get("run_id") if isinstance(value, dict) else None
        if not isinstance(workflow_id, str) or not isinstance(run_id, str):
            return f"{CLOSED_SIGNAL} input must be an object with string workflow_id and run_id"
        matched = False
        for child in self.children.values():
            if child.workflow_id == workflow_id and child.run_id == run_id:
                matched = True
                child.open = child.starting = False
        if matched:
            return None
        return (
            f"{CLOSED_SIGNAL} names no child run this daemon run started or carried: "
            f"{d.trim(workflow_id, 256)!r} run {d.trim(run_id, 80)!r}"
        )

    @property
    def open_children(self) -> list[Child]:
        return [c for c in self.children.values() if c.open]

    @property
    def starting(self) -> bool:
        """A child start is initiated but neither started nor failed yet."""
        return any(c.open and c.starting for c in self.children.values())
