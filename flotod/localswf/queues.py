"""Task lists with long polling: one FIFO and one condition variable per task list.

A poll takes the first live entry of its own task list or waits on that task list's
condition until a task is added or the poll timeout passes, so a poll costs the same
whatever else the backend holds, and a waiting poller burns no CPU. Entries that went stale
meanwhile (task timed out or cancelled, workflow closed) are dropped when reached.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TaskLists(Generic[T]):
    """Queues keyed by (domain, task list); every method is called holding ``lock``."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._queues: dict[tuple[str, str], deque[T]] = {}
        self._conds: dict[tuple[str, str], threading.Condition] = {}

    def _cond(self, key: tuple[str, str]) -> threading.Condition:
        cond = self._conds.get(key)
        if cond is None:
            cond = self._conds[key] = threading.Condition(self._lock)
        return cond

    def push(self, domain: str, task_list: str, item: T) -> None:
        key = (domain, task_list)
        self._queues.setdefault(key, deque()).append(item)
        self._cond(key).notify()

    def take(
        self,
        domain: str,
        task_list: str,
        live: Callable[[T], bool],
        timeout: float,
        closing: Callable[[], bool] = lambda: False,
    ) -> T | None:
        """The oldest live entry, waiting up to ``timeout`` seconds for one to arrive."""
        key = (domain, task_list)
        cond = self._cond(key)
        deadline = time.monotonic() + timeout
        while True:
            queue = self._queues.get(key)
            while queue:
                item = queue.popleft()
                if live(item):
                    if queue:
                        cond.notify()  # another waiter may take the next one
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0 or closing():
                return None
            cond.wait(remaining)

    def count(self, domain: str, task_list: str, live: Callable[[T], bool]) -> int:
        """Live entries waiting on one task list (drops stale ones on the way)."""
        queue = self._queues.get((domain, task_list))
        if not queue:
            return 0
        kept = deque(item for item in queue if live(item))
        self._queues[(domain, task_list)] = kept
        return len(kept)

    def wake_all(self) -> None:
        """Release every waiting poll (used when the backend shuts down)."""
        for cond in self._conds.values():
            cond.notify_all()
