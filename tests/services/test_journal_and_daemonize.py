"""Service processes as journald and a non-systemd host see them: native journal entries
with upper-case fields, and ``--daemonize --pidfile``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flotod.specs import ActivityTask, DeciderSpec, Timer
from tests.runtime.conftest import Datagrams
from tests.services.conftest import BIN, ROOT, Service, Site, eventually, result_of

pytestmark = pytest.mark.slow

FIELD = re.compile(r"[A-Z][A-Z0-9_]*")


def parse_entry(data: bytes) -> dict[str, str]:
    """journald's native format: ``KEY=value\\n``, or ``KEY\\n`` + u64le size + bytes + ``\\n``."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        line = data[pos:end]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
            pos = end + 1
        else:
            (size,) = struct.unpack("<Q", data[end + 1 : end + 9])
            fields[line.decode()] = data[end + 9 : end + 9 + size].decode()
            pos = end + 9 + size + 1
    return fields


class Journal(Datagrams):
    """A stand-in for /run/systemd/journal/socket that keeps every entry, read all the time."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.entries: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.entries.append(parse_entry(self.recv(0.2)))
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        super().close()


@pytest.fixture
def journal() -> Iterator[Journal]:
    directory = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))  # AF_UNIX paths are short
    server = Journal(str(directory / "journal"))
    yield server
    server.close()
    shutil.rmtree(directory, ignore_errors=True)


def start_as_journal_service(site: Site, kind: str, config: Path, journal: Journal) -> Service:
    """``format = "auto"`` and the environment systemd gives a unit whose stderr is the journal
    ($JOURNAL_STREAM names the stderr file), so flotod picks the journal path."""
    config.write_text(config.read_text().replace('format = "json"', 'format = "auto"'))
    stderr = site.next_log_path(kind)
    stderr.touch()  # the service's stderr: opened for writing later, same inode
    info = os.stat(stderr)
    env = {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}", "FLOTOD_JOURNAL_SOCKET": journal.path}
    service = site.start(kind, config, env=env)
    assert service.log_path == stderr
    return service


def test_journal_entries_carry_the_workflow_fields(site: Site, journal: Journal) -> None:
    spec = DeciderSpec(
        domain=site.domain,
        task_list="jdt",
        default_activity_task_list="jacts",
        activity_tasks=[ActivityTask("ActivityA", "v1", activity_id="a")],
    )
    decider_cfg = site.config(
        "decider", task_list="jdt", spec_file=str(site.spec_file(spec)), workflow_type_name="jwf"
    )
    worker_cfg = site.config("worker", task_list="jacts", modules=["tests.services.acts"])
    decider = start_as_journal_service(site, "decider", decider_cfg, journal)
    worker = start_as_journal_service(site, "worker", worker_cfg, journal)

    def ready(identifier: str) -> bool:
        return any(
            e.get("EVENT") == "service.ready" and e.get("SYSLOG_IDENTIFIER") == identifier
            for e in list(journal.entries)
        )

    eventually(lambda: ready("flotod-decider") and ready("flotod-worker"), what="both ready")
    run = site.start_workflow("jwf", "journaled")
    assert result_of(site.wait_closed("journaled", run)) == {"a": {"a": "result_a"}}
    decider.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert decider.stop() == 0 and worker.stop() == 0

    entries = list(journal.entries)
    for entry in entries:
        assert all(FIELD.fullmatch(name) for name in entry), entry
        assert entry["PRIORITY"] in {"2", "3", "4", "6", "7"} and entry["MESSAGE"]
    decided = [
        e
        for e in entries
        if e.get("SYSLOG_IDENTIFIER") == "flotod-decider" and e.get("EVENT") == "decision.completed"
    ]
    assert decided, entries
    closing = [e for e in decided if e.get("CLOSING") == "true"]
    assert len(closing) == 1
    assert closing[0]["WORKFLOW_ID"] == "journaled" and closing[0]["RUN_ID"] == run
    assert closing[0]["TASK_LIST"] == "jdt" and closing[0]["PRIORITY"] == "6"
    assert closing[0]["MESSAGE"].startswith("decision.completed ")
    assert "workflow_id=journaled" in closing[0]["MESSAGE"]
    activity = [
        e
        for e in entries
        if e.get("SYSLOG_IDENTIFIER") == "flotod-worker" and e.get("ACTIVITY_ID") == "a"
    ]
    assert {e["EVENT"] for e in activity} >= {"activity.started"}
    for entry in activity:
        assert entry["WORKFLOW_ID"] == "journaled" and entry["RUN_ID"] == run
        assert entry["TASK_LIST"] == "jacts"
    # Everything went to the journal; nothing fell back to stderr lines.
    assert decider.log_path.read_text().strip() == ""
    assert worker.log_path.read_text().strip() == ""


def test_daemonize_detaches_writes_the_pidfile_serves_and_stops(site: Site, tmp_path: Path) -> None:
    spec = DeciderSpec(
        domain=site.domain, task_list="ddt", activity_tasks=[Timer("t", delay_in_seconds=1)]
    )
    config = site.config(
        "decider", task_list="ddt", spec_file=str(site.spec_file(spec)), workflow_type_name="dwf"
    )
    pidfile, log_file = tmp_path / "decider.pid", tmp_path / "decider.log"
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "INVOCATION_ID")}
    env["PYTHONPATH"] = str(ROOT)
    launcher = subprocess.run(
        [str(BIN / "flotod-decider"), "--config", str(config), "--daemonize",
         "--pidfile", str(pidfile), "--log-file", str(log_file)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert launcher.returncode == 0, launcher.stderr  # the launcher returns once detached
    # The pidfile is created, then written: wait for its content, not just its existence.
    eventually(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the pidfile")
    pid = int(pidfile.read_text().strip())
    assert alive(pid)
    assert os.getsid(pid) != os.getsid(0)  # a session of its own: detached from ours
    try:
        eventually(lambda: "service.ready" in log_file.read_text(), what="the daemon to be ready")
        run = site.start_workflow("dwf", "detached")
        closing = site.wait_closed("detached", run)
        assert closing["eventType"] == "WorkflowExecutionCompleted"
        os.kill(pid, signal.SIGTERM)
        eventually(lambda: not alive(pid), timeout=20, what="the daemon to exit")
        assert not pidfile.exists()
        assert "service.stopped" in log_file.read_text()
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running and not a zombie (a detached process is nobody's child here to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
