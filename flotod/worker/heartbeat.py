"""Heartbeats for every running task, and noticing cancellation from SWF's answers.

Heartbeats go out on the worker's schedule with each task's latest details, so a chatty
activity costs no extra SWF calls. Each beat runs on a thread of a small pool, at most one in
flight per task, so a beat stuck on a black-holed connection holds up no other task's beat and
no settlement. Throttling and transient faults are retried at the next due time; only SWF's
answer (cancel requested, or "unknown task") changes a task's course.

A beat never sends empty details: until the activity sets some, it sends the started marker,
so an ActivityTaskTimedOut with empty details proves the task never ran.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import structlog

from flotod.errors import SwfError, TransientSwfError, UnknownResourceError
from flotod.protocol import STARTED_DETAILS
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.worker.running import RunningTask

log = structlog.get_logger(__name__)

# A heartbeat is retried briefly in place; past that, the task simply tries again when due.
HEARTBEAT_RETRY = RetryPolicy(max_attempts=2, base_seconds=0.1, cap_seconds=0.5)
# After a failed beat, the next try waits this long at most (or one interval, if shorter),
# so an outage costs a few calls a task, not one every tick.
RETRY_FAILED_BEAT_SECONDS = 5.0


def check_interval(seconds: float) -> float:
    """``seconds`` as a heartbeat interval; 0 turns heartbeats off."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"heartbeat interval must be a finite number >= 0, not {seconds!r}")
    return float(seconds)


class Heartbeats:
    """Beats for every given task whose last beat is ``interval`` seconds old (0: none).

    The worker's monitor calls :meth:`beat_due` on every tick; a lane calls :meth:`beat` once
    when it takes a task. ``lanes`` bounds the pool: one beat in flight per running task.
    """

    def __init__(
        self,
        swf: SwfClient,
        interval: float,
        lanes: int = 1,
        retry: RetryPolicy = HEARTBEAT_RETRY,
    ) -> None:
        self.interval = check_interval(interval)
        self._swf = swf
        self._retry = retry
        self._pool = ThreadPoolExecutor(max_workers=max(1, lanes), thread_name_prefix="flotod-beat")
        self._lock = threading.Lock()
        self._in_flight: set[RunningTask] = set()

    def set_interval(self, seconds: float) -> None:
        """Applies from the next tick to running tasks and to every later one."""
        self.interval = check_interval(seconds)

    def beat_due(self, tasks: list[RunningTask]) -> None:
        """Start one heartbeat for each task that is due and has none in flight; never blocks."""
        interval = self.interval
        if interval <= 0:
            return
        now = time.monotonic()
        retry_after = min(interval, RETRY_FAILED_BEAT_SECONDS)
        for task in tasks:
            if task.unknown or task.done.is_set():
                continue
            if now - task.last_beat < interval or now - task.last_try < retry_after:
                continue
            with self._lock:
                if task in self._in_flight:
                    continue
                self._in_flight.add(task)
            try:
                self._pool.submit(self._beat_in_pool, task)
            except RuntimeError:  # the pool is shut down: the worker is ending
                with self._lock:
                    self._in_flight.discard(task)
                return

    def _beat_in_pool(self, task: RunningTask) -> None:
        try:
            self.beat(task)
        finally:
            with self._lock:
                self._in_flight.discard(task)

    def beat(self, task: RunningTask) -> None:
        """Send one heartbeat for ``task`` now, on the calling thread; never raises."""
        bound = log.bind(
            workflow_id=task.info.workflow_id,
            run_id=task.info.run_id,
            activity_id=task.info.activity_id,
        )
        task.last_try = time.monotonic()
        try:
            cancel = self._swf.record_activity_task_heartbeat(
                task.token, task.details or STARTED_DETAILS, retry=self._retry
            )
        except UnknownResourceError:
            if not task.done.is_set():  # else it was just reported: SWF rightly forgot it
                bound.warning("activity.unknown_to_swf", note="timed out or closed; stopping it")
                task.request_cancel(unknown=True)
            return
        except TransientSwfError as exc:
            bound.warning("activity.heartbeat_failed", error=str(exc), transient=True)
            return
        except SwfError as exc:
            bound.error("activity.heartbeat_failed", error=str(exc), transient=False)
            return
        except Exception:  # a bug here must not end the beat thread or the lane
            bound.exception("activity.heartbeat_failed", transient=False)
            return
        task.last_beat = time.monotonic()
        if cancel and not task.cancel.is_set():
            bound.info("activity.cancel_requested")
            task.request_cancel()

    def close(self) -> None:
        """Start no more beats; beats in flight end on their own (short timeouts)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
