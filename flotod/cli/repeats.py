"""What ``flotod workflow show`` tells about a repeating workflow (``repeat_workflow``).

Each run of a repeating workflow continues as new, so none has a result of its own: each
records it in a ``flotod.result`` marker before continuing. The runs of one chain share the
workflow id; the chain is the shown run and the runs just before it that closed as
CONTINUED_AS_NEW (one list call), and the last result is the newest marker along it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flotod.cli.executions import resolve
from flotod.engine.decisions import RESULT_MARKER
from flotod.payloads import Payloads
from flotod.swf import SwfClient


@dataclass(frozen=True)
class Repeats:
    """``runs`` in the chain up to the shown run; the newest recorded result and its run
    (``unresolved`` says why, when that result is kept in S3 and cannot be read)."""

    runs: int
    result_run_id: str | None = None
    result: Any = None
    unresolved: str | None = None


def result_marker(
    events: Sequence[dict[str, Any]], payloads: Payloads | None = None
) -> tuple[bool, Any, str | None]:
    """(found, decoded details, why unresolved) of the newest ``flotod.result`` marker in
    ``events``; with ``payloads``, details kept in S3 are resolved."""
    for event in reversed(events):
        if event.get("eventType") != "MarkerRecorded":
            continue
        attrs = event.get("markerRecordedEventAttributes") or {}
        if attrs.get("markerName") == RESULT_MARKER:
            value, note = resolve(attrs.get("details"), payloads)
            return True, value, note
    return False, None, None


def _continued(events: Sequence[dict[str, Any]]) -> bool:
    for event in events[:1]:
        attrs = event.get("workflowExecutionStartedEventAttributes") or {}
        return bool(attrs.get("continuedExecutionRunId"))
    return False


def repeats(
    swf: SwfClient,
    domain: str,
    workflow_id: str,
    run_id: str,
    started: datetime | None,
    events: Sequence[dict[str, Any]],
    payloads: Payloads | None = None,
) -> Repeats | None:
    """The chain the run ``run_id`` (whose history is ``events``) ends, or None when the
    run neither continues an earlier one nor recorded a result marker."""
    found, result, note = result_marker(events, payloads)
    if not found and not _continued(events):
        return None
    earlier = [
        info
        for info in swf.list_closed_workflow_executions(domain, workflow_id=workflow_id)
        if info["execution"]["runId"] != run_id
        and (started is None or (info.get("startTimestamp") or started) < started)
    ]
    earlier.sort(key=lambda info: info.get("startTimestamp") or datetime.min, reverse=True)
    chain = []
    for info in earlier:
        if info.get("closeStatus") != "CONTINUED_AS_NEW":
            break
        chain.append(str(info["execution"]["runId"]))
    if found:
        return Repeats(len(chain) + 1, run_id, result, note)
    for previous in chain:
        history = swf.get_workflow_execution_history(domain, workflow_id, previous)
        found, result, note = result_marker(history, payloads)
        if found:
            return Repeats(len(chain) + 1, previous, result, note)
    return Repeats(len(chain) + 1)
