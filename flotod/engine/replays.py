"""Replay states kept between decision tasks, so a run's next task replays only its new events.

:func:`flotod.engine.decide` rebuilds an execution's state from its whole history every time:
a run of n events costs O(n) per decision task. SWF never changes an event once written, and
the replay only ever adds what each event says to the state, so the state after events 1..k,
read on with events k+1..n, is the state after 1..n: what ``decide`` would rebuild, without
reading the first k again. Deciding only reads the state, so it can be kept for the next task.

This keeps the engine free of I/O and of time; what it adds is memory, bounded by the events
the kept states have read (a state holds what its events said: results, inputs, ids), least
recently decided runs first out. The state is kept only with the spec it was built
from: a service makes a new :class:`Replays` whenever its spec changes. A state whose replay
raised is never kept, and a task whose events do not continue the kept ones is replayed whole.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from flotod.engine import decisions as d
from flotod.engine.completeness import check_complete
from flotod.engine.decide import decide_from, decider_error, replay
from flotod.engine.history import Event, Replay
from flotod.lru import SizedLRU
from flotod.specs import DeciderSpec

DEFAULT_MAX_EVENTS = 10_000


class Replays:
    """``decide`` for one spec, keeping the replay states of recent runs up to ``max_events``.

    ``key`` names a run (SWF's workflow id and run id together). One instance belongs to one
    deciding thread; it does no locking.
    """

    def __init__(
        self,
        spec: DeciderSpec,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_payload: int = d.MAX_PAYLOAD,
    ) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self.spec = spec
        self.max_payload = max_payload
        self.max_events = max_events
        self._runs: SizedLRU[Replay] = SizedLRU(max_events)  # state, events it has read
        self.held = 0  # tasks decided from a kept state (read on with only the news)

    def __len__(self) -> int:
        return len(self._runs)

    def known(self, key: Hashable) -> int:
        """How many events of the run the kept state has read (0: none kept)."""
        entry = self._runs.get(key)
        return entry[1] if entry else 0

    def decide(
        self,
        key: Hashable,
        events: Sequence[Event],
        workflow_id: str | None = None,
        *,
        started_event_id: int | None = None,
    ) -> list[d.Decision]:
        """The decisions ``decide(events, spec, workflow_id)`` returns, replaying only news.

        ``events`` is the run's complete history, ascending from event 1, as SWF sends it;
        anything else raises :class:`~flotod.errors.IncompleteHistoryError`, keeping the
        run's state as it was.
        """
        check_complete(events, started_event_id, checked=self.known(key))
        entry = self._runs.pop(key)
        try:
            if entry is not None and _continues(events, entry[1]):
                state, read = entry
                state.read(events[read:])
                held = True
            else:
                state, held = replay(events, self.spec), False
        except Exception as exc:  # a half-read state is never kept
            return [decider_error(exc)]
        self.held += held
        self._runs.put(key, state, len(events))
        return decide_from(state, self.spec, workflow_id, self.max_payload)

    @property
    def events(self) -> int:
        """Events the kept states have read, across all runs."""
        return self._runs.size

    def drop(self, key: Hashable) -> None:
        """Forget a run: it closed, or its tasks no longer come here."""
        self._runs.pop(key)


def _continues(events: Sequence[Event], read: int) -> bool:
    """``events`` holds the ``read`` events already read, numbered 1..read, and maybe more."""
    if read > len(events):
        return False
    if read == 0:
        return True
    return events[read - 1].get("eventId") == read and events[0].get("eventId") == 1
