"""A task's input resolved before anything runs, and its result stored before SWF hears of it.

Both ends run in the worker process (never in an activity's child process, which then needs no
S3 client), on the lane's thread, while the task is registered as running so that it keeps
heartbeating. What the store says decides the task's course:

- an object that can never be had (missing, tampered, malformed reference) fails the task at
  once with the payload reason (``payload_missing``...) and details naming the object;
  nothing runs;
- an outage reading the input is waited out for a share of the task's time, then fails it as
  ``payload_unavailable``, so the decider's retry strategy takes over;
- an outage writing the result is waited out like an outage reporting it: the result was
  paid for, so it is kept until the store takes it, SWF forgets the task, or a quick stop's
  deadline passes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import structlog

from flotod.payloads import PayloadError, Payloads, PayloadUnavailable, is_envelope
from flotod.protocol import HANDED_BACK_REASON
from flotod.swf.limits import MAX_DATA
from flotod.swf.retry import RetryPolicy
from flotod.worker.execute import Outcome
from flotod.worker.registry import ActivityDefinition
from flotod.worker.report import delay_within
from flotod.worker.running import RunningTask

log = structlog.get_logger("flotod.worker.worker")

UNAVAILABLE_REASON = "payload_unavailable"
# How long an unreachable store may hold up a task's input: at most a minute, and at most half
# the activity's registered start-to-close (SWF does not tell a worker the task's own timeout;
# the registered default is the best guess), leaving the rest for the decider to retry.
INPUT_WAIT_SECONDS = 60.0
INPUT_WAIT_SHARE = 0.5
_TICK = 0.1


def input_wait_seconds(definition: ActivityDefinition | None) -> float:
    """How long to wait out a store outage before failing a task as unavailable."""
    timeout = definition.start_to_close_timeout if definition is not None else None
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        return min(INPUT_WAIT_SECONDS, timeout * INPUT_WAIT_SHARE)
    return INPUT_WAIT_SECONDS


def payload_failure(exc: PayloadError) -> Outcome:
    """The task's failure for a value that can never resolve: its reason, details in JSON."""
    return Outcome.failed(exc.reason, json.dumps(exc.details()), message=str(exc))


def unavailable(exc: PayloadUnavailable, what: str, waited: float) -> Outcome:
    details = {
        "reason": UNAVAILABLE_REASON,
        "message": f"the payload store was unreachable for {waited:.0f} s reading {what}: {exc}",
    }
    if exc.uri:
        details["uri"] = exc.uri
    return Outcome.failed(UNAVAILABLE_REASON, json.dumps(details), message=details["message"])


class Offload:
    """The worker's payload rules applied to one task's input and result.

    ``retry`` is the backoff between store attempts (the worker's report backoff);
    ``pause(seconds)`` waits between attempts at storing a result (the worker's, which a quick
    stop cuts short).
    """

    def __init__(
        self, payloads: Payloads, retry: RetryPolicy, pause: Callable[[float], object]
    ) -> None:
        self.payloads = payloads
        self.retry = retry
        self.pause = pause

    def resolve_input(self, running: RunningTask, wait_seconds: float) -> str | Outcome:
        """The task's input as the activity should see it, or the outcome that ends the task
        unrun (the value cannot be had, the store stayed away, or a stop or cancel came)."""
        text = running.task.input
        if not is_envelope(text):
            return text
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.payloads.decode(text)
            except PayloadError as exc:
                return payload_failure(exc)
            except PayloadUnavailable as exc:
                error = exc
            waited = time.monotonic() - started
            left = wait_seconds - waited
            if left <= 0:
                return unavailable(error, "the task's input", waited)
            delay = min(self.retry.delay(attempt), left)
            log.warning(
                "activity.input_retry",
                error=str(error),
                uri=error.uri or None,
                attempt=attempt,
                retry_in=round(delay, 2),
            )
            ended = _wait_unless_stopped(running, delay)
            if ended is not None:
                return ended

    def store_result(
        self,
        running: RunningTask,
        outcome: Outcome,
        deadline: Callable[[], float | None],
    ) -> Outcome | None:
        """``outcome`` with its result as it should travel through SWF, or None when the
        result could not be stored before SWF forgot the task or the stop deadline passed.

        A result still past SWF's limit (no bucket configured) fails the task as
        ``result too large``, as it always did.
        """
        if outcome.status != "completed" or outcome.result is None:
            return outcome
        info = running.info
        attempt = 0
        while True:
            attempt += 1
            try:
                text = self.payloads.encode(
                    outcome.result,
                    workflow_id=info.workflow_id,
                    run_id=info.run_id,
                    name=info.activity_id,
                )
            except PayloadError as exc:
                return payload_failure(exc)
            except PayloadUnavailable as exc:
                error = exc
            else:
                return self._fitting(outcome, text, info.name)
            if running.unknown:
                log.warning("activity.report_too_late", note="the task timed out or was closed")
                return None
            delay = delay_within(self.retry, attempt, deadline)
            if delay is None:
                log.error(
                    "activity.report_lost",
                    status=outcome.status,
                    error=str(error),
                    attempts=attempt,
                    note="the worker stopped before the payload store took the result",
                )
                return None
            log.warning(
                "activity.result_retry",
                error=str(error),
                attempt=attempt,
                retry_in=round(delay, 2),
            )
            self.pause(delay)

    def _fitting(self, outcome: Outcome, text: str, name: str) -> Outcome:
        if len(text) <= MAX_DATA:
            return Outcome("completed", result=text)
        assert outcome.result is not None
        stored = "" if text is outcome.result else f" ({len(text)} after [payloads] encoding)"
        return Outcome.failed(
            "result too large",
            f"the JSON result of {name!r} is {len(outcome.result)} characters{stored}; "
            f"SWF allows {MAX_DATA}",
        )


def _wait_unless_stopped(running: RunningTask, seconds: float) -> Outcome | None:
    """Sleep ``seconds``; the outcome that ends the unrun task if a stop or cancel comes."""
    until = time.monotonic() + seconds
    while True:
        if running.abort.is_set():
            return Outcome.failed(HANDED_BACK_REASON, "the worker was stopping; it never ran")
        if running.cancel.is_set():
            return Outcome("canceled", details="cancel requested before it started")
        left = until - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(_TICK, left))
