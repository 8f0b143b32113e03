"""sd_notify wire messages and the progress-gated watchdog, read from a bound socket."""

from __future__ import annotations

import os
import time

import pytest

from flotod.runtime.notify import Notifier, Progress, Watchdog, watchdog_interval

from .conftest import Datagrams


def test_each_message_on_the_wire(notify_socket: Datagrams) -> None:
    notifier = Notifier()
    assert notifier.enabled
    notifier.ready()
    notifier.ready(status="polling hello_decider")
    notifier.status("stopping: 3 tasks left")
    notifier.stopping()
    notifier.extend_timeout(12.5)
    notifier.watchdog()
    assert notify_socket.all() == [
        b"READY=1",
        b"READY=1\nSTATUS=polling hello_decider",
        b"STATUS=stopping: 3 tasks left",
        b"STOPPING=1",
        b"EXTEND_TIMEOUT_USEC=12500000",
        b"WATCHDOG=1",
    ]


def test_status_is_kept_ascii_and_on_one_line(notify_socket: Datagrams) -> None:
    Notifier().status("caf\u00e9 \u2713\nnext")
    assert notify_socket.recv() == b"STATUS=caf? ? next"


def test_reloading_carries_the_monotonic_clock(notify_socket: Datagrams) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    Notifier().reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    first, second = notify_socket.recv().decode().split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_no_op_outside_systemd(datagrams: Datagrams, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready()
    notifier.watchdog()
    assert datagrams.all(quiet=0.1) == []


def test_abstract_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    name = f"flotod-test-{os.getpid()}-{time.monotonic_ns()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        Notifier().ready()
        assert server.recv(100) == b"READY=1"
    finally:
        server.close()


def test_watchdog_interval_from_environment() -> None:
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "120000000"}) == 60.0
    assert watchdog_interval({"WATCHDOG_USEC": "nonsense"}) is None
    mine = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(mine) == 1.0
    assert watchdog_interval({**mine, "WATCHDOG_PID": "1"}) is None


def test_watchdog_pings_only_while_progress_is_fresh(notify_socket: Datagrams) -> None:
    progress = Progress()
    watchdog = Watchdog(Notifier(), progress, interval=60, stale_after=0.5)
    assert watchdog.tick() is True
    assert notify_socket.recv() == b"WATCHDOG=1"
    progress._last = time.monotonic() - 0.6  # the loop has been silent for too long
    assert watchdog.tick() is False
    assert notify_socket.all(quiet=0.1) == []
    progress.beat()
    assert watchdog.tick() is True
    assert notify_socket.recv() == b"WATCHDOG=1"


@pytest.mark.slow
def test_watchdog_thread_stops_pinging_when_the_loop_wedges(
    notify_socket: Datagrams, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = Progress()
    watchdog = Watchdog.from_environment(
        Notifier(), progress, stale_after=0.3, environ={"WATCHDOG_USEC": "100000"}
    )
    assert watchdog is not None
    assert watchdog.interval == 0.05
    try:
        end = time.monotonic() + 0.5
        while time.monotonic() < end:  # a healthy loop: progress all along
            progress.beat()
            time.sleep(0.02)
        healthy = notify_socket.all(quiet=0.05)
        time.sleep(0.5)  # wedged: progress now older than stale_after
        notify_socket.all(quiet=0.05)  # pings sent in the first 0.3 s of silence
        wedged = notify_socket.all(quiet=0.3)
    finally:
        watchdog.stop()
    assert len(healthy) >= 5
    assert set(healthy) == {b"WATCHDOG=1"}
    assert wedged == []


def test_no_watchdog_without_watchdog_usec(notify_socket: Datagrams) -> None:
    assert Watchdog.from_environment(Notifier(), Progress(), environ={}) is None
