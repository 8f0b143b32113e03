"""start_process + apply_reload in a real process: READY, SIGHUP reloads, SIGTERM stops."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Datagrams

REPO = Path(__file__).resolve().parents[2]


def read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the child printed nothing"
    return proc.stdout.readline().rstrip("\n")


def start(config: Path, notify: str, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "INVOCATION_ID"}
    env["NOTIFY_SOCKET"] = notify
    return subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.process_child", "--config", str(config), *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
def test_reload_applies_what_it_can_and_logs_the_rest(
    tmp_path: Path, notify_socket: Datagrams
) -> None:
    config = tmp_path / "flotod.toml"
    config.write_text('[logging]\nformat = "json"\n[daemon.main]\nmax_children = 5\n')
    proc = start(config, notify_socket.path)
    try:
        assert read_line(proc) == "ready"
        assert notify_socket.recv(20) == b"READY=1\nSTATUS=waiting"
        config.write_text(
            '[logging]\nformat = "json"\nlevel = "debug"\n'
            '[daemon.main]\nmax_children = 50\nworkflow_id = "other"\n'
        )
        proc.send_signal(signal.SIGHUP)
        assert read_line(proc) == "reload True debug 50 flotod_daemon"
        assert notify_socket.recv().startswith(b"RELOADING=1\nMONOTONIC_USEC=")
        assert notify_socket.recv() == b"READY=1"
        config.write_text('[daemon.main]\nmax_children = "lots"\n')
        proc.send_signal(signal.SIGHUP)
        assert read_line(proc) == "reload False debug 50 flotod_daemon"
        proc.send_signal(signal.SIGTERM)
        assert read_line(proc) == "outcome drained"
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    records = [json.loads(line) for line in err.splitlines()]
    events = [(r["event"], r.get("key")) for r in records]
    assert events == [
        ("process.started", None),
        ("config.changed", "logging.level"),
        ("config.changed", "daemon.main.max_children"),
        ("config.needs_restart", "daemon.main.workflow_id"),
        ("after.reload", None),  # debug records now pass
        ("config.reload_failed", None),
        ("after.reload", None),
    ]
    assert records[2]["old"] == 5 and records[2]["new"] == 50
    assert records[5]["problems"] == [
        f'{config}: daemon.main.max_children: expected an integer from 1 to 1000, got "lots"'
    ]


@pytest.mark.slow
def test_daemonize_under_systemd_exits_78(tmp_path: Path, notify_socket: Datagrams) -> None:
    config = tmp_path / "flotod.toml"
    config.write_text("[daemon.main]\n")
    proc = start(config, notify_socket.path, "--daemonize")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 78
    assert out == ""
    assert err.startswith("--daemonize: refused under systemd")
    assert notify_socket.all(quiet=0.1) == []  # nothing was started, so nothing was announced


@pytest.mark.slow
def test_bad_config_exits_78_before_anything_starts(
    tmp_path: Path, notify_socket: Datagrams
) -> None:
    config = tmp_path / "flotod.toml"
    config.write_text("[daemon.main]\nworkflow_id = 7\n")
    proc = start(config, notify_socket.path)
    out, err = proc.communicate(timeout=20)
    assert (proc.returncode, out) == (78, "")
    assert (
        err
        == f"{config}: daemon.main.workflow_id: expected a string of 1 to 256 characters, got 7\n"
    )
    assert notify_socket.all(quiet=0.1) == []
