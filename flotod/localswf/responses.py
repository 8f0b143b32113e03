"""SWF's JSON protocol over the extended backend: one entry point for both modes.

``dispatch(backend, operation, body)`` answers one request (status, JSON body) for the
in-process client hook and for the HTTP server alike. Operations moto answers correctly
(domains, types, tags) use moto's response methods; the rest are overridden here.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.swf.exceptions import SWFValidationException
from moto.swf.responses import SWFResponse

from flotod.localswf import listing
from flotod.localswf.backend import LocalSWFBackend
from flotod.localswf.faults import throttling_error
from flotod.localswf.validation import check_request

log = logging.getLogger(__name__)
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


class LocalSWFResponse(SWFResponse):
    """moto's SWF response bound to one LocalSWFBackend instead of moto's global registry."""

    def __init__(self, backend: LocalSWFBackend, body: bytes) -> None:
        super().__init__()
        self._backend = backend
        self.body = body
        self._parsed: Any = None

    @property
    def swf_backend(self) -> LocalSWFBackend:
        return self._backend

    @property
    def _params(self) -> Any:  # moto re-parses the body on every access
        if self._parsed is None:
            self._parsed = json.loads(self.body or b"{}")
        return self._parsed

    def _json(self, body: dict[str, Any]) -> str:
        return json.dumps(body)

    def _token(self) -> str:
        token = self._params.get("taskToken")
        self._check_string(token)
        return str(token)

    def start_workflow_execution(self) -> str:
        params = self._params
        wf_type = params.get("workflowType") or {}
        wfe = self.swf_backend.start_workflow_execution(
            params["domain"],
            params["workflowId"],
            str(wf_type.get("name", "")),
            str(wf_type.get("version", "")),
            tag_list=params.get("tagList"),
            workflow_input=params.get("input"),
            task_list=(params.get("taskList") or {}).get("name"),
            child_policy=params.get("childPolicy"),
            execution_start_to_close_timeout=params.get("executionStartToCloseTimeout"),
            task_start_to_close_timeout=params.get("taskStartToCloseTimeout"),
            task_priority=params.get("taskPriority"),
        )
        return self._json({"runId": wfe.run_id})

    def describe_workflow_execution(self) -> str:
        domain, run_id, workflow_id = self._get_workflow_execution_params()
        with self.swf_backend.lock:
            wfe = self.swf_backend.find_run(domain, workflow_id, run_id)
            return self._json(wfe.to_full_dict())

    def get_workflow_execution_history(self) -> str:
        domain, run_id, workflow_id = self._get_workflow_execution_params()
        params = self._params
        return self._json(
            self.swf_backend.get_history(
                domain,
                run_id,
                workflow_id,
                params.get("maximumPageSize"),
                params.get("nextPageToken"),
                bool(params.get("reverseOrder")),
            )
        )

    def poll_for_decision_task(self) -> str:
        params = self._params
        return self._json(
            self.swf_backend.poll_decision(
                params["domain"],
                params["taskList"]["name"],
                params.get("identity"),
                params.get("maximumPageSize"),
                params.get("nextPageToken"),
                bool(params.get("reverseOrder")),
                bool(params.get("startAtPreviousStartedEvent")),
            )
        )

    def respond_decision_task_completed(self) -> str:
        params = self._params
        decisions = params.get("decisions") or []
        if not isinstance(decisions, list) or not all(isinstance(d, dict) for d in decisions):
            raise SWFValidationException("decisions must be a list of decisions")
        self.swf_backend.respond_decision_task_completed(
            self._token(),
            decisions,
            params.get("executionContext"),
            (params.get("taskList") or {}).get("name"),
            params.get("taskListScheduleToStartTimeout"),
        )
        return "{}"

    def poll_for_activity_task(self) -> str:
        params = self._params
        return self._json(
            self.swf_backend.poll_activity(
                params["domain"], params["taskList"]["name"], params.get("identity")
            )
        )

    def respond_activity_task_canceled(self) -> str:
        self.swf_backend.respond_activity_task_canceled(self._token(), self._params.get("details"))
        return "{}"

    def record_activity_task_heartbeat(self) -> str:
        requested = self.swf_backend.heartbeat(self._token(), self._params.get("details"))
        return self._json({"cancelRequested": requested})

    def signal_workflow_execution(self) -> str:
        params = self._params
        self.swf_backend.signal_workflow_execution(
            params["domain"],
            params["signalName"],
            params["workflowId"],
            params.get("input"),
            params.get("runId"),
        )
        return "{}"

    def request_cancel_workflow_execution(self) -> str:
        params = self._params
        self.swf_backend.request_cancel_workflow_execution(
            params["domain"], params["workflowId"], params.get("runId")
        )
        return "{}"

    def list_open_workflow_executions(self) -> str:
        return self._json(listing.list_executions(self.swf_backend, self._params, closed=False))

    def list_closed_workflow_executions(self) -> str:
        return self._json(listing.list_executions(self.swf_backend, self._params, closed=True))

    def count_open_workflow_executions(self) -> str:
        return self._json(listing.count_executions(self.swf_backend, self._params, closed=False))

    def count_closed_workflow_executions(self) -> str:
        return self._json(listing.count_executions(self.swf_backend, self._params, closed=True))


OPERATIONS = frozenset(
    name
    for cls in (SWFResponse, LocalSWFResponse)
    for name, value in vars(cls).items()
    if not name.startswith("_") and callable(value)
)


def _error(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()


def dispatch(backend: LocalSWFBackend, operation: str, body: bytes) -> tuple[int, bytes]:
    """Answer one SWF call: (HTTP status, JSON body); errors in SWF's JSON error shape."""
    method_name = _SNAKE.sub("_", operation).lower()
    response = LocalSWFResponse(backend, body)
    method = getattr(response, method_name, None) if method_name in OPERATIONS else None
    if method is None:
        return 400, _error("UnknownOperationException", f"Unknown operation {operation}")
    if backend.throttle is not None and backend.throttle.hit():
        return throttling_error()
    try:
        check_request(operation, response._params)
        out = method()
        backend.settle()
    except JsonRESTError as exc:
        return 400, exc.get_body().encode()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return 400, _error(
            "com.amazon.coral.validate#ValidationException", f"Invalid request: {exc!r}"
        )
    except Exception as exc:  # the endpoint must outlive any request
        log.exception("localswf %s failed", operation)
        return 500, _error("com.amazon.coral.service#InternalFailure", repr(exc))
    return 200, (out or "{}").encode()
