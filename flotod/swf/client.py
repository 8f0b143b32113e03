"""The one place flotod talks to SWF through boto3.

Everything SWF-specific about the wire lives here: long-poll timeouts, empty polls, history
pages, our own retries on throttling and transient faults, and the translation of botocore's
errors into flotod's typed errors. The rest of flotod sees plain values and ``SwfError``s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import botocore.config
import botocore.exceptions as bexc
import structlog

from flotod.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    LimitExceededError,
    SwfError,
    TransientSwfError,
    TypeDeprecatedError,
    UnknownResourceError,
    ValidationError,
)
from flotod.metrics import NO_METRICS, Metrics
from flotod.swf.api import SwfApi
from flotod.swf.histories import MAX_PAGE as MAX_HISTORY_PAGE
from flotod.swf.histories import HistoryCache, HistoryMismatch
from flotod.swf.limits import (
    MAX_DATA,
    MAX_HEARTBEAT_DETAILS,
    MAX_IDENTITY,
    MAX_REASON,
    clip,
    default_identity,
)
from flotod.swf.replies import AVAILABLE as FAST_REPLIES
from flotod.swf.replies import SwfReplyParserFactory
from flotod.swf.retry import RetryPolicy
from flotod.swf.sessions import boto_session
from flotod.swf.types import ActivityTask, DecisionTask, WorkflowExecution

log = structlog.get_logger(__name__)

# SWF holds a poll open for up to 60 s; the socket must outwait it or tasks get lost.
DEFAULT_READ_TIMEOUT = 75.0
DEFAULT_CONNECT_TIMEOUT = 10.0
# Heartbeats and activity reports are small, quick calls: on a black-holed network they must
# fail in seconds, not in the minutes a poll's timeouts allow, so they use a client of their own.
SHORT_CONNECT_TIMEOUT = 5.0
SHORT_READ_TIMEOUT = 10.0

_CODE_TO_ERROR: dict[str, type[SwfError]] = {
    "UnknownResourceFault": UnknownResourceError,
    "DomainAlreadyExistsFault": AlreadyExistsError,
    "TypeAlreadyExistsFault": AlreadyExistsError,
    "WorkflowExecutionAlreadyStartedFault": AlreadyExistsError,
    "DomainDeprecatedFault": TypeDeprecatedError,
    "TypeDeprecatedFault": TypeDeprecatedError,
    "LimitExceededFault": LimitExceededError,
    "TooManyTagsFault": LimitExceededError,
    "OperationNotPermittedFault": AccessDeniedError,
    "AccessDeniedException": AccessDeniedError,
    "UnrecognizedClientException": AccessDeniedError,
    "InvalidClientTokenId": AccessDeniedError,
    "ExpiredTokenException": AccessDeniedError,
    "ExpiredToken": AccessDeniedError,
    "MissingAuthenticationTokenException": AccessDeniedError,
    "IncompleteSignature": AccessDeniedError,
    "InvalidSignatureException": AccessDeniedError,
    "SignatureDoesNotMatch": AccessDeniedError,
    "ValidationException": ValidationError,
    "SerializationException": ValidationError,
    "DefaultUndefinedFault": ValidationError,
    "TypeNotDeprecatedFault": ValidationError,
    "InvalidParameterValue": ValidationError,
    "ThrottlingException": TransientSwfError,
    "Throttling": TransientSwfError,
    "RequestLimitExceeded": TransientSwfError,
    "TooManyRequestsException": TransientSwfError,
    "ServiceUnavailable": TransientSwfError,
    "ServiceUnavailableException": TransientSwfError,
    "InternalFailure": TransientSwfError,
    "InternalServerError": TransientSwfError,
}

_CREDENTIAL_ERRORS: tuple[type[Exception], ...] = (
    bexc.NoCredentialsError,
    bexc.PartialCredentialsError,
    bexc.CredentialRetrievalError,
    bexc.ProfileNotFound,
)
_CONNECTION_ERRORS: tuple[type[Exception], ...] = (bexc.ConnectionError, bexc.HTTPClientError)


def _ascending(events: list[dict[str, Any]]) -> bool:
    """A page in SWF's default order: what an endpoint that ignores reverseOrder sends."""
    return len(events) > 1 and events[0]["eventId"] < events[-1]["eventId"]


