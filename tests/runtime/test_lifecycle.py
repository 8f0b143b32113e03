"""Signals recorded, not acted on in handlers; the loop and the drain act on them."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flotod.runtime import DrainOutcome, Lifecycle, Notifier, Progress, drain

from .conftest import Datagrams

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lifecycle() -> Iterator[Lifecycle]:
    life = Lifecycle()
    life.install()
    yield life
    life.close()


def test_sighup_is_a_reload_request_taken_once(lifecycle: Lifecycle) -> None:
    os.kill(os.getpid(), signal.SIGHUP)
    os.kill(os.getpid(), signal.SIGHUP)
    assert lifecycle.wait(0) is True
    assert lifecycle.take_reload_request() is True
    assert lifecycle.take_reload_request() is False
    assert not lifecycle.stop_requested
    assert lifecycle.take_signals() == ["SIGHUP", "SIGHUP"]
    assert lifecycle.take_signals() == []


def test_sigterm_warm_then_second_sigterm_quick(lifecycle: Lifecycle) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    assert lifecycle.stop_requested and not lifecycle.quick_stop_requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert lifecycle.quick_stop_requested


def test_sigint_is_a_quick_stop(lifecycle: Lifecycle) -> None:
    os.kill(os.getpid(), signal.SIGINT)
    assert lifecycle.stop_requested and lifecycle.quick_stop_requested


def test_wait_sleeps_then_wakes_on_a_new_signal(lifecycle: Lifecycle) -> None:
    start = time.monotonic()
    assert lifecycle.wait(0.1) is False
    assert time.monotonic() - start >= 0.09
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGHUP))
    timer.start()
    start = time.monotonic()
    assert lifecycle.wait(10) is True
    assert time.monotonic() - start < 5
    # Already seen: the next wait sleeps again instead of spinning.
    assert lifecycle.wait(0.05) is False
    timer.join()


def test_request_stop_from_the_process_itself() -> None:
    life = Lifecycle()
    try:
        life.request_stop()
        assert life.stop_requested and not life.quick_stop_requested
        assert life.wait(5) is True
        life.request_stop(quick=True)
        assert life.quick_stop_requested
    finally:
        life.close()


def test_uninstall_restores_previous_handlers() -> None:
    before = signal.getsignal(signal.SIGHUP)
    life = Lifecycle()
    life.install()
    assert signal.getsignal(signal.SIGHUP) != before
    life.close()
    assert signal.getsignal(signal.SIGHUP) == before


# -- drain ---------------------------------------------------------------------------


def messages(datagrams: Datagrams) -> list[str]:
    return [m.decode() for m in datagrams.all(quiet=0.1)]


def test_drain_of_idle_work_only_says_stopping(notify_socket: Datagrams) -> None:
    life = Lifecycle()
    try:
        outcome = drain(lambda: True, timeout=5, lifecycle=life, notifier=Notifier())
    finally:
        life.close()
    assert outcome is DrainOutcome.DRAINED
    assert messages(notify_socket) == ["STOPPING=1"]


def test_drain_extends_while_progressing_then_times_out(notify_socket: Datagrams) -> None:
    life = Lifecycle()
    progress = Progress()
    stop_beating = threading.Event()

    def beat() -> None:
        while not stop_beating.wait(0.02):
            progress.beat()

    beater = threading.Thread(target=beat)
    beater.start()
    try:
        outcome = drain(
            lambda: False,
            timeout=0.7,
            lifecycle=life,
            notifier=Notifier(),
            progress=progress,
            extend_every=0.2,
            check_every=0.02,
            grace=1.0,
        )
    finally:
        stop_beating.set()
        beater.join()
        life.close()
    assert outcome is DrainOutcome.TIMED_OUT
    assert life.quick_stop_requested
    sent = messages(notify_socket)
    assert sent[0] == "STOPPING=1"
    extensions = [int(m.split("=")[1]) for m in sent[1:]]
    assert all(m.startswith("EXTEND_TIMEOUT_USEC=") for m in sent[1:])
    assert 3 <= len(extensions) <= 5
    # Never more than two periods plus the grace, and never past the drain deadline + grace.
    assert all(0 < usec <= 1_400_000 for usec in extensions)


def test_drain_gives_a_stalled_drain_no_more_time(notify_socket: Datagrams) -> None:
    life = Lifecycle()
    try:
        outcome = drain(
            lambda: False,
            timeout=0.6,
            lifecycle=life,
            notifier=Notifier(),
            progress=Progress(),
            extend_every=0.1,
            check_every=0.02,
            grace=1.0,
        )
    finally:
        life.close()
    assert outcome is DrainOutcome.TIMED_OUT
    sent = messages(notify_socket)
    assert sent[0] == "STOPPING=1"
    assert len(sent) == 2 and sent[1].startswith("EXTEND_TIMEOUT_USEC=")


# -- a real process --------------------------------------------------------------------


class Toy:
    def __init__(self, notify_path: str, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID",)}
        env["NOTIFY_SOCKET"] = notify_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.runtime.toy_service", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def expect(self, line: str, timeout: float = 20.0) -> None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no output within {timeout}s, waiting for {line!r}"
        assert self.proc.stdout.readline().rstrip("\n") == line

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def finish(self) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err


@pytest.mark.slow
def test_toy_loop_reloads_and_drains_on_sigterm(notify_socket: Datagrams) -> None:
    toy = Toy(notify_socket.path, "--work", "0.8")
    toy.expect("ready")
    assert notify_socket.recv(20) == b"READY=1"
    toy.signal(signal.SIGHUP)
    toy.expect("reloaded")
    reloading = notify_socket.recv().decode().split("\n")
    assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
    assert notify_socket.recv() == b"READY=1"
    toy.signal(signal.SIGTERM)
    toy.expect("stopping warm")
    toy.expect("outcome drained")
    code, err = toy.finish()
    assert code == 0
    assert '"signal": "SIGHUP"' in err
    sent = [m.decode() for m in notify_socket.all()]
    assert sent[0] == "STOPPING=1"
    assert len(sent) >= 3  # extended more than once while the work kept beating
    assert all(m.startswith("EXTEND_TIMEOUT_USEC=") for m in sent[1:])


@pytest.mark.slow
def test_toy_loop_second_sigterm_cuts_the_drain_short(notify_socket: Datagrams) -> None:
    toy = Toy(notify_socket.path, "--work", "30", "--drain-timeout", "30")
    toy.expect("ready")
    toy.signal(signal.SIGTERM)
    toy.expect("stopping warm")
    started = time.monotonic()
    toy.signal(signal.SIGTERM)
    toy.expect("outcome quick_stop")
    assert time.monotonic() - started < 10
    assert toy.finish()[0] == 0


@pytest.mark.slow
def test_toy_loop_sigint_is_quick_and_a_stuck_drain_times_out(notify_socket: Datagrams) -> None:
    quick = Toy(notify_socket.path, "--work", "30")
    quick.expect("ready")
    quick.signal(signal.SIGINT)
    quick.expect("stopping quick")
    quick.expect("outcome quick_stop")
    assert quick.finish()[0] == 0
    stuck = Toy(notify_socket.path, "--work", "30", "--stall", "--drain-timeout", "0.5")
    stuck.expect("ready")
    stuck.signal(signal.SIGTERM)
    stuck.expect("stopping warm")
    stuck.expect("outcome timed_out")
    assert stuck.finish()[0] == 0
