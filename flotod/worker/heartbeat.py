"""Heartbeats for every running task, and noticing cancellation from SWF's answers.

Heartbeats go out on the worker's schedule with each task's latest details, so a chatty
activity costs no extra SWF calls. Throttling and transient faults are retried on the next
tick; only SWF's answer (cancel requested, or "unknown task") changes a task's course.
"""

from __future__ import annotations

import time

import structlog

from flotod.errors import SwfError, TransientSwfError, UnknownResourceError
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.worker.running import RunningTask

log = structlog.get_logger(__name__)

# A heartbeat is retried briefly in place; past that, the loop simply tries again next tick.
HEARTBEAT_RETRY = RetryPolicy(max_attempts=2, base_seconds=0.1, cap_seconds=0.5)


class Heartbeats:
    """Beats for every given task whose last beat is ``interval`` seconds old.

    It owns no thread: the worker's monitor calls :meth:`beat_due` on every tick.
    """

    def __init__(
        self, swf: SwfClient, interval: float, retry: RetryPolicy = HEARTBEAT_RETRY
    ) -> None:
        if interval <= 0:
            raise ValueError("heartbeats need a positive interval")
        self.interval = interval
        self._swf = swf
        self._retry = retry

    def beat_due(self, tasks: list[RunningTask]) -> None:
        """Send one heartbeat for each task that is due; never raises."""
        for task in tasks:
            if task.claimed or task.unknown:
                continue
            if time.monotonic() - task.last_beat >= self.interval:
                self._beat(task)

    def _beat(self, task: RunningTask) -> None:
        bound = structlog.get_logger(__name__).bind(
            workflow_id=task.info.workflow_id,
            run_id=task.info.run_id,
            activity_id=task.info.activity_id,
        )
        try:
            cancel = self._swf.record_activity_task_heartbeat(
                task.token, task.details, retry=self._retry
            )
        except UnknownResourceError:
            bound.warning("activity.unknown_to_swf", note="timed out or closed; stopping it")
            task.request_cancel(unknown=True)
            return
        except TransientSwfError as exc:
            bound.warning("activity.heartbeat_failed", error=str(exc), transient=True)
            return
        except SwfError as exc:
            bound.error("activity.heartbeat_failed", error=str(exc), transient=False)
            return
        task.last_beat = time.monotonic()
        if cancel and not task.cancel.is_set():
            bound.info("activity.cancel_requested")
            task.request_cancel()
