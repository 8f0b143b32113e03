"""Signals in, decisions in the loop: stop stages and reloads for the service loops.

Signal handlers only record what arrived and wake the loop (no logging, no locks: a handler
interrupts arbitrary code in the main thread); the loop polls the flags and acts.

- SIGTERM: warm stop. Finish what is in hand, poll no more.
- SIGINT, or a second SIGTERM: quick stop. Give up on waiting for in-flight work.
- SIGHUP: reload requested; :meth:`Lifecycle.take_reload_request` consumes it.

A service loop looks like::

    lifecycle = Lifecycle(); lifecycle.install()
    while not lifecycle.stop_requested:
        if lifecycle.take_reload_request(): ...re-read config...
        ...one poll...; progress.beat()
    outcome = drain(executor_idle, timeout=cfg.drain_timeout_seconds, lifecycle=lifecycle,
                    notifier=notifier, progress=progress)
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from flotod.runtime.notify import Notifier, Progress

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Lifecycle:
    """What the process has been asked to do, as flags the loop polls."""

    def __init__(self) -> None:
        self._stop = False
        self._quick = False
        self._reload = False
        self._events = 0
        self._seen = 0
        self._received: deque[str] = deque(maxlen=64)
        self._previous: dict[int, Any] = {}
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)

    # -- signal side: record only ------------------------------------------------------
    def install(self, signals: Iterable[int] = HANDLED_SIGNALS) -> None:
        """Take over the signals; call from the main thread, after any daemonize fork."""
        for signum in signals:
            self._previous[signum] = signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
        elif signum == signal.SIGINT or self._stop:
            self._stop = self._quick = True
        else:
            self._stop = True
        self._received.append(signal.Signals(signum).name)
        self._wake()

    def _wake(self) -> None:
        self._events += 1
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write_fd, b"\0")

    # -- loop side ---------------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def quick_stop_requested(self) -> bool:
        return self._quick

    def request_stop(self, quick: bool = False) -> None:
        """The same as the signals, for the process itself (fatal error, drain deadline)."""
        self._stop = True
        if quick:
            self._quick = True
        self._wake()

    def take_reload_request(self) -> bool:
        """True once per batch of SIGHUPs: reloads re-read everything, so they coalesce."""
        if self._reload:
            self._reload = False
            return True
        return False

    def take_signals(self) -> list[str]:
        """Names of the signals received since the last call, for the loop to log."""
        names = []
        while self._received:
            names.append(self._received.popleft())
        return names

    def wait(self, timeout: float | None) -> bool:
        """Sleep up to ``timeout`` seconds; wake early on a signal not yet seen by a wait.

        Returns True when woken by one. Meant for one waiting thread (the main loop).
        """
        if self._events == self._seen:
            with contextlib.suppress(InterruptedError):
                select.select([self._read_fd], [], [], timeout)
            with contextlib.suppress(BlockingIOError, OSError):
                while os.read(self._read_fd, 512):
                    pass
        woken = self._events != self._seen
        self._seen = self._events
        return woken

    def close(self) -> None:
        self.uninstall()
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class DrainOutcome(enum.Enum):
    DRAINED = "drained"  # everything in flight finished
    TIMED_OUT = "timed_out"  # drain_timeout_seconds passed; escalated to a quick stop
    QUICK_STOP = "quick_stop"  # SIGINT or a second SIGTERM arrived during the drain


def drain(
    is_idle: Callable[[], bool],
    *,
    timeout: float,
    lifecycle: Lifecycle,
    notifier: Notifier,
    progress: Progress | None = None,
    alive: Callable[[], bool] | None = None,
    status: Callable[[], str] | None = None,
    extend_every: float = 10.0,
    check_every: float = 0.5,
    grace: float = 10.0,
) -> DrainOutcome:
    """Wait for in-flight work during a warm stop, keeping systemd's stop timeout at bay.

    Sends STOPPING=1, then EXTEND_TIMEOUT_USEC every ``extend_every`` seconds as long as
    ``progress`` moved since the previous extension (a drain that is stuck gets no more time).
    ``alive``, when given, is asked every check and beats ``progress`` while it says yes, so
    the watchdog keeps seeing a draining service that is not wedged; ``status`` gives the
    STATUS= line shown meanwhile. After ``timeout`` seconds it requests a quick stop and
    returns TIMED_OUT; ``grace`` is the time asked on top of each extension for the quick stop.
    """
    notifier.stopping(status() if status is not None else None)
    start = time.monotonic()
    deadline = start + timeout
    last_extend: float | None = None
    seen_progress = progress.last if progress is not None else 0.0
    shown = ""
    while True:
        if is_idle():
            return DrainOutcome.DRAINED
        if lifecycle.quick_stop_requested:
            return DrainOutcome.QUICK_STOP
        now = time.monotonic()
        if now >= deadline:
            lifecycle.request_stop(quick=True)
            return DrainOutcome.TIMED_OUT
        if alive is not None and progress is not None and alive():
            progress.beat()
        if status is not None and (text := status()) != shown:
            shown = text
            notifier.status(text)
        if last_extend is None or now - last_extend >= extend_every:
            moved = progress is None or last_extend is None or progress.last > seen_progress
            if moved:
                notifier.extend_timeout(min(deadline - now, 2 * extend_every) + grace)
            if progress is not None:
                seen_progress = progress.last
            last_extend = now
        lifecycle.wait(min(check_every, deadline - now))
