"""Tell SWF how a task ended, retrying transient failures: a result is never silently lost."""

from __future__ import annotations

import structlog

from flotod.errors import SwfError, TransientSwfError, UnknownResourceError, ValidationError
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.worker.execute import Outcome

log = structlog.get_logger(__name__)


def report(swf: SwfClient, token: str, outcome: Outcome, retry: RetryPolicy) -> bool:
    """Report ``outcome``; True when SWF recorded it.

    A completion SWF rejects as invalid is turned into a failure saying so, so the decider
    hears about it now instead of at the task's timeout. "Unknown task" means it already
    timed out or was closed: nothing is left to report.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            if outcome.status == "completed":
                swf.respond_activity_task_completed(token, outcome.result)
            elif outcome.status == "failed":
                swf.respond_activity_task_failed(token, outcome.reason, outcome.details)
            else:
                swf.respond_activity_task_canceled(token, outcome.details)
            return True
        except UnknownResourceError:
            log.warning("activity.report_too_late", note="the task timed out or was closed")
            return False
        except ValidationError as exc:
            if outcome.status != "completed":
                log.error("activity.report_rejected", error=str(exc))
                return False
            outcome = Outcome.failed("result rejected by SWF", str(exc))
        except TransientSwfError as exc:
            if attempt >= retry.max_attempts:
                log.error("activity.report_failed", error=str(exc), attempts=attempt)
                return False
            delay = retry.delay(attempt)
            log.warning("activity.report_retry", error=str(exc), retry_in=round(delay, 2))
            retry.sleep(delay)
        except SwfError as exc:
            log.error("activity.report_failed", error=str(exc))
            return False
