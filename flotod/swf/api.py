"""floto's simple SWF API (registration, executions, listing) on top of the client's ``call``.

These operations need no botocore: they build parameters, follow pages and shape results, so
they live apart from the transport in :mod:`flotod.swf.client`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flotod.errors import AlreadyExistsError, ValidationError
from flotod.swf.limits import (
    ACTIVITY_SCHEDULE_TO_CLOSE,
    ACTIVITY_SCHEDULE_TO_START,
    ACTIVITY_START_TO_CLOSE,
    DECISION_TASK_TIMEOUT,
    MAX_DATA,
    MAX_REASON,
    MIN_HEARTBEAT_TIMEOUT,
    WORKFLOW_EXECUTION_TIMEOUT,
    clip,
    encode_input,
)
from flotod.swf.retry import RetryPolicy


class SwfApi:
    """Mixin: the management calls, given a ``call(operation, **params)`` method."""

    def call(
        self,
        operation: str,
        *,
        poll: bool = False,
        retry: RetryPolicy | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _pages(
        self, operation: str, key: str, params: dict[str, Any], *, poll: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every item under ``key`` across all pages (SWF's nextPageToken)."""
        token: str | None = None
        while True:
            extra: dict[str, Any] = {"nextPageToken": token} if token else {}
            page = self.call(operation, poll=poll, **params, **extra)
            yield from page.get(key, [])
            token = page.get("nextPageToken")
            if not token:
                return

    # -- registration ------------------------------------------------------------------------

    def register_domain(
        self, name: str, retention_days: int = 30, description: str | None = None
    ) -> bool:
        """Register ``name``; False (not an error) when it already exists."""
        params: dict[str, Any] = {
            "name": name,
            "workflowExecutionRetentionPeriodInDays": str(retention_days),
        }
        if description:
            params["description"] = description
        return self._idempotent("register_domain", params)

    def register_workflow_type(
        self,
        domain: str,
        name: str,
        version: str,
        *,
        task_list: str | None = None,
        execution_start_to_close: int = WORKFLOW_EXECUTION_TIMEOUT,
        task_start_to_close: int | None = DECISION_TASK_TIMEOUT,
        child_policy: str = "TERMINATE",
        description: str | None = None,
    ) -> bool:
        """Register a workflow type; False when it already exists.

        The execution timeout cannot be NONE in SWF, so it defaults to SWF's maximum (1 year).
        """
        params: dict[str, Any] = {
            "domain": domain,
            "name": name,
            "version": version,
            "defaultExecutionStartToCloseTimeout": str(execution_start_to_close),
            "defaultTaskStartToCloseTimeout": _timeout(task_start_to_close),
            "defaultChildPolicy": child_policy,
        }
        if task_list:
            params["defaultTaskList"] = {"name": task_list}
        if description:
            params["description"] = description
        return self._idempotent("register_workflow_type", params)

    def register_activity_type(
        self,
        domain: str,
        name: str,
        version: str,
        *,
        task_list: str | None = None,
        heartbeat: int | None = MIN_HEARTBEAT_TIMEOUT,
        schedule_to_start: int | None = ACTIVITY_SCHEDULE_TO_START,
        start_to_close: int | None = ACTIVITY_START_TO_CLOSE,
        schedule_to_close: int | None = ACTIVITY_SCHEDULE_TO_CLOSE,
        description: str | None = None,
    ) -> bool:
        """Register an activity type (defaults suit the worker's 90 s heartbeat); False if known."""
        params: dict[str, Any] = {
            "domain": domain,
            "name": name,
            "version": version,
            "defaultTaskHeartbeatTimeout": _timeout(heartbeat),
            "defaultTaskScheduleToStartTimeout": _timeout(schedule_to_start),
            "defaultTaskStartToCloseTimeout": _timeout(start_to_close),
            "defaultTaskScheduleToCloseTimeout": _timeout(schedule_to_close),
        }
        if task_list:
            params["defaultTaskList"] = {"name": task_list}
        if description:
            params["description"] = description
        return self._idempotent("register_activity_type", params)

    def _idempotent(self, operation: str, params: dict[str, Any]) -> bool:
        try:
            self.call(operation, **params)
        except AlreadyExistsError:
            return False
        return True

    def describe_type(self, kind: str, domain: str, name: str, version: str) -> dict[str, Any]:
        """The defaults SWF holds for a ``"workflow"`` or ``"activity"`` type."""
        named: dict[str, Any] = {f"{kind}Type": {"name": name, "version": version}}
        answer = self.call(f"describe_{kind}_type", domain=domain, **named)
        return dict(answer.get("configuration") or {})

    def describe_domain(self, name: str) -> dict[str, Any]:
        return self.call("describe_domain", name=name)

    # -- executions --------------------------------------------------------------------------

    def start_workflow_execution(
        self,
        domain: str,
        workflow_id: str,
        workflow_type_name: str,
        workflow_type_version: str,
        *,
        task_list: str | None = None,
        input: Any = None,
        execution_start_to_close: int | None = None,
        task_start_to_close: int | None = None,
        child_policy: str | None = None,
        tags: list[str] | None = None,
    ) -> str:
        """Start a workflow; returns its run id. ``input``: str as is, else JSON."""
        params: dict[str, Any] = {
            "domain": domain,
            "workflowId": workflow_id,
            "workflowType": {"name": workflow_type_name, "version": workflow_type_version},
        }
        optional = {
            "taskList": {"name": task_list} if task_list else None,
            "input": encode_input(input),
            "executionStartToCloseTimeout": (
                str(execution_start_to_close) if execution_start_to_close else None
            ),
            "taskStartToCloseTimeout": str(task_start_to_close) if task_start_to_close else None,
            "childPolicy": child_policy,
            "tagList": tags,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        return str(self.call("start_workflow_execution", **params)["runId"])

    def signal_workflow_execution(
        self,
        domain: str,
        workflow_id: str,
        signal_name: str,
        input: Any = None,
        run_id: str | None = None,
    ) -> None:
        params: dict[str, Any] = {
            "domain": domain,
            "workflowId": workflow_id,
            "signalName": signal_name,
        }
        encoded = encode_input(input)
        if encoded is not None:
            params["input"] = encoded
        if run_id:
            params["runId"] = run_id
        self.call("signal_workflow_execution", **params)

    def terminate_workflow_execution(
        self,
        domain: str,
        workflow_id: str,
        run_id: str | None = None,
        *,
        reason: str | None = None,
        details: str | None = None,
        child_policy: str | None = None,
    ) -> None:
        params: dict[str, Any] = {"domain": domain, "workflowId": workflow_id}
        optional = {
            "runId": run_id,
            "reason": clip(reason, MAX_REASON) if reason else None,
            "details": clip(details, MAX_DATA) if details else None,
            "childPolicy": child_policy,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        self.call("terminate_workflow_execution", **params)

    def request_cancel_workflow_execution(
        self, domain: str, workflow_id: str, run_id: str | None = None
    ) -> None:
        params: dict[str, Any] = {"domain": domain, "workflowId": workflow_id}
        if run_id:
            params["runId"] = run_id
        self.call("request_cancel_workflow_execution", **params)

    def describe_workflow_execution(
        self, domain: str, workflow_id: str, run_id: str
    ) -> dict[str, Any]:
        return self.call(
            "describe_workflow_execution",
            domain=domain,
            execution={"workflowId": workflow_id, "runId": run_id},
        )

    def get_workflow_execution_history(
        self,
        domain: str,
        workflow_id: str,
        run_id: str,
        *,
        reverse: bool = False,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """The execution's whole history, every page joined (newest first if ``reverse``)."""
        params: dict[str, Any] = {
            "domain": domain,
            "execution": {"workflowId": workflow_id, "runId": run_id},
            "reverseOrder": reverse,
        }
        if page_size:
            params["maximumPageSize"] = page_size
        return list(self._pages("get_workflow_execution_history", "events", params))

    def list_open_workflow_executions(
        self,
        domain: str,
        *,
        oldest_start: datetime | None = None,
        latest_start: datetime | None = None,
        workflow_id: str | None = None,
        type_name: str | None = None,
        type_version: str | None = None,
        tag: str | None = None,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Open executions started in the window (default: the last 365 days), all pages."""
        params = _list_params(domain, workflow_id, type_name, type_version, tag, page_size)
        params["startTimeFilter"] = _time_filter(oldest_start, latest_start)
        return list(self._pages("list_open_workflow_executions", "executionInfos", params))

    def list_closed_workflow_executions(
        self,
        domain: str,
        *,
        oldest_start: datetime | None = None,
        latest_start: datetime | None = None,
        close_status: str | None = None,
        workflow_id: str | None = None,
        type_name: str | None = None,
        type_version: str | None = None,
        tag: str | None = None,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Closed executions started in the window (default: the last 365 days), all pages."""
        params = _list_params(
            domain,
            workflow_id,
            type_name,
            type_version,
            tag,
            page_size,
            close_status,
        )
        params["startTimeFilter"] = _time_filter(oldest_start, latest_start)
        return list(self._pages("list_closed_workflow_executions", "executionInfos", params))

    def count_open_workflow_executions(
        self, domain: str, *, oldest_start: datetime | None = None
    ) -> int:
        data = self.call(
            "count_open_workflow_executions",
            domain=domain,
            startTimeFilter=_time_filter(oldest_start, None),
        )
        return int(data.get("count", 0))

    def count_closed_workflow_executions(
        self, domain: str, *, oldest_start: datetime | None = None
    ) -> int:
        data = self.call(
            "count_closed_workflow_executions",
            domain=domain,
            startTimeFilter=_time_filter(oldest_start, None),
        )
        return int(data.get("count", 0))


def _timeout(value: int | str | None) -> str:
    return "NONE" if value is None else str(value)


def _time_filter(oldest: datetime | None, latest: datetime | None) -> dict[str, datetime]:
    out = {"oldestDate": oldest or datetime.now(UTC) - timedelta(days=365)}
    if latest:
        out["latestDate"] = latest
    return out


def _list_params(
    domain: str,
    workflow_id: str | None,
    type_name: str | None,
    type_version: str | None,
    tag: str | None,
    page_size: int | None,
    close_status: str | None = None,
) -> dict[str, Any]:
    """Build list filters; SWF allows only one of them per request, so say so before calling."""
    filters: dict[str, Any] = {}
    if workflow_id:
        filters["executionFilter"] = {"workflowId": workflow_id}
    if type_name:
        type_filter = {"name": type_name}
        if type_version:
            type_filter["version"] = type_version
        filters["typeFilter"] = type_filter
    if tag:
        filters["tagFilter"] = {"tag": tag}
    if close_status:
        filters["closeStatusFilter"] = {"status": close_status}
    if len(filters) > 1:
        raise ValidationError(
            "SWF accepts only one of these filters at a time: " + ", ".join(sorted(filters))
        )
    params: dict[str, Any] = {"domain": domain, **filters}
    if page_size:
        params["maximumPageSize"] = page_size
    return params
