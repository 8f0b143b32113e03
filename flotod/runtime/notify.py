"""Talking to systemd (``Type=notify`` units): readiness, status, reload, stop and watchdog.

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op, so the services call these
unconditionally. The socket is connected at the first message, so a :class:`Notifier` made
before a daemonize fork still works after it (daemonizing closes inherited descriptors).

Sends never block and never raise: a notify reader that stops reading (a full datagram queue)
or is gone must not stall the service loop, so such a message is dropped and counted. systemd
only keeps the latest STATUS= anyway, and a missed WATCHDOG=1 is resent on the next tick.

The watchdog pings only while the service loop reports progress (:class:`Progress`): a wedged
loop stops the pings and systemd's ``WatchdogSec=`` restarts the process.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping

import sdnotify

# A poll blocks up to 70 s (SWF holds it 60 s); allow that plus a throttled retry before the
# loop counts as stuck.
DEFAULT_STALE_AFTER = 150.0


def _ascii(text: str) -> str:
    """systemd reads the message as text: keep it ASCII, one assignment per line."""
    return text.encode("ascii", "replace").decode("ascii").replace("\n", " ")


class Notifier:
    """sd_notify(3) messages through sdnotify; ``enabled`` is False outside systemd.

    sdnotify writes the datagrams; what flotod adds is that a send never blocks and never
    raises: its socket is made non-blocking, a message that cannot go out is dropped and
    counted in ``dropped``, and a socket that went away (a restarted manager) is connected
    again on the next send.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._target = env.get("NOTIFY_SOCKET", "")
        self.enabled = bool(self._target)
        self.dropped = 0
        self._closed = False
        self._lock = threading.Lock()
        self._notifier: sdnotify.SystemdNotifier | None = None

    def _connected(self) -> sdnotify.SystemdNotifier | None:
        """sdnotify's notifier, connected now if it was not (call with the lock held)."""
        if self._notifier is None and self.enabled and not self._closed:
            notifier = _systemd_notifier(self._target)
            if notifier is not None:
                notifier.socket.setblocking(False)
                self._notifier = notifier
        return self._notifier

    def send(self, *assignments: str) -> bool:
        """One datagram with the given ``KEY=value`` lines; False when it was dropped."""
        if not self.enabled:
            return False
        payload = "\n".join(assignments).encode("ascii", "replace").decode("ascii")
        with self._lock:
            if self._closed:
                return False
            notifier = self._connected()
            if notifier is None:
                self.dropped += 1
                return False
            try:
                notifier.notify(payload)
            except OSError as exc:  # EAGAIN (reader not reading), ECONNREFUSED, ...
                self.dropped += 1
                if not isinstance(exc, BlockingIOError):
                    self._disconnect()
                return False
        return True

    def _disconnect(self) -> None:
        if self._notifier is not None:
            self._notifier.socket.close()
        self._notifier = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._disconnect()

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

    def stopping(self, status: str | None = None) -> None:
        self.send("STOPPING=1")
        if status is not None:
            self.status(status)

    def extend_timeout(self, seconds: float) -> None:
        """Ask for ``seconds`` more from now before the start/stop timeout fires."""
        self.send(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1_000_000))}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")


def _systemd_notifier(target: str) -> sdnotify.SystemdNotifier | None:
    """sdnotify's notifier connected to ``target``, or None when that failed.

    sdnotify reads $NOTIFY_SOCKET and connects in its constructor; ``debug=True`` makes it
    raise instead of staying silent, so that a failure is flotod's to count and retry.
    """
    saved = os.environ.get("NOTIFY_SOCKET")
    os.environ["NOTIFY_SOCKET"] = target
    try:
        return sdnotify.SystemdNotifier(debug=True)
    except OSError:
        return None
    finally:
        if saved is None:
            os.environ.pop("NOTIFY_SOCKET", None)
        else:
            os.environ["NOTIFY_SOCKET"] = saved


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
