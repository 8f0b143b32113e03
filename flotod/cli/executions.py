"""How an execution ended, read from its history: what `workflow start --wait`, `workflow
show`, the demo and the example tests all need, written once.

SWF records the outcome only as the execution's closing event, so everything here derives
from history events; nothing is kept outside SWF.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flotod.engine.attributes import attributes_key
from flotod.errors import SwfError, UnknownResourceError
from flotod.payloads import PayloadError, Payloads, PayloadUnavailable, is_envelope
from flotod.swf import SwfClient, decode_json_or_text

# Closing event type -> the close status SWF reports for it.
CLOSE_EVENTS: dict[str, str] = {
    "WorkflowExecutionCompleted": "COMPLETED",
    "WorkflowExecutionFailed": "FAILED",
    "WorkflowExecutionCanceled": "CANCELED",
    "WorkflowExecutionTerminated": "TERMINATED",
    "WorkflowExecutionTimedOut": "TIMED_OUT",
    "WorkflowExecutionContinuedAsNew": "CONTINUED_AS_NEW",
}


class WaitTimeout(SwfError):
    """The execution did not close within the time the caller was willing to wait."""


def attributes(event: dict[str, Any]) -> dict[str, Any]:
    """The ``<eventType>EventAttributes`` part of an event ({} when absent)."""
    kind = str(event.get("eventType", ""))
    value = event.get(attributes_key(kind))
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Outcome:
    """The end of one execution: ``result`` is decoded JSON (or text); failures carry
    ``reason`` and decoded ``details``. A value kept in S3 is shown resolved; when it cannot
    be, it stays the reference and ``unresolved`` says why in one line."""

    status: str
    result: Any = None
    reason: str | None = None
    details: Any = None
    started: datetime | None = None
    closed: datetime | None = None
    unresolved: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.closed is None:
            return None
        return (self.closed - self.started).total_seconds()

    def summary(self) -> Any:
        """What to show for it: the result when completed, else the reason (or status)."""
        if self.status == "COMPLETED":
            return self.result
        return self.reason or self.status


def _decoded(value: Any) -> Any:
    return decode_json_or_text(value) if isinstance(value, str) else value


def resolve(value: Any, payloads: Payloads | None) -> tuple[Any, str | None]:
    """``value`` decoded, a payload reference resolved first; (the reference, why) when it
    cannot be resolved: a missing or tampered object is something to show, not a crash."""
    if payloads is None or not is_envelope(value):
        return _decoded(value), None
    try:
        return _decoded(payloads.decode(value)), None
    except PayloadError as exc:
        return _decoded(value), f"{exc.reason}: {exc}"
    except PayloadUnavailable as exc:
        return _decoded(value), f"payload_unavailable: {exc}"


def outcome_from_history(
    events: Sequence[dict[str, Any]], payloads: Payloads | None = None
) -> Outcome | None:
    """The outcome recorded in ``events`` (ascending), or None while the execution is open;
    with ``payloads``, a result or details kept in S3 is resolved."""
    started = events[0].get("eventTimestamp") if events else None
    for event in reversed(events):
        status = CLOSE_EVENTS.get(str(event.get("eventType")))
        if status is None:
            continue
        attrs = attributes(event)
        result, result_note = resolve(attrs.get("result"), payloads)
        details, details_note = resolve(attrs.get("details"), payloads)
        return Outcome(
            status=status,
            result=result,
            reason=attrs.get("reason") or attrs.get("cause"),
            details=details,
            started=started,
            closed=event.get("eventTimestamp"),
            unresolved=result_note or details_note,
        )
    return None


def latest_run_id(swf: SwfClient, domain: str, workflow_id: str) -> str:
    """The run id of the newest execution with ``workflow_id``, open ones first."""
    found = swf.list_open_workflow_executions(domain, workflow_id=workflow_id)
    if not found:
        found = swf.list_closed_workflow_executions(domain, workflow_id=workflow_id)
    if not found:
        raise UnknownResourceError(
            f"no execution with workflow id {workflow_id!r} in domain {domain!r}"
        )
    newest = max(found, key=lambda info: info.get("startTimestamp") or datetime.min)
    return str(newest["execution"]["runId"])


def is_closed(swf: SwfClient, domain: str, workflow_id: str, run_id: str) -> bool:
    """One cheap call: the newest history event, closing or not."""
    page = swf.call(
        "get_workflow_execution_history",
        domain=domain,
        execution={"workflowId": workflow_id, "runId": run_id},
        reverseOrder=True,
        maximumPageSize=1,
    )
    events = page.get("events") or []
    return bool(events) and events[0].get("eventType") in CLOSE_EVENTS


def wait_for_outcome(
    swf: SwfClient,
    domain: str,
    workflow_id: str,
    run_id: str,
    *,
    timeout: float | None = None,
    interval: float = 0.5,
    on_tick: Callable[[float], None] | None = None,
    payloads: Payloads | None = None,
) -> Outcome:
    """Block until the execution closes; ``on_tick(elapsed)`` runs between checks."""
    began = time.monotonic()
    while not is_closed(swf, domain, workflow_id, run_id):
        elapsed = time.monotonic() - began
        if timeout is not None and elapsed >= timeout:
            raise WaitTimeout(f"{workflow_id} did not close within {timeout:g} s")
        if on_tick is not None:
            on_tick(elapsed)
        time.sleep(interval)
    events = swf.get_workflow_execution_history(domain, workflow_id, run_id)
    outcome = outcome_from_history(events, payloads)
    assert outcome is not None  # is_closed saw the closing event
    return outcome
