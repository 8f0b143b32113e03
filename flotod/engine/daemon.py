"""The daemon workflow's decisions: a pure function of its history (no I/O, no clock).

The daemon workflow receives ``startChildWorkflowExecution`` signals and starts one child
workflow per valid signal, at most ``max_children`` open at once; the rest wait, and their
waiting is nothing but "signalled, not yet answered" in the history. Children outlive their
parent run (ABANDON), so a continued run learns of their end from the ``flotod.childClosed``
signal each child sends as it closes, or from their execution deadline passing (computed from
event timestamps).

How the backlog stays bounded. Once the history holds ``continue_after_events`` events the
run continues as new, and everything it still has to remember travels in the new run's
input: the children still open and the requests still waiting. That input is limited to
32,768 characters and the continue is a single decision, so a run cannot hand on more than
that, and it cannot hand on anything by other means (re-signalling itself from the closing
response would need one decision per request, at most 100, and a signal sent before the
close would land in the same run). So the backlog is a queue that always fits the next
run's input:

- At every decision the requests that have no free child slot are admitted oldest first
  while the carried input (open children, those starting now or at the next decision with
  room for their run ids, and the admitted requests) still fits; a request that does not
  fit is rejected at once with a marker naming it and a ``daemon.backlog_full`` error note,
  so its sender knows to signal again later. An
  admitted request stays admitted: only older requests are counted before it, and they
  only leave the queue.
- The continue is never postponed for size: when it is due it carries what waits, in
  order; requests that had a slot but not yet a start (a burst larger than one response)
  and no longer fit are rejected then, with their markers in the closing response. It
  waits only for child starts SWF has not answered yet (no new child starts once it is
  due), and for rejections beyond the 99 a response can hold.
- A rejection is one ``flotod.rejectedSignal`` marker (``{"key", "reason", "workflow_id"}``)
  while there are few; beyond SINGLE_MARKERS in one response they are recorded together in
  ``flotod.rejectedSignals`` markers (``{"rejected": [...]}``), so a flood of signals costs
  a few events per decision task rather than one per signal.
- Each response stays within SWF's limits: at most 100 decisions (a zero-second timer asks
  for the next decision when more remain) and well under 1 MB of child input and markers.

What no decider can bound: signals are events of the run they reach, and SWF refuses a
closing decision (``UNHANDLED_DECISION``) when an event arrived while it was being made. A
run therefore continues in the first pause between signals that is longer than one decision
round trip; a flood without such a pause (SWF throttles signals to 30/s after a burst of
2,000) grows the run by what it sends until then.

Every request is thus started, kept waiting across runs, or rejected with a marker; none is
dropped in silence. Should the open children alone not fit the carried input (a very large
``max_children`` with long ids), the newest are left out with a ``daemon.children_not_carried``
error note: their slots count free early, and their later ``childClosed`` signals get markers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flotod.engine import decisions as d
from flotod.engine.allowlist import ALLOW_ALL, Allowlist
from flotod.engine.daemon_history import Child, DaemonHistory, describe, timestamp
from flotod.engine.daemon_requests import (
    CHILD_TYPE,
    REJECTED_BATCH_MARKER,
    REJECTED_MARKER,
    ChildRequest,
    Rejected,
    child_input,
    parse_request,
)
from flotod.specs.canonical import stable_hash

__all__ = [
    "DEADLINE_TIMER",
    "MORE_TIMER",
    "DaemonOutcome",
    "DaemonSettings",
    "decide_daemon",
    "timestamp",
]

DEADLINE_TIMER = "flotod.deadline"
MORE_TIMER = "flotod.more"
# The note that ends every decision of the daemon workflow: children open (or starting) and
# requests waiting once its decisions apply (the service's metrics gauges; a debug record).
STATE_NOTE = "daemon.state"
# Child input and marker details per response: SWF takes at most 1 MB per request.
RESPONSE_INPUT_BUDGET = 500_000
MARKER_BUDGET = 400_000
SINGLE_MARKERS = 20
# A starting child's carried entry reserves SWF's longest run id and a deadline.
_RUN_ID_ROOM = "r" * 64
_DEADLINE_ROOM = 9_999_999_999.999999


@dataclass(frozen=True)
class DaemonSettings:
    domain: str
    workflow_id: str
    run_id: str
    task_list: str
    max_children: int
    continue_after_events: int
    child_timeout_seconds: int
    allow: Allowlist = ALLOW_ALL  # what a request's spec may name (flotod.engine.allowlist)
    max_payload: int = d.MAX_PAYLOAD  # a child's input (flotod.engine.decisions.payload_limit)


@dataclass
class DaemonOutcome:
    """Decisions to send, and notes (event name + fields) for the service to log."""

    decisions: list[d.Decision] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Rejection:
    key: str
    reason: str
    workflow_id: str | None = None
    note: str = "daemon.signal_rejected"
    level: str = "info"

    def entry(self) -> dict[str, Any]:
        """What a marker records: the request's key in this run, why, and its child id."""
        out: dict[str, Any] = {"key": self.key, "reason": d.trim(self.reason, 1024)}
        if self.workflow_id is not None:
            out["workflow_id"] = self.workflow_id
        return out


