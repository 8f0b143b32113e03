"""The worker's side of one task in flight, shared by its control thread, heartbeats and stop.

Exactly one party reports a task to SWF: whoever first calls :meth:`RunningTask.claim` (the
task finishing, a cancellation running out of grace, or a forced stop).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flotod.swf.types import ActivityTask
from flotod.worker.context import CurrentTask, TaskInfo, details_text


class Flag:
    """A one-way signal between threads that nobody waits on: set once, read often.

    ``threading.Event`` builds a Condition and a lock that these flags never use; a worker
    creates two per task.
    """

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True  # one attribute store: atomic under the GIL

    def is_set(self) -> bool:
        return self._set


class RunningTask:
    """One received task: its token, latest heartbeat details, and cancel/abort requests."""

    def __init__(self, task: ActivityTask, info: TaskInfo, argument: Any) -> None:
        self.task = task
        self.info = info
        self.argument = argument
        self.token = task.task_token
        self.started = time.monotonic()
        self.last_beat = self.started
        self.last_try = 0.0  # when a heartbeat was last attempted, successful or not
        self.abort = Flag()  # a quick stop: the activity is asked to stop and reported failed
        self.cancel = Flag()
        self.done = Flag()  # reported (or given up): heartbeats end
        self.cancel_at: float | None = None
        self.unknown = False
        self.lane = ""  # name of the worker thread running it
        self._lock = threading.Lock()
        self._details: str | None = None
        self._claimed = False

    @property
    def details(self) -> str | None:
        with self._lock:
            return self._details

    def set_details(self, text: str) -> None:
        with self._lock:
            self._details = text

    def request_cancel(self, *, unknown: bool = False) -> None:
        """SWF asked to cancel (or no longer knows the task): tell the activity, start the grace."""
        with self._lock:
            self.unknown = self.unknown or unknown
            if self.cancel_at is None:
                self.cancel_at = time.monotonic()
        self.cancel.set()

    def claim(self) -> bool:
        """True for the first caller only: that caller reports the task and frees its slot."""
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    @property
    def claimed(self) -> bool:
        with self._lock:
            return self._claimed


class LocalTask(CurrentTask):
    """``current_task()`` for an activity running in a worker thread."""

    def __init__(self, running: RunningTask) -> None:
        super().__init__(running.info)
        self._running = running

    def heartbeat(self, details: Any = None) -> None:
        self._running.set_details(details_text(details))

    @property
    def cancel_requested(self) -> bool:
        # A quick stop asks the activity to stop too, before the task is reported failed.
        return self._running.cancel.is_set() or self._running.abort.is_set()
