"""A service started with ``--daemonize`` and relative paths: they still name the same files
once the daemon's working directory is ``/``, so a SIGHUP reloads the config it started from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.services.conftest import BIN, ROOT, Site, eventually
from tests.services.test_journal_and_daemonize import alive

pytestmark = pytest.mark.slow


def records(log_file: Path) -> list[dict[str, Any]]:
    out = []
    for line in log_file.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_a_relative_config_still_reloads_on_sighup_once_detached(site: Site) -> None:
    config = site.config("daemon", max_children=5)
    directory = config.parent
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "INVOCATION_ID")}
    env["PYTHONPATH"] = str(ROOT)
    launcher = subprocess.run(
        [str(BIN / "flotod-daemon"), "--config", config.name, "--daemonize",
         "--pidfile", "daemon.pid", "--log-file", "daemon.log"],
        env=env, cwd=directory, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert launcher.returncode == 0, launcher.stderr
    pidfile, log_file = directory / "daemon.pid", directory / "daemon.log"
    pid = int(pidfile.read_text())
    try:
        eventually(
            lambda: any(r.get("event") == "service.ready" for r in records(log_file)),
            what="the daemon to be ready",
        )
        config.write_text(config.read_text().replace("max_children = 5", "max_children = 7"))
        os.kill(pid, signal.SIGHUP)

        outcomes = {"config.applied", "config.reload_rejected", "config.reload_failed"}

        def reload_outcome() -> dict[str, Any] | None:
            return next((r for r in records(log_file) if r.get("event") in outcomes), None)

        eventually(lambda: reload_outcome() is not None, what="the reload's outcome")
        outcome = reload_outcome()
        assert outcome is not None
        assert outcome["event"] == "config.applied", outcome
        assert outcome["key"] == "daemon.main.max_children" and outcome["new"] == 7
        os.kill(pid, signal.SIGTERM)
        eventually(lambda: not alive(pid), timeout=20, what="the daemon to exit")
        assert not pidfile.exists()
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
