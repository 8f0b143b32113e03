"""Talking to systemd (``Type=notify`` units): readiness, status, reload, stop and watchdog.

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op, so the services call these
unconditionally. Create the :class:`Notifier` after any daemonize fork: its socket is made in
the constructor, and daemonizing closes inherited descriptors.

Sends never block and never raise: a notify reader that stops reading (a full datagram queue)
or is gone must not stall the service loop, so such a message is dropped and counted. systemd
only keeps the latest STATUS= anyway, and a missed WATCHDOG=1 is resent on the next tick.

The watchdog pings only while the service loop reports progress (:class:`Progress`): a wedged
loop stops the pings and systemd's ``WatchdogSec=`` restarts the process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping

# A poll blocks up to 70 s (SWF holds it 60 s); allow that plus a throttled retry before the
# loop counts as stuck.
DEFAULT_STALE_AFTER = 150.0


def _ascii(text: str) -> str:
    """systemd reads the message as text: keep it ASCII, one assignment per line."""
    return text.encode("ascii", "replace").decode("ascii").replace("\n", " ")


def _address(value: str) -> str:
    """$NOTIFY_SOCKET names a path, or an abstract socket when it starts with ``@``."""
    return "\0" + value[1:] if value.startswith("@") else value


class Notifier:
    """sd_notify(3) messages; ``enabled`` is False outside systemd and nothing is sent.

    ``dropped`` counts messages that could not be sent (queue full, socket gone).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        target = env.get("NOTIFY_SOCKET", "")
        self.enabled = bool(target)
        self.dropped = 0
        self._address = _address(target)
        self._socket: socket.socket | None = None
        if self.enabled:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.setblocking(False)
        self._lock = threading.Lock()

    def send(self, *assignments: str) -> bool:
        """One datagram with the given ``KEY=value`` lines; False when it was dropped."""
        if self._socket is None:
            return False
        payload = "\n".join(assignments).encode("ascii", "replace")
        with self._lock:
            try:
                # Unconnected sendto: a restarted manager's new socket is found again.
                self._socket.sendto(payload, socket.MSG_DONTWAIT, self._address)
            except OSError:  # EAGAIN (reader not reading), ENOENT, ECONNREFUSED, ...
                self.dropped += 1
                return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def ready(self, status: str | None = None) -> None:
        lines = ["READY=1"]
        if status is not None:
            lines.append("STATUS=" + _ascii(status))
        self.send(*lines)

    def status(self, text: str) -> None:
        self.send("STATUS=" + _ascii(text))

    def reloading(self) -> None:
        """systemd 253+ wants the monotonic time with RELOADING=1; 252 ignores it harmlessly."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def extend_timeout(self, seconds: float) -> None:
        """Ask for ``seconds`` more from now before the start/stop timeout fires."""
        self.send(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1_000_000))}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")


class Progress:
    """The loop's heartbeat: call :meth:`beat` when a poll returned or heartbeats went out."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    @property
    def last(self) -> float:
        return self._last

    def age(self) -> float:
        return time.monotonic() - self._last


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of $WATCHDOG_USEC in seconds, or None when this process has no watchdog."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000


class Watchdog:
    """A daemon thread sending WATCHDOG=1 every ``interval`` while progress is fresh."""

    def __init__(
        self,
        notifier: Notifier,
        progress: Progress,
        interval: float,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> None:
        self.notifier = notifier
        self.progress = progress
        self.interval = interval
        self.stale_after = stale_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flotod-watchdog", daemon=True)

    @classmethod
    def from_environment(
        cls,
        notifier: Notifier,
        progress: Progress,
        stale_after: float = DEFAULT_STALE_AFTER,
        environ: Mapping[str, str] | None = None,
    ) -> Watchdog | None:
        """The watchdog systemd asked for (started), or None when WatchdogSec= is not set."""
        interval = watchdog_interval(environ)
        if interval is None or not notifier.enabled:
            return None
        watchdog = cls(notifier, progress, interval, stale_after)
        watchdog.start()
        return watchdog

    def start(self) -> None:
        self._thread.start()

    def tick(self) -> bool:
        """Ping if the loop progressed recently; returns whether it pinged."""
        if self.progress.age() <= self.stale_after:
            self.notifier.watchdog()
            return True
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
