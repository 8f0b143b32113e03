"""Histories a decider already read, so that its next poll of the same run fetches only news.

A decision task carries the run's whole history, and without a cache every task of a run
fetches, sends and decodes every event again: a run's n-th decision task costs O(n) on the
wire, so its whole life costs O(n^2). SWF histories only ever grow, and an event never changes
once written, so a decider that remembers the events it has seen can poll in reverse order
with a small page and stop as soon as the newest events meet the ones it holds.

The page size adapts to what the polls needed: about twice the events recent tasks had to
fetch, and never under 100, because one more call costs as much as a few hundred events (a
history shorter than the page comes whole, as without the cache). With one decider per task
list nearly every task finds its run here and needs only its new events; with many deciders
sharing a task list, a run's tasks land on different hosts, most polls miss, and the page
grows to about a whole history, which is what polling without the cache costs. The lanes of
one poller (the shared list and the sticky one) share an instance: every method takes its lock.

Large payloads (``[payloads]``) are resolved once, as events enter: the poller resolves the
events after the ones a run's entry says are resolved and hands the result back
(:meth:`HistoryCache.settle`), so a held event never carries an envelope into a decision and
a run's next task resolves only its news. A resolved value counts towards the budget as one
event per PAYLOAD_EVENT_CHARS characters, so a few 1 MB results cannot fill memory unseen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flotod.lru import SizedLRU

Event = dict[str, Any]

MIN_PAGE = 100
MAX_PAGE = 1000  # SWF's own limit for maximumPageSize
DEFAULT_MAX_EVENTS = 10_000
_SMOOTHING = 0.1  # weight of the newest poll in the running estimate of events needed
PAYLOAD_EVENT_CHARS = 2048  # a resolved payload weighs one event per this many characters


@dataclass
class _Held:
    """A run's events; the first ``resolved`` have their payloads resolved, whose values
    weigh ``payload_weight`` events on top of the events themselves."""

    events: list[Event]
    resolved: int = 0
    payload_weight: int = 0

    @property
    def size(self) -> int:
        return len(self.events) + self.payload_weight


class HistoryMismatch(ValueError):
    """The pages and the cached events do not join into one history from event 1."""


class HistoryCache:
    """Least recently used histories, bounded by their total number of events.

    ``max_events`` bounds memory: a decoded event takes about 2 KB (measured on activity
    events with small inputs), so the default of 10,000 events is some 20 MB when full.
    """

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self.max_events = max_events
        self._runs: SizedLRU[_Held] = SizedLRU(max_events)
        self._needed = MIN_PAGE / 2  # running estimate of the events a poll must fetch
        self._lock = threading.RLock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def events(self) -> int:
        """Events held across all runs, resolved payloads counted as events (see above)."""
        return self._runs.size

    def page_size(self) -> int:
        """The maximumPageSize for the next poll: about twice what recent polls needed."""
        with self._lock:
            return max(MIN_PAGE, min(MAX_PAGE, round(2 * self._needed)))

    def known(self, workflow_id: str, run_id: str) -> int:
        """How many events of the run are held: they are events 1..known."""
        with self._lock:
            entry = self._runs.get((workflow_id, run_id))
            return len(entry[0].events) if entry else 0

    def join(self, workflow_id: str, run_id: str, newest_first: Sequence[Event]) -> list[Event]:
        """The whole history: the held events, then ``newest_first`` (pages as SWF sent them).

        ``newest_first`` must reach back to the event after the last one held (or to event 1).
        The result replaces what was held for the run and is what a caller may read; the lists
        it returns are never changed afterwards. Raises HistoryMismatch if they do not join.
        """
        with self._lock:
            entry = self._runs.get((workflow_id, run_id))
            kept = entry[0] if entry else _Held([])
            held = kept.events
            if not newest_first:
                raise HistoryMismatch("a decision task without events")
            oldest = int(newest_first[-1]["eventId"])
            if oldest > len(held) + 1:
                raise HistoryMismatch(
                    f"pages reach back to event {oldest}, but only events 1-{len(held)} are held"
                )
            joined = held[: oldest - 1]
            joined.extend(reversed(newest_first))
            if int(joined[0]["eventId"]) != 1 or int(joined[-1]["eventId"]) != len(joined):
                raise HistoryMismatch(
                    f"events {joined[0]['eventId']}-{joined[-1]['eventId']} are not one history "
                    f"of {len(joined)} events"
                )
            self._observe(len(joined) - len(held), hit=bool(held))
            resolved = min(kept.resolved, oldest - 1)
            self._hold(workflow_id, run_id, _Held(joined, resolved, kept.payload_weight))
            return joined

    def put(self, workflow_id: str, run_id: str, events: list[Event]) -> None:
        """Hold ``events`` (a whole history, from event 1) as the run's latest."""
        self._hold(workflow_id, run_id, _Held(events))

    def _hold(self, workflow_id: str, run_id: str, held: _Held) -> None:
        with self._lock:
            self._runs.put((workflow_id, run_id), held, held.size)

    def resolved(self, workflow_id: str, run_id: str, events: list[Event]) -> int:
        """How many leading ``events`` have their payloads resolved: those the run's entry
        says, if ``events`` is the list held for it (the list a poll just returned); else 0."""
        with self._lock:
            entry = self._runs.get((workflow_id, run_id))
            return entry[0].resolved if entry and entry[0].events is events else 0

    def settle(
        self,
        workflow_id: str,
        run_id: str,
        events: list[Event],
        resolved: list[Event],
        payload_chars: int,
    ) -> None:
        """Hold ``resolved`` (``events`` with their payloads resolved, ``payload_chars``
        characters of values added) in place of ``events``, if those are still what is held
        for the run (another lane may have polled the run meanwhile)."""
        with self._lock:
            entry = self._runs.get((workflow_id, run_id))
            if entry is None or entry[0].events is not events:
                return
            weight = entry[0].payload_weight + -(-payload_chars // PAYLOAD_EVENT_CHARS)
            self._hold(workflow_id, run_id, _Held(resolved, len(resolved), weight))

    def drop(self, workflow_id: str, run_id: str) -> None:
        """Forget a run: it closed, or SWF no longer takes decisions for it from here."""
        with self._lock:
            self._runs.pop((workflow_id, run_id))

    def _observe(self, needed: int, *, hit: bool) -> None:
        """Count the poll; ``needed`` is how many of its events were not held before."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        self._needed += _SMOOTHING * (needed - self._needed)