Waiting = list[tuple[str, ChildRequest]]


def decide_daemon(events: Sequence[Mapping[str, Any]], settings: DaemonSettings) -> DaemonOutcome:
    """The daemon workflow's decisions for its complete history ``events``; never raises.

    A request or event that cannot be read is rejected or noted on its own. Should anything
    else fail (a bug), the answer is no decision at all: the run stays open and decides again
    at its next event, instead of a task that fails the same way at every redelivery.
    """
    try:
        return _decide(events, settings)
    except Exception as exc:
        note = {"event": "daemon.decide_failed", "level": "error", "error": describe(exc)}
        return DaemonOutcome(notes=[note])


def _decide(events: Sequence[Mapping[str, Any]], settings: DaemonSettings) -> DaemonOutcome:
    history = DaemonHistory(events)
    out = DaemonOutcome(notes=history.notes)
    if history.cancel_requested:
        out.decisions.append(d.cancel_workflow("daemon workflow cancel requested"))
        out.notes.append({"event": "daemon.canceled", "level": "warning"})
        return out
    rejections, waiting = _read_requests(history, settings)
    due = len(events) >= settings.continue_after_events and not history.continue_refused
    starts: list[d.Decision] = []
    started: list[str] = []
    more = False
    consumed = 0
    free = settings.max_children - len(history.open_children)
    if not due:
        room = d.MAX_DECISIONS - 1 - len(_markers(rejections, d.MAX_DECISIONS - 1)[0])
        starts, started, consumed, more = _starts(
            waiting, min(free, room), settings, rejections, out
        )
        more = more or (room < free and len(starts) >= room and consumed < len(waiting))
    elif history.starting:
        out.notes.append({"event": "daemon.continue_waits_for_child_starts"})
    # Requests with a free slot that this response has no room for start at the next
    # decision: they count as starting children, not as queued requests.
    soon = [] if due else waiting[consumed : consumed + max(0, free - len(starts))]
    started += [_child_id_of(key, request, settings) for key, request in soon]
    children = _entries(history.open_children) + [
        {"workflow_id": child_id, "run_id": _RUN_ID_ROOM, "deadline": _DEADLINE_ROOM}
        for child_id in started
    ]
    kept = soon + _admit(waiting[consumed + len(soon) :], children, rejections)
    if due and not history.starting and _mark(rejections, d.MAX_DECISIONS - 1, out, whole=True):
        _continue(history, kept, settings, len(events), out)
        out.notes.append(_state_note(len(children), len(kept)))
        return out
    more = not _mark(rejections, d.MAX_DECISIONS - 1 - len(starts), out) or more
    out.decisions.extend(starts)
    if more and MORE_TIMER not in history.open_timers:
        out.decisions.append(d.start_timer(MORE_TIMER, 0, "{}"))
    elif kept and not more:
        _wake_at_deadline(history, out)
    if kept:
        out.notes.append({"event": "daemon.requests_waiting", "waiting": len(kept)})
    out.notes.append(_state_note(len(children), len(kept)))
    return out


