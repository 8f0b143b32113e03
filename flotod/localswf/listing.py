"""ListOpen/ListClosed/CountOpen/CountClosedWorkflowExecutions with SWF's filter rules.

Only the open (or closed) runs of the one domain asked about are looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.swf.exceptions import SWFValidationException

from flotod.localswf.events import decode_token, encode_token, page_size

if TYPE_CHECKING:
    from flotod.localswf.backend import LocalSWFBackend
    from flotod.localswf.execution import LocalWorkflowExecution

EXCLUSIVE = ("executionFilter", "typeFilter", "tagFilter", "closeStatusFilter")
Predicate = Callable[["LocalWorkflowExecution"], bool]


def _time_predicate(window: dict[str, Any], attr: str) -> Predicate:
    oldest = float(window.get("oldestDate", 0))
    latest = window.get("latestDate")
    newest = float(latest) if latest is not None else None

    def match(wfe: LocalWorkflowExecution) -> bool:
        value = getattr(wfe, attr) or 0.0
        return bool(value >= oldest and (newest is None or value <= newest))

    return match


def _predicates(params: dict[str, Any], closed: bool) -> tuple[list[Predicate], str]:
    """The filters of one request as predicates, and the timestamp it sorts by."""
    present = [name for name in EXCLUSIVE if params.get(name)]
    if len(present) > 1:
        raise SWFValidationException(
            "Cannot specify more than one exclusive filters in the same query: "
            + ", ".join(present)
        )
    start_window, close_window = params.get("startTimeFilter"), params.get("closeTimeFilter")
    if closed and bool(start_window) == bool(close_window):
        raise SWFValidationException(
            "Either startTimeFilter or closeTimeFilter must be specified, not both"
        )
    if not closed and not start_window:
        raise SWFValidationException("startTimeFilter is required")
    preds: list[Predicate] = []
    sort_attr = "start_timestamp"
    if start_window:
        preds.append(_time_predicate(start_window, "start_timestamp"))
    if close_window:
        preds.append(_time_predicate(close_window, "close_timestamp"))
        sort_attr = "close_timestamp"
    execution = params.get("executionFilter")
    if execution:
        wid = execution.get("workflowId")
        preds.append(lambda w: w.workflow_id == wid)
    type_filter = params.get("typeFilter")
    if type_filter:
        name, version = type_filter.get("name"), type_filter.get("version")
        preds.append(
            lambda w: (
                w.workflow_type.name == name and (not version or w.workflow_type.version == version)
            )
        )
    tag = (params.get("tagFilter") or {}).get("tag")
    if tag is not None:
        preds.append(lambda w: tag in (w.tag_list or []))
    status = (params.get("closeStatusFilter") or {}).get("status")
    if status is not None:
        preds.append(lambda w: w.close_status == status)
    return preds, sort_attr


def _matching(
    backend: LocalSWFBackend, params: dict[str, Any], closed: bool
) -> tuple[list[LocalWorkflowExecution], str]:
    domain = params.get("domain", "")
    backend._get_domain(domain)
    preds, sort_attr = _predicates(params, closed)
    pool = (backend.closed_by_domain if closed else backend.open_by_domain).get(domain, {})
    found = [wfe for wfe in pool.values() if all(pred(wfe) for pred in preds)]
    return found, sort_attr


def list_executions(
    backend: LocalSWFBackend, params: dict[str, Any], closed: bool
) -> dict[str, Any]:
    """One page of executionInfos, newest first unless reverseOrder."""
    with backend.lock:
        found, sort_attr = _matching(backend, params, closed)
        found.sort(
            key=lambda w: (getattr(w, sort_attr) or 0.0, w.workflow_id),
            reverse=not params.get("reverseOrder"),
        )
        size = page_size(params.get("maximumPageSize"))
        token = params.get("nextPageToken")
        offset = int(decode_token(token).get("offset", 0)) if token else 0
        page = found[offset : offset + size]
        body: dict[str, Any] = {"executionInfos": [wfe.to_list_dict() for wfe in page]}
    if offset + size < len(found):
        body["nextPageToken"] = encode_token({"offset": offset + size})
    return body


def count_executions(
    backend: LocalSWFBackend, params: dict[str, Any], closed: bool
) -> dict[str, Any]:
    with backend.lock:
        found, _ = _matching(backend, params, closed)
    return {"count": len(found), "truncated": False}
