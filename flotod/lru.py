"""A least-recently-used map bounded by the total size of what it holds, not by its length.

The decider keeps two things per run between decision tasks, history events and replay
states; both cost memory in proportion to a run's events, so both are bounded by events.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SizedLRU(Generic[V]):
    """Values with a size each; putting one past ``budget`` evicts the least recently put.

    A value larger than the whole budget is not held (holding it would evict everything).
    Not thread-safe: each owner is one polling thread.
    """

    def __init__(self, budget: int) -> None:
        if budget < 1:
            raise ValueError("the size budget must be at least 1")
        self.budget = budget
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """The sizes of everything held, summed."""
        return self._size

    def get(self, key: Hashable) -> tuple[V, int] | None:
        """The value held for ``key`` and its size, or None."""
        return self._items.get(key)

    def pop(self, key: Hashable) -> tuple[V, int] | None:
        """Remove and return the value held for ``key`` and its size, or None."""
        item = self._items.pop(key, None)
        if item is not None:
            self._size -= item[1]
        return item

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Hold ``value`` as the most recent, replacing what ``key`` held."""
        self.pop(key)
        if size > self.budget:
            return
        self._items[key] = (value, size)
        self._size += size
        while self._size > self.budget:
            _, (_, evicted) = self._items.popitem(last=False)
            self._size -= evicted
