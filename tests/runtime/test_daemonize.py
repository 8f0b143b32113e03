"""--daemonize: a real detached process, its pidfile and SIGTERM; refused under systemd."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flotod.errors import ConfigError
from flotod.runtime.daemonize import daemonize, under_systemd

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: object, timeout: float = 20.0) -> bool:
    assert callable(predicate)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_refused_under_systemd() -> None:
    assert under_systemd({"INVOCATION_ID": "0123"})
    assert under_systemd({"NOTIFY_SOCKET": "/run/systemd/notify"})
    assert not under_systemd({})
    with pytest.raises(ConfigError, match="refused under systemd") as info:
        daemonize(None, environ={"INVOCATION_ID": "0123"})
    assert info.value.exit_code == 78


def test_refused_when_the_pidfile_names_a_live_process(tmp_path: Path) -> None:
    pidfile = tmp_path / "flotod.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    with pytest.raises(ConfigError, match=f"already running as pid {os.getpid()}"):
        daemonize(str(pidfile), environ={})


@pytest.mark.slow
def test_detaches_writes_pidfile_and_stops_on_sigterm(tmp_path: Path) -> None:
    pidfile = tmp_path / "run" / "flotod.pid"
    pidfile.parent.mkdir()
    # A stale pidfile from a crashed run must not block the start.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pidfile.write_text(dead.stdout)
    marker, log_file = tmp_path / "stopped", tmp_path / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "NOTIFY_SOCKET")}
    launcher = subprocess.run(
        [sys.executable, "-m", "tests.runtime.daemon_child", "--daemonize",
         "--pidfile", str(pidfile), "--log-file", str(log_file), "--marker", str(marker)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert launcher.returncode == 0, launcher.stderr
    assert wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != dead.stdout.strip())
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, 0)  # alive, and detached from the launcher that already exited
        assert wait_for(lambda: "daemon.started" in log_file.read_text())
        os.kill(pid, signal.SIGTERM)
        assert wait_for(marker.exists)
        assert wait_for(lambda: not pidfile.exists())
    finally:
        if pidfile.exists():
            os.kill(pid, signal.SIGKILL)
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [r["event"] for r in records] == ["daemon.started", "daemon.stopping"]
    assert records[1]["signals"] == ["SIGTERM"]


def launch(tmp_path: Path, pidfile: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Start daemon_child detached; returns the launcher once it has exited."""
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "NOTIFY_SOCKET")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "tests.runtime.daemon_child", "--daemonize",
         "--pidfile", str(pidfile), "--log-file", str(tmp_path / "daemon.log"),
         "--marker", str(tmp_path / "stopped")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def dead_pid() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def stop(pid: int, pidfile: Path) -> None:
    os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not pidfile.exists())


@pytest.mark.slow
@pytest.mark.parametrize("content", ["garbage\n", "", "-5\n", "stale"])
def test_a_stale_or_garbage_pidfile_is_replaced_before_the_launcher_returns(
    tmp_path: Path, content: str
) -> None:
    pidfile = tmp_path / "flotod.pid"
    pidfile.write_text(dead_pid() if content == "stale" else content)
    launcher = launch(tmp_path, pidfile)
    assert launcher.returncode == 0, launcher.stderr
    # The launcher returns once the daemon holds the pidfile: no waiting for it here.
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, 0)
        assert wait_for(lambda: "daemon.started" in (tmp_path / "daemon.log").read_text())
        if content:  # the launcher says what it replaced
            assert "replaced" in launcher.stderr and str(pidfile) in launcher.stderr
    finally:
        stop(pid, pidfile)


@pytest.mark.slow
def test_a_live_pidfile_fails_the_launcher_and_is_left_alone(tmp_path: Path) -> None:
    pidfile = tmp_path / "flotod.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    launcher = launch(tmp_path, pidfile)
    assert launcher.returncode == 78
    (line,) = launcher.stderr.splitlines()
    assert f"already running as pid {os.getpid()}" in line and str(pidfile) in line
    assert pidfile.read_text() == f"{os.getpid()}\n"
    assert (
        not (tmp_path / "daemon.log").exists()
        or "daemon.started" not in (tmp_path / "daemon.log").read_text()
    )


@pytest.mark.slow
def test_relative_paths_are_absolute_before_detaching_and_one_of_two_starts_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / "run").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "NOTIFY_SOCKET")}
    env["PYTHONPATH"] = str(REPO)
    argv = [sys.executable, "-m", "tests.runtime.daemon_child", "--daemonize",
            "--pidfile", "run/flotod.pid", "--log-file", "run/daemon.log",
            "--marker", "run/stopped"]  # fmt: skip
    first = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    codes = sorted([first.wait(30), second.wait(30)])
    assert first.stderr is not None and second.stderr is not None
    errors = first.stderr.read() + second.stderr.read()
    first.stderr.close()
    second.stderr.close()
    assert codes == [0, 78], errors
    assert "already running" in errors or "being started" in errors
    pidfile = tmp_path / "run" / "flotod.pid"
    pid = int(pidfile.read_text())
    try:
        assert wait_for(lambda: "daemon.started" in (tmp_path / "run" / "daemon.log").read_text())
    finally:
        stop(pid, pidfile)
    assert (tmp_path / "run" / "stopped").exists()