def _decision_task(
    first: dict[str, Any], execution: WorkflowExecution, events: list[dict[str, Any]]
) -> DecisionTask:
    """A polled decision task from its first page and the events read for it."""
    return DecisionTask(
        task_token=first["taskToken"],
        workflow_execution=execution,
        workflow_type=dict(first["workflowType"]),
        events=events,
        started_event_id=int(first.get("startedEventId", 0)),
        previous_started_event_id=int(first.get("previousStartedEventId") or 0),
    )


def translate_client_error(exc: bexc.ClientError, operation: str) -> SwfError:
    """Map one botocore ClientError to flotod's error for it (the only such mapping)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")).rsplit("#", 1)[-1]
    message = str(error.get("Message", "")) or str(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    cls = _CODE_TO_ERROR.get(code)
    if cls is None:
        if "rate exceeded" in message.lower() or status == 429 or status >= 500:
            cls = TransientSwfError
        else:
            cls = SwfError
    return cls(f"{operation}: {code or 'error'}: {message}", code=code or None, operation=operation)


class SwfClient(SwfApi):
    """A thread-safe SWF client with flotod's retries, pagination and errors.

    Build it from an endpoint (the embedded SWF is just another ``endpoint_url``), region and
    credentials (see :func:`flotod.swf.credentials.resolve_credentials` for which), or wrap an
    existing boto3 client with :meth:`from_boto` (tests, stubbing).
    """

    metrics: Metrics = NO_METRICS  # a service sets its own: polls and errors are counted here

    def __init__(
        self,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        identity: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        credentials_file: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_pool_connections: int = 20,
        boto_client: Any = None,
        short_client: Any = None,
    ) -> None:
        if read_timeout < 70:
            raise ValueError("read_timeout must be at least 70 s: SWF holds polls up to 60 s")
        self.retry = retry or RetryPolicy()
        self.identity = clip(identity or default_identity(), MAX_IDENTITY)
        if boto_client is None:
            config = botocore.config.Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": 0, "mode": "standard"},
                max_pool_connections=max_pool_connections,
            )
            short = config.merge(
                botocore.config.Config(
                    connect_timeout=min(connect_timeout, SHORT_CONNECT_TIMEOUT),
                    read_timeout=SHORT_READ_TIMEOUT,
                )
            )
            try:
                session = boto_session(
                    profile=profile,
                    access_key_id=access_key_id,
                    secret_access_key=secret_access_key,
                    credentials_file=credentials_file,
                    # histories decoded without botocore's per-field walk
                    response_parser_factory=SwfReplyParserFactory() if FAST_REPLIES else None,
                )
                boto_client = session.client(
                    "swf",
                    endpoint_url=endpoint_url or None,
                    region_name=region or None,
                    config=config,
                )
                short_client = session.client(
                    "swf",
                    endpoint_url=endpoint_url or None,
                    region_name=region or None,
                    config=short,
                )
            except bexc.ProfileNotFound as exc:
                raise AccessDeniedError(str(exc)) from None
            except bexc.NoRegionError:
                raise ValidationError("no AWS region configured for SWF") from None
        # boto3 clients are generated at run time; their methods are looked up by name.
        self._client: Any = boto_client
        self._short: Any = boto_client if short_client is None else short_client

    @property
    def supports_sticky(self) -> bool:
        """Whether this botocore's SWF model has the decision task list override
        (RespondDecisionTaskCompleted ``taskList``) and ``startAtPreviousStartedEvent``: older
        models (Debian 12's botocore) refuse both before a request is sent."""
        try:
            model = self._client.meta.service_model
            respond = model.operation_model("RespondDecisionTaskCompleted").input_shape.members
            poll = model.operation_model("PollForDecisionTask").input_shape.members
        except (AttributeError, KeyError, LookupError):
            return False
        return "taskList" in respond and "startAtPreviousStartedEvent" in poll

    @classmethod
    def from_boto(
        cls, boto_client: Any, *, retry: RetryPolicy | None = None, identity: str | None = None
    ) -> SwfClient:
        return cls(boto_client=boto_client, retry=retry, identity=identity)

    @property
    def boto_client(self) -> Any:
        """The underlying boto3 client, for tests and benchmarks that compare against it."""
        return self._client

    # -- transport ---------------------------------------------------------------------------

    def call(
        self,
        operation: str,
        *,
        poll: bool = False,
        retry: RetryPolicy | None = None,
        short: bool = False,
        **params: Any,
    ) -> dict[str, Any]:
        """Call one SWF operation (snake_case name) with retries; raise flotod's errors.

        A read timeout is retried except on polls: there it is returned to the caller at once,
        so a poll loop gets to check its stop flag instead of waiting through more polls.
        ``short`` sends it on the client with short timeouts (heartbeats, activity reports).
        """
        policy = retry or self.retry
        client = self._short if short else self._client
        method: Callable[..., dict[str, Any]] = getattr(client, operation)
        attempt = 0
        while True:
            attempt += 1
            try:
                return method(**params)
            except bexc.ClientError as exc:
                error = translate_client_error(exc, operation)
                cause: Exception = exc
            except bexc.ReadTimeoutError as exc:
                error = TransientSwfError(f"{operation}: read timeout: {exc}", operation=operation)
                cause = exc
            except _CONNECTION_ERRORS as exc:
                error = TransientSwfError(f"{operation}: {exc}", operation=operation)
                cause = exc
            except _CREDENTIAL_ERRORS as exc:
                self.metrics.swf_error(operation, type(exc).__name__)
                raise AccessDeniedError(f"{operation}: {exc}", operation=operation) from exc
            self.metrics.swf_error(operation, error.code or type(cause).__name__)
            if poll and isinstance(cause, bexc.ReadTimeoutError):
                raise error from cause
            if not isinstance(error, TransientSwfError) or attempt >= policy.max_attempts:
                raise error from cause
            delay = policy.delay(attempt)
            log.warning(
                "swf.retry",
                operation=operation,
                attempt=attempt,
                code=error.code,
                error=str(error),
                delay_seconds=round(delay, 3),
            )
            policy.sleep(delay)

    # -- polls and responses -----------------------------------------------------------------

    def poll_for_decision_task(
        self,
        domain: str,
        task_list: str,
        *,
        page_size: int | None = None,
        history: HistoryCache | None = None,
        since_previous: bool = False,
    ) -> DecisionTask | None:
        """One decision task with its whole history, or None for an empty poll.

        With ``history`` the poll asks for the newest events first, in pages sized by the
        cache, and fetches only what the cache does not hold (see flotod.swf.histories).
        ``since_previous`` (with ``history``), for a list whose tasks follow one this process
        answered: ask SWF only for the events since the previous DecisionTaskStarted
        (startAtPreviousStartedEvent) and join them to the cache.
        """
        params: dict[str, Any] = {
            "domain": domain,
            "taskList": {"name": task_list},
            "identity": self.identity,
        }
        if history is not None and since_previous:
            return self._poll_since_previous(domain, history, params)
        if history is not None:
            params["reverseOrder"] = True
            params["maximumPageSize"] = history.page_size()
        elif page_size:
            params["maximumPageSize"] = page_size
        first = self.call("poll_for_decision_task", poll=True, **params)
        self.metrics.polled("decision", bool(first.get("taskToken")))
        if not first.get("taskToken"):
            return None
        execution = WorkflowExecution.from_api(first["workflowExecution"])
        events = list(first.get("events", []))
        token = first.get("nextPageToken")
        if history is not None and not _ascending(events):
            events = self._join_history(history, domain, execution, events, token, params)
        else:  # no cache, or an endpoint that ignores reverseOrder: every page, oldest first
            events.extend(self._poll_pages(token, params))
            if history is not None:
                history.put(execution.workflow_id, execution.run_id, events)
        return _decision_task(first, execution, events)

    def _poll_since_previous(
        self, domain: str, history: HistoryCache, params: dict[str, Any]
    ) -> DecisionTask | None:
        """The poll of ``since_previous``: the events since the previous task's start, oldest
        first, in as many pages as they fill; whatever the cache lacks besides (it forgot the
        run, or another decider took a task meanwhile) comes from the run's history."""
        params = {
            **params,
            "startAtPreviousStartedEvent": True,
            "maximumPageSize": MAX_HISTORY_PAGE,
        }
        first = self.call("poll_for_decision_task", poll=True, **params)
        self.metrics.polled("decision", bool(first.get("taskToken")))
        if not first.get("taskToken"):
            return None
        execution = WorkflowExecution.from_api(first["workflowExecution"])
        events = list(first.get("events", []))
        events.extend(self._poll_pages(first.get("nextPageToken"), params))
        wid, rid = execution.workflow_id, execution.run_id
        try:
            events = history.join(wid, rid, events[::-1])
        except HistoryMismatch:
            history.drop(wid, rid)
            newest = int(events[-1]["eventId"]) if events else int(first.get("startedEventId", 0))
            events = self._events_before(domain, execution, newest + 1)
            history.put(wid, rid, events)
        return _decision_task(first, execution, events)

    def _poll_pages(self, token: str | None, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The events of a decision task's further pages, in the order the poll asked for."""
        while token:
            page = self.call("poll_for_decision_task", poll=True, nextPageToken=token, **params)
            yield from page.get("events", [])
            token = page.get("nextPageToken")

    def _join_history(
        self,
        history: HistoryCache,
        domain: str,
        execution: WorkflowExecution,
        newest_first: list[dict[str, Any]],
        token: str | None,
        params: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Fetch the events neither held nor on the first page, then join them to the cache.

        What is missing is known from the first page: every event after the last one held and
        before the page's oldest. It comes from the poll's further pages, or, when that would
        take more calls, from GetWorkflowExecutionHistory in pages of 1,000 from event 1.
        """
        wid, rid = execution.workflow_id, execution.run_id
        page = int(params["maximumPageSize"])
        while token and newest_first:
            oldest = int(newest_first[-1]["eventId"])
            missing = oldest - 1 - history.known(wid, rid)
            if missing <= 0:
                break
            if -(-missing // page) > -(-(oldest - 1) // MAX_HISTORY_PAGE):
                newest_first.extend(reversed(self._events_before(domain, execution, oldest)))
                break
            more = self.call("poll_for_decision_task", poll=True, nextPageToken=token, **params)
            newest_first.extend(more.get("events", []))
            token = more.get("nextPageToken")
        try:
            return history.join(wid, rid, newest_first)
        except HistoryMismatch as exc:
            # Never decide on a partial history: read it whole, as far as this task reaches.
            log.warning("history.mismatch", error=str(exc), workflow_id=wid, run_id=rid)
            history.drop(wid, rid)
            newest = int(newest_first[0]["eventId"]) if newest_first else 0
            return self._events_before(domain, execution, newest + 1)

    def _events_before(
        self, domain: str, execution: WorkflowExecution, stop: int
    ) -> list[dict[str, Any]]:
        """The run's events 1 .. stop-1, oldest first, in as few calls as SWF allows."""
        params = {
            "domain": domain,
            "execution": execution.to_api(),
            "maximumPageSize": MAX_HISTORY_PAGE,
        }
        events: list[dict[str, Any]] = []
        for event in self._pages("get_workflow_execution_history", "events", params):
            if int(event["eventId"]) >= stop:
                break
            events.append(event)
        return events

    def poll_for_activity_task(
        self, domain: str, task_list: str, *, identity: str | None = None
    ) -> ActivityTask | None:
        """One activity task, or None when the long poll ended empty."""
        data = self.call(
            "poll_for_activity_task",
            poll=True,
            domain=domain,
            taskList={"name": task_list},
            identity=clip(identity or self.identity, MAX_IDENTITY),
        )
        self.metrics.polled("activity", bool(data.get("taskToken")))
        if not data.get("taskToken"):
            return None
        return ActivityTask(
            task_token=data["taskToken"],
            activity_id=data["activityId"],
            activity_type=dict(data["activityType"]),
            input=data.get("input", ""),
            workflow_execution=WorkflowExecution.from_api(data["workflowExecution"]),
            started_event_id=int(data.get("startedEventId", 0)),
        )

    def respond_decision_task_completed(
        self,
        token: str,
        decisions: list[dict[str, Any]],
        execution_context: str | None = None,
        retry: RetryPolicy | None = None,
        task_list: str | None = None,
        schedule_to_start: int | None = None,
    ) -> None:
        """Answer a decision task; ``retry`` overrides the client's policy for this call.

        ``task_list`` routes the run's next decision tasks to that list (SWF's override),
        back to the run's own list after ``schedule_to_start`` seconds if none starts there.
        """
        params: dict[str, Any] = {"taskToken": token, "decisions": decisions}
        if execution_context is not None:
            params["executionContext"] = clip(execution_context, MAX_DATA)
        if task_list is not None:
            params["taskList"] = {"name": task_list}
            if schedule_to_start is not None:
                params["taskListScheduleToStartTimeout"] = str(schedule_to_start)
        self.call("respond_decision_task_completed", retry=retry, **params)

    def respond_activity_task_completed(
        self, token: str, result: str | None, *, retry: RetryPolicy | None = None
    ) -> None:
        """Report success; ``result`` must already fit SWF's 32,768 characters.

        Activity reports go on the short-timeout client: a caller that retries them itself
        (the worker) passes ``retry`` and keeps control of how long a report may take.
        """
        params: dict[str, Any] = {"taskToken": token}
        if result is not None:
            if len(result) > MAX_DATA:
                raise ValidationError(f"result is {len(result)} characters, SWF allows {MAX_DATA}")
            params["result"] = result
        self.call("respond_activity_task_completed", retry=retry, short=True, **params)

    def respond_activity_task_failed(
        self, token: str, reason: str, details: str = "", *, retry: RetryPolicy | None = None
    ) -> None:
        self.call(
            "respond_activity_task_failed",
            retry=retry,
            short=True,
            taskToken=token,
            reason=clip(reason, MAX_REASON),
            details=clip(details, MAX_DATA),
        )

    def respond_activity_task_canceled(
        self, token: str, details: str = "", *, retry: RetryPolicy | None = None
    ) -> None:
        self.call(
            "respond_activity_task_canceled",
            retry=retry,
            short=True,
            taskToken=token,
            details=clip(details, MAX_DATA),
        )

    def record_activity_task_heartbeat(
        self, token: str, details: str | None = None, *, retry: RetryPolicy | None = None
    ) -> bool:
        """Send a heartbeat; True when SWF asks the activity to cancel.

        It goes on the short-timeout client, and ``retry`` lets a heartbeat loop retry briefly:
        a beat that cannot get through must not hold up the next one for minutes.
        """
        params: dict[str, Any] = {"taskToken": token}
        if details:
            params["details"] = clip(details, MAX_HEARTBEAT_DETAILS)
        answer = self.call("record_activity_task_heartbeat", retry=retry, short=True, **params)
        return bool(answer.get("cancelRequested"))