def _state_note(children: int, waiting: int) -> dict[str, Any]:
    return {"event": STATE_NOTE, "level": "debug", "children": children, "waiting": waiting}


def _read_requests(
    history: DaemonHistory, settings: DaemonSettings
) -> tuple[list[_Rejection], Waiting]:
    """Unhandled requests in arrival order: those refused, and the valid ones waiting."""
    rejections: list[_Rejection] = []
    waiting: Waiting = []
    for key, item in history.requests.items():
        if key in history.handled:
            continue
        if item.reason is not None:
            rejections.append(_Rejection(key, item.reason))
            continue
        try:
            waiting.append(
                (
                    key,
                    parse_request(
                        item.raw,
                        settings.domain,
                        settings.workflow_id,
                        settings.allow,
                        settings.max_payload,
                    ),
                )
            )
        except Rejected as exc:
            rejections.append(_Rejection(key, str(exc)))
        except Exception as exc:  # a bug reading one request rejects that request only
            rejections.append(_Rejection(key, f"signal could not be read: {describe(exc)}"))
    return rejections, waiting


def _starts(
    waiting: Waiting,
    slots: int,
    settings: DaemonSettings,
    rejections: list[_Rejection],
    out: DaemonOutcome,
) -> tuple[list[d.Decision], list[str], int, bool]:
    """Start decisions for the oldest requests, their child ids, how many requests were used,
    and whether starting stopped because this response holds no more child input."""
    starts: list[d.Decision] = []
    started: list[str] = []
    size = 0
    consumed = 0
    for key, request in waiting:
        if len(starts) >= slots:
            break
        child_id = _child_id_of(key, request, settings)
        try:
            decision = _start_child(key, child_id, request, settings)
        except Exception as exc:  # a bug with one request rejects that request only
            reason = f"the child's start could not be built: {describe(exc)}"
            rejections.append(_Rejection(key, reason, request.workflow_id, level="error"))
            consumed += 1
            continue
        length = len(decision["startChildWorkflowExecutionDecisionAttributes"]["input"])
        if starts and size + length > RESPONSE_INPUT_BUDGET:
            return starts, started, consumed, True
        size += length
        starts.append(decision)
        started.append(child_id)
        consumed += 1
        out.notes.append({"event": "daemon.child_starting", "key": key, "child": child_id})
    return starts, started, consumed, False


def _admit(
    waiting: Waiting, children: list[dict[str, Any]], rejections: list[_Rejection]
) -> Waiting:
    """The requests the next run's input can carry, oldest first; the others are rejected."""
    budget = d.MAX_PAYLOAD - len(d.to_json({"children": children, "pending": []}))
    kept: Waiting = []
    for key, request in waiting:
        size = len(d.to_json(request.to_carried())) + 1  # and its comma
        if size <= budget:
            kept.append((key, request))
            budget -= size
            continue
        reason = (
            f"daemon backlog full: {len(kept)} earlier requests wait and the next run's input "
            f"has no room for this one ({size} characters); signal again later"
        )
        rejections.append(
            _Rejection(key, reason, request.workflow_id, note="daemon.backlog_full", level="error")
        )
    return kept


