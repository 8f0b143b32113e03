"""A lane: one thread that polls, handles what the poll brought, and polls again.

The decision pollers run their polls on lanes so that the service's main thread never waits
on SWF's 60 s long poll: signals, reloads, status and the watchdog are handled at once, and a
stop need not wait for an idle poll. A lane says what it is doing and since when, which is all
the watchdog and the drain need to know:

- ``polling``: holding a long poll; nothing in hand, so a stop may abandon it. A task the
  poll still returns while the process lives is handled; one that arrives after the process
  exited is handed out again by SWF when its decision task times out.
- ``handling``: a task is in hand; a stop waits for it.
- ``backoff``: SWF failed; waiting before the next poll. Alive: a restart would not bring
  SWF back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

from flotod.errors import SwfError
from flotod.services.backoff import Backoff

T = TypeVar("T")
State = Literal["idle", "polling", "handling", "backoff", "stopped", "dead"]

# Longer than any one poll can take (SWF holds it 60 s; the socket gives up at 75 s, a few
# retries on top) and than any decision takes: a lane in one state longer is wedged.
STUCK_AFTER = 300.0


class Lane(Generic[T]):
    """Polls with ``poll`` and hands each task to ``handle`` until :meth:`stop`.

    ``failed`` is told of each failed poll and the backoff chosen (it logs); the lane then
    sleeps that long unless stopped. ``handle`` must not raise: a bug there is caught, given
    to ``crashed``, and the lane goes on.
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], T | None],
        handle: Callable[[T], None],
        failed: Callable[[SwfError, float], None],
        crashed: Callable[[BaseException], None],
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self._poll = poll
        self._handle = handle
        self._failed = failed
        self._crashed = crashed
        self._backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._state: State = "idle"
        self._since = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Poll no more; a task in hand is finished, an idle poll is left to itself."""
        self._stop.set()

    @property
    def state(self) -> State:
        return self._state

    @property
    def handling(self) -> bool:
        return self._state == "handling"

    def alive(self, now: float | None = None, stuck_after: float = STUCK_AFTER) -> bool:
        """Not wedged: not started yet, stopped, backing off, or polling or handling for less
        than ``stuck_after`` seconds. A lane whose thread died is not alive."""
        if self._state in ("idle", "stopped", "backoff"):
            return True
        if self._state == "dead" or not self._thread.is_alive():
            return False
        moment = time.monotonic() if now is None else now
        return moment - self._since < stuck_after

    def _enter(self, state: State) -> None:
        self._state, self._since = state, time.monotonic()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._enter("polling")
                try:
                    task = self._poll()
                except SwfError as exc:
                    delay = self._backoff.next_delay()
                    self._enter("backoff")
                    self._failed(exc, delay)
                    self._stop.wait(delay)
                    continue
                self._backoff.reset()
                if task is None:
                    continue
                self._enter("handling")
                try:
                    self._handle(task)
                except Exception as exc:  # the lane outlives any one task
                    self._crashed(exc)
        except BaseException as exc:  # a bug in the loop itself: say so, and show as wedged
            self._enter("dead")
            self._crashed(exc)
            raise
        self._enter("stopped")
