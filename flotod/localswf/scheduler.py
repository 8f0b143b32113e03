"""One thread that fires every deadline of an embedded SWF backend.

SWF enforces many timeouts (activity, decision, workflow, timers). One heap of deadlines
served by one thread costs nothing per pending timeout, where a thread per timeout would
not scale to thousands of open workflows. Callbacks run while holding the backend's lock, so
they see and change state exactly like an API call does.

A manual scheduler (``manual=True``) has no thread: nothing fires until :meth:`Scheduler.fire`
is called for it. Tests that step an execution by hand (timers, timeouts) use it to decide
exactly which deadline passes, and when.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Deadline:
    """A pending callback; ``cancel()`` makes it a no-op without searching the heap."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """A heap of deadlines and the single daemon thread that fires them in order."""

    def __init__(self, lock: threading.RLock, manual: bool = False) -> None:
        self._cond = threading.Condition(lock)
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.manual = manual

    def call_at(self, when: float, callback: Callable[[], None]) -> Deadline:
        """Run ``callback`` (under the lock) at wall-clock time ``when``."""
        deadline = Deadline(when, callback)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), deadline))
            if self._thread is None and not self._stopped and not self.manual:
                self._thread = threading.Thread(
                    target=self._run, name="localswf-scheduler", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is deadline:
                self._cond.notify()
        return deadline

    def call_later(self, delay: float, callback: Callable[[], None]) -> Deadline:
        return self.call_at(time.time() + delay, callback)

    def fire(self, deadline: Deadline) -> bool:
        """Run ``deadline`` now, under the lock, whatever its time; False if it was cancelled."""
        with self._cond:
            if deadline.cancelled:
                return False
            deadline.cancel()
            deadline.callback()
            return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, deadline = self._heap[0]
                if deadline.cancelled:
                    heapq.heappop(self._heap)
                    continue
                delay = when - time.time()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                try:
                    deadline.callback()
                except Exception:  # a bug in one timeout must not stop all the others
                    log.exception("localswf deadline callback failed")
