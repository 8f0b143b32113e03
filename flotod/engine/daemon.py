"""The daemon workflow's decisions: a pure function of its history (no I/O, no clock).

The daemon workflow receives ``startChildWorkflowExecution`` signals and starts one child
workflow per valid signal, at most ``max_children`` open at once; the rest wait, and their
waiting is nothing but "signalled, not yet started" in the history. Before the history grows
large the run continues as new, carrying the waiting requests and the children still running
in the new run's input. Children outlive their parent run (ABANDON), so a continued run learns
of their end from the ``flotod.childClosed`` signal each child sends as it closes, or from
their execution deadline passing (computed from event timestamps).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flotod.engine import decisions as d
from flotod.engine.attributes import event_attributes
from flotod.engine.daemon_requests import (
    CHILD_TYPE,
    CLOSED_SIGNAL,
    REJECTED_MARKER,
    START_SIGNAL,
    ChildRequest,
    Rejected,
    child_input,
    parse_request,
)
from flotod.safe_json import loads
from flotod.specs.canonical import stable_hash

DEADLINE_TIMER = "flotod.deadline"
MORE_TIMER = "flotod.more"
_CHILD_CLOSED_EVENTS = frozenset(
    {
        "ChildWorkflowExecutionCompleted",
        "ChildWorkflowExecutionFailed",
        "ChildWorkflowExecutionTimedOut",
        "ChildWorkflowExecutionCanceled",
        "ChildWorkflowExecutionTerminated",
    }
)


@dataclass(frozen=True)
class DaemonSettings:
    domain: str
    workflow_id: str
    run_id: str
    task_list: str
    max_children: int
    continue_after_events: int
    child_timeout_seconds: int


@dataclass
class DaemonOutcome:
    """Decisions to send, and notes (event name + fields) for the service to log."""

    decisions: list[d.Decision] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Child:
    workflow_id: str
    run_id: str | None = None
    deadline: float | None = None
    timeout: float = 0.0
    open: bool = True
    starting: bool = False
    carried: bool = False


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


def _describe(exc: BaseException) -> str:
    return d.trim(f"{type(exc).__name__}: {exc}", 512)


def _event_id(event: Any) -> int | None:
    value = event.get("eventId") if isinstance(event, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _State:
    """One pass over the history."""

    def __init__(self, events: Sequence[Mapping[str, Any]], settings: DaemonSettings) -> None:
        self.settings = settings
        self.notes: list[dict[str, Any]] = []
        self.requests: dict[str, ChildRequest | str] = {}  # key -> request or reject reason
        self.handled: set[str] = set()
        self.children: dict[int, _Child] = {}  # initiated event id (or -i for carried) -> child
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
        event_id = _event_id(event)
        self.notes.append(
            {"event": "daemon.bad_event", "level": "error", "event_id": event_id,
             "error": _describe(exc)}
        )  # fmt: skip
        kind = event.get("eventType") if isinstance(event, Mapping) else None
        if kind == "WorkflowExecutionSignaled" and event_id is not None:
            self.requests[f"s{event_id}"] = f"signal could not be read: {_describe(exc)}"

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
            key = (_json(attrs.get("details")) or {}).get("key")
            if isinstance(key, str):
                self.handled.add(key)
        elif kind == "StartChildWorkflowExecutionInitiated":
            key = (_json(attrs.get("control")) or {}).get("daemon_key")
            if isinstance(key, str):
                self.handled.add(key)
            timeout = float(attrs.get("executionStartToCloseTimeout") or 0)
            self.children[event_id] = _Child(
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
        elif kind in _CHILD_CLOSED_EVENTS:
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
            self._request(f"p{i}", item)
        children = value.get("children")
        for i, item in enumerate(children if isinstance(children, list) else []):
            if isinstance(item, dict) and isinstance(item.get("workflow_id"), str):
                deadline = item.get("deadline")
                self.children[-1 - i] = _Child(
                    item["workflow_id"],
                    run_id=item.get("run_id") if isinstance(item.get("run_id"), str) else None,
                    deadline=float(deadline) if isinstance(deadline, int | float) else None,
                    carried=True,
                )

    def _request(self, key: str, payload: Any) -> None:
        try:
            self.requests[key] = parse_request(
                payload, self.settings.domain, self.settings.workflow_id
            )
        except Rejected as exc:
            self.requests[key] = str(exc)
        except Exception as exc:  # a bug reading one request rejects that request only
            self.requests[key] = f"signal could not be read: {_describe(exc)}"

    def _signal(self, attrs: Mapping[str, Any], event_id: int) -> None:
        name = attrs.get("signalName")
        if name == START_SIGNAL:
            self._request(f"s{event_id}", attrs.get("input") or "")
        elif name == CLOSED_SIGNAL:
            reason = self._child_closed(attrs.get("input"))
            if reason is not None:
                self.requests[f"s{event_id}"] = reason
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
    def open_children(self) -> list[_Child]:
        return [c for c in self.children.values() if c.open]


def decide_daemon(events: Sequence[Mapping[str, Any]], settings: DaemonSettings) -> DaemonOutcome:
    """The daemon workflow's decisions for its complete history ``events``; never raises.

    A request or event that cannot be read is rejected or noted on its own. Should anything
    else fail (a bug), the answer is no decision at all: the run stays open and decides again
    at its next event, instead of a task that fails the same way at every redelivery.
    """
    try:
        return _decide(events, settings)
    except Exception as exc:
        note = {"event": "daemon.decide_failed", "level": "error", "error": _describe(exc)}
        return DaemonOutcome(notes=[note])


def _decide(events: Sequence[Mapping[str, Any]], settings: DaemonSettings) -> DaemonOutcome:
    state = _State(events, settings)
    out = DaemonOutcome(notes=state.notes)
    if state.cancel_requested:
        out.decisions.append(d.cancel_workflow("daemon workflow cancel requested"))
        out.notes.append({"event": "daemon.canceled", "level": "warning"})
        return out
    waiting: list[tuple[str, ChildRequest]] = []
    for key, request in state.requests.items():
        if key in state.handled:
            continue
        if isinstance(request, str):
            out.decisions.append(_reject(key, request))
            out.notes.append({"event": "daemon.signal_rejected", "key": key, "reason": request})
        else:
            waiting.append((key, request))
    if _continue_due(events, state):
        carried = _carried_input(state, waiting)
        if len(carried) <= d.MAX_PAYLOAD:
            out.decisions = out.decisions[: d.MAX_DECISIONS - 1]
            out.decisions.append(_continue(carried, settings))
            out.notes.append(
                {
                    "event": "daemon.continued_as_new",
                    "events": len(events),
                    "pending": len(waiting),
                    "children": len(state.open_children),
                }
            )
            return out
        out.notes.append(
            {"event": "daemon.continue_postponed", "level": "warning", "input_size": len(carried)}
        )
    free = settings.max_children - len(state.open_children)
    room = d.MAX_DECISIONS - 1 - len(out.decisions)
    started = 0
    for key, request in waiting[: max(0, min(free, room))]:
        child_id = request.workflow_id or _child_id(settings, key)
        try:
            decision = _start_child(key, child_id, request, settings)
        except Exception as exc:  # a bug with one request rejects that request only
            reason = f"the child's start could not be built: {_describe(exc)}"
            out.decisions.append(_reject(key, reason))
            out.notes.append({"event": "daemon.signal_rejected", "key": key, "reason": reason})
        else:
            out.decisions.append(decision)
            out.notes.append({"event": "daemon.child_starting", "key": key, "child": child_id})
        started += 1
    left = len(waiting) - started
    if left and started == room and MORE_TIMER not in state.open_timers:
        out.decisions.append(d.start_timer(MORE_TIMER, 0, "{}"))
    elif left and started < room:
        _wake_at_deadline(state, out)
    if left:
        out.notes.append({"event": "daemon.requests_waiting", "waiting": left})
    return out


def _continue_due(events: Sequence[Mapping[str, Any]], state: _State) -> bool:
    if len(events) < state.settings.continue_after_events or state.continue_refused:
        return False
    return not any(c.starting for c in state.children.values() if c.open)


def _carried_input(state: _State, waiting: list[tuple[str, ChildRequest]]) -> str:
    children = [
        {"workflow_id": c.workflow_id, "run_id": c.run_id, "deadline": c.deadline}
        for c in state.open_children
    ]
    pending = [request.to_carried() for _, request in waiting]
    return d.to_json({"children": children, "pending": pending})


def _wake_at_deadline(state: _State, out: DaemonOutcome) -> None:
    """Requests wait for carried children whose end may only show as a deadline: wake then."""
    deadlines = [c.deadline for c in state.open_children if c.carried and c.deadline is not None]
    if not deadlines or any(t.startswith(DEADLINE_TIMER) for t in state.open_timers):
        return
    seconds = max(1, math.ceil(min(deadlines) - state.now) + 1)
    timer_id = f"{DEADLINE_TIMER}.{state.timers_started + 1}"
    out.decisions.append(d.start_timer(timer_id, seconds, "{}"))


def _child_id(settings: DaemonSettings, key: str) -> str:
    return f"{settings.workflow_id}:{stable_hash(settings.run_id, key, length=16)}"[: d.MAX_ID]


def _reject(key: str, reason: str) -> d.Decision:
    return d.record_marker(REJECTED_MARKER, {"key": key, "reason": d.trim(reason, 1024)})


def _start_child(
    key: str, child_id: str, request: ChildRequest, settings: DaemonSettings
) -> d.Decision:
    return d.start_child(
        child_id,
        CHILD_TYPE[0],
        CHILD_TYPE[1],
        child_input(request, settings.workflow_id),
        settings.task_list,
        d.to_json({"daemon_key": key}),
        execution_timeout_seconds=settings.child_timeout_seconds,
    )


def _continue(carried: str, settings: DaemonSettings) -> d.Decision:
    # Only the input, the child policy and the (possibly reconfigured) task list are set: the
    # daemon workflow type's registered defaults give the rest, as for the first run.
    return d.continue_as_new(carried, {}, child_policy="ABANDON", task_list=settings.task_list)
