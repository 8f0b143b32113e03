"""Tell SWF how a task ended, retrying until it listens: a result is never silently lost.

An outage, throttling or credentials that expired (botocore refreshes them) only delay a
report. It ends when SWF records it, when SWF says the task is unknown (it timed out or its
workflow closed: nothing is left to report), or when the worker's stop deadline passes, which
is logged as an error naming the lost outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from flotod.errors import SwfError, UnknownResourceError, ValidationError
from flotod.swf.client import SwfClient
from flotod.swf.retry import NO_RETRY, RetryPolicy
from flotod.worker.execute import Outcome

log = structlog.get_logger(__name__)


def _never() -> float | None:
    return None


def _send(swf: SwfClient, token: str, outcome: Outcome) -> None:
    # One attempt per call: this loop owns the retrying, so a stop deadline can cut it short.
    if outcome.status == "completed":
        swf.respond_activity_task_completed(token, outcome.result, retry=NO_RETRY)
    elif outcome.status == "failed":
        swf.respond_activity_task_failed(token, outcome.reason, outcome.details, retry=NO_RETRY)
    else:
        swf.respond_activity_task_canceled(token, outcome.details, retry=NO_RETRY)


def delay_within(
    retry: RetryPolicy, attempt: int, deadline: Callable[[], float | None]
) -> float | None:
    """The backoff before attempt ``attempt + 1``, cut to what is left before ``deadline()``;
    None when the deadline has passed (a quick stop: give the result up)."""
    delay = retry.delay(attempt)
    limit = deadline()
    if limit is None:
        return delay
    left = limit - time.monotonic()
    return None if left <= 0 else min(delay, left)


def report(
    swf: SwfClient,
    token: str,
    outcome: Outcome,
    retry: RetryPolicy,
    *,
    deadline: Callable[[], float | None] = _never,
    pause: Callable[[float], object] | None = None,
) -> bool:
    """Report ``outcome``; True when SWF recorded it.

    ``retry`` gives the backoff between attempts (its ``max_attempts`` is not a budget here);
    ``deadline()`` is a time.monotonic() after which to give up, None while there is none;
    ``pause`` waits between attempts (default ``retry.sleep``): the worker's returns early when
    a quick stop sets a deadline. A completion SWF rejects as invalid is turned into a failure
    saying so, so the decider hears about it now instead of at the task's timeout.
    """
    wait = pause or retry.sleep
    attempt = 0
    while True:
        attempt += 1
        try:
            _send(swf, token, outcome)
            return True
        except UnknownResourceError:
            log.warning("activity.report_too_late", note="the task timed out or was closed")
            return False
        except ValidationError as exc:
            if outcome.status != "completed":
                log.error("activity.report_rejected", error=str(exc))
                return False
            outcome = Outcome.failed("result rejected by SWF", str(exc))
            continue
        except SwfError as exc:  # unreachable, throttled, credentials expired: keep the result
            error = exc
        delay = delay_within(retry, attempt, deadline)
        if delay is None:
            log.error(
                "activity.report_lost",
                status=outcome.status,
                error=str(error),
                attempts=attempt,
                note="the worker stopped before SWF took the report; SWF will time it out",
            )
            return False
        log.warning(
            "activity.report_retry",
            error=str(error),
            code=error.code,
            attempt=attempt,
            retry_in=round(delay, 2),
        )
        wait(delay)