def _markers(rejections: list[_Rejection], room: int) -> tuple[list[d.Decision], int]:
    """Marker decisions for the oldest rejections, at most ``room`` of them and about
    MARKER_BUDGET characters; how many rejections they record.

    A few rejections get a marker each; beyond SINGLE_MARKERS they are recorded in batch
    markers, so that a flood costs a handful of events per decision task, not one each."""
    decisions: list[d.Decision] = []
    entries = [r.entry() for r in rejections]
    singles = min(len(entries), SINGLE_MARKERS, room)
    decisions += [d.record_marker(REJECTED_MARKER, entry) for entry in entries[:singles]]
    done = singles
    spent = sum(len(d.to_json(entry)) for entry in entries[:singles])
    batch: list[dict[str, Any]] = []
    size = 0
    for entry in entries[singles:]:
        length = len(d.to_json(entry)) + 1
        if size + length > d.MAX_PAYLOAD - 64 and batch:
            if len(decisions) + 1 >= room or spent + size > MARKER_BUDGET:
                break
            decisions.append(d.record_marker(REJECTED_BATCH_MARKER, {"rejected": batch}))
            done, spent, batch, size = done + len(batch), spent + size, [], 0
        batch.append(entry)
        size += length
    if batch and len(decisions) < room and spent + size <= MARKER_BUDGET:
        decisions.append(d.record_marker(REJECTED_BATCH_MARKER, {"rejected": batch}))
        done += len(batch)
    return decisions, done


def _mark(rejections: list[_Rejection], room: int, out: DaemonOutcome, whole: bool = False) -> bool:
    """Record the oldest rejections within ``room`` decisions; True when all fitted.

    With ``whole``, nothing is recorded unless all fit (a closing response must leave none).
    """
    decisions, done = _markers(rejections, room)
    if whole and done < len(rejections):
        return False
    out.decisions.extend(decisions)
    for r in rejections[:done]:
        note = {"event": r.note, "key": r.key, "reason": r.reason, "level": r.level}
        if r.workflow_id is not None:
            note["request_workflow_id"] = r.workflow_id
        out.notes.append(note)
    return done == len(rejections)


def _entries(children: list[Child]) -> list[dict[str, Any]]:
    return [
        {"workflow_id": c.workflow_id, "run_id": c.run_id, "deadline": c.deadline} for c in children
    ]


def _continue(
    history: DaemonHistory, kept: Waiting, settings: DaemonSettings, events: int, out: DaemonOutcome
) -> None:
    children = _entries(history.open_children)
    pending = [request.to_carried() for _, request in kept]
    carried = d.to_json({"children": children, "pending": pending})
    dropped = 0
    if len(carried) > d.MAX_PAYLOAD:
        # Only children can overflow here (requests were admitted to fit): keep the oldest.
        room = d.MAX_PAYLOAD - len(d.to_json({"children": [], "pending": pending}))
        fits = 0
        for entry in children:
            room -= len(d.to_json(entry)) + 1
            if room < 0:
                break
            fits += 1
        dropped, children = len(children) - fits, children[:fits]
        carried = d.to_json({"children": children, "pending": pending})
    if dropped:
        out.notes.append({"event": "daemon.children_not_carried", "level": "error",
                          "dropped": dropped, "carried": len(children)})  # fmt: skip
    out.decisions.append(
        d.continue_as_new(carried, {}, child_policy="ABANDON", task_list=settings.task_list)
    )
    out.notes.append(
        {"event": "daemon.continued_as_new", "events": events, "pending": len(pending),
         "children": len(children)}
    )  # fmt: skip


def _wake_at_deadline(history: DaemonHistory, out: DaemonOutcome) -> None:
    """Requests wait for carried children whose end may only show as a deadline: wake then."""
    deadlines = [c.deadline for c in history.open_children if c.carried and c.deadline is not None]
    if not deadlines or any(t.startswith(DEADLINE_TIMER) for t in history.open_timers):
        return
    seconds = max(1, math.ceil(min(deadlines) - history.now) + 1)
    timer_id = f"{DEADLINE_TIMER}.{history.timers_started + 1}"
    out.decisions.append(d.start_timer(timer_id, seconds, "{}"))


def _child_id_of(key: str, request: ChildRequest, settings: DaemonSettings) -> str:
    if request.workflow_id:
        return request.workflow_id
    return f"{settings.workflow_id}:{stable_hash(settings.run_id, key, length=16)}"[: d.MAX_ID]


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
