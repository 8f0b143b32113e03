"""Real service processes against the embedded SWF, configured by TOML files in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flotod.specs import DeciderSpec, dumps
from tests.conftest import endpoint_client
from tests.runtime.conftest import Datagrams

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


class Service:
    """One running ``flotod-<kind>`` process; its stderr (JSON log lines) goes to a file."""

    def __init__(self, kind: str, config: Path, log: Path, env: dict[str, str]) -> None:
        self.kind = kind
        self.log_path = log
        self.signalled = False
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / f"flotod-{kind}"), "--config", str(config)],
            stdout=self._log,
            stderr=self._log,
            env=env,
            cwd=ROOT,
        )

    def records(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"event": "<text>", "line": line})
        return out

    def events(self) -> list[str]:
        return [str(r.get("event")) for r in self.records()]

    def wait_for(self, event: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for record in self.records():
                if record.get("event") == event and all(
                    record.get(k) == v for k, v in match.items()
                ):
                    return record
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"{self.kind}: no {event} {match} (exit {self.proc.poll()}):\n"
            + self.log_path.read_text()[-4000:]
        )

    def send(self, signum: int) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.signalled = True
        self.proc.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Wait for the exit, sending ``signum`` first unless a signal was already sent."""
        if self.proc.poll() is None and not self.signalled:
            self.send(signum)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


class Site:
    """A domain on an endpoint plus helpers to write configs and start services."""

    def __init__(self, url: str, tmp: Path, client: Any = None, prefix: str = "svc") -> None:
        self.url = url
        self.tmp = tmp
        self.domain = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.client = endpoint_client(url) if client is None else client
        self.client.register_domain(name=self.domain, workflowExecutionRetentionPeriodInDays="1")
        self.services: list[Service] = []

    def config(self, kind: str, name: str = "main", **table: Any) -> Path:
        """One file per service. A config's allowlists default to what it serves, which for
        a file holding one table is little: deciders and daemons written here allow every
        task list and child type unless the test names its own (test_allowlists does)."""
        path = self.tmp / f"{kind}-{name}.toml"
        if kind in ("decider", "daemon"):
            table = {
                "allowed_task_lists": ["*"],
                "allowed_child_workflow_types": ["*"],
                **table,
            }
        lines = [
            "[swf]",
            f'endpoint_url = "{self.url}"',
            f'domain = "{self.domain}"',
            'access_key_id = "local"',
            'secret_access_key = "local"',
            "[logging]",
            'format = "json"',
            'level = "debug"' if kind != "worker" else 'level = "info"',
            f"[{kind}.{name}]",
        ]
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def spec_file(self, spec: DeciderSpec, name: str = "spec") -> Path:
        path = self.tmp / f"{name}.json"
        path.write_text(dumps(spec))
        return path

    def start(self, kind: str, config: Path, env: dict[str, str] | None = None) -> Service:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "AWS_"))}
        environ["PYTHONPATH"] = str(ROOT)
        environ.update(env or {})
        service = Service(kind, config, self.next_log_path(kind), environ)
        self.services.append(service)
        return service

    def next_log_path(self, kind: str) -> Path:
        """Where the next started service's stderr goes (the file is created at its start)."""
        return self.tmp / f"{kind}-{len(self.services)}.log"

    def register_workflow_type(self, name: str, task_list: str, task_timeout: int = 10) -> None:
        self.client.register_workflow_type(
            domain=self.domain,
            name=name,
            version="v1",
            defaultTaskList={"name": task_list},
            defaultExecutionStartToCloseTimeout="600",
            defaultTaskStartToCloseTimeout=str(task_timeout),
            defaultChildPolicy="TERMINATE",
        )

    def start_workflow(self, name: str, workflow_id: str, input: Any = None) -> str:
        params: dict[str, Any] = {}
        if input is not None:
            params["input"] = json.dumps(input)
        answer = self.client.start_workflow_execution(
            domain=self.domain,
            workflowId=workflow_id,
            workflowType={"name": name, "version": "v1"},
            **params,
        )
        return str(answer["runId"])

    def history(self, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(
            self.client.get_workflow_execution_history(
                domain=self.domain, execution={"workflowId": workflow_id, "runId": run_id}
            )["events"]
        )

    def wait_closed(self, workflow_id: str, run_id: str, timeout: float = 40.0) -> dict[str, Any]:
        """The closing event of the run, once it has one."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            events = self.history(workflow_id, run_id)
            last = events[-1]
            if last["eventType"].startswith("WorkflowExecution") and last["eventType"] not in (
                "WorkflowExecutionStarted",
                "WorkflowExecutionSignaled",
                "WorkflowExecutionCancelRequested",
            ):
                return last
            time.sleep(0.2)
        logs = "\n".join(s.log_path.read_text()[-3000:] for s in self.services)
        raise AssertionError(f"{workflow_id} not closed; history tail {events[-5:]}\n{logs}")

    def close(self) -> None:
        for service in self.services:
            service.kill()


@pytest.fixture
def site(swf_endpoint: str, tmp_path: Path) -> Iterator[Site]:
    s = Site(swf_endpoint, tmp_path)
    yield s
    s.close()


@pytest.fixture
def site60(swf_endpoint_60: str, tmp_path: Path) -> Iterator[Site]:
    """A site whose endpoint holds polls for SWF's real 60 s."""
    s = Site(swf_endpoint_60, tmp_path, prefix="svc60")
    yield s
    s.close()


def result_of(closing: dict[str, Any]) -> Any:
    assert closing["eventType"] == "WorkflowExecutionCompleted", closing
    return json.loads(closing["workflowExecutionCompletedEventAttributes"]["result"])


Waiter = Callable[[], object]  # anything truthy ends the wait


def eventually(check: Waiter, timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class NotifySocket(Datagrams):
    """systemd's NOTIFY_SOCKET stand-in, read all the time as systemd does (a full datagram
    queue would block the sender)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.messages: list[str] = []
        self.stamped: list[tuple[float, str]] = []  # (time.monotonic() received, message)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                message = self.recv(0.2).decode()
                self.stamped.append((time.monotonic(), message))
                self.messages.append(message)
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        super().close()


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    directory = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))
    server = NotifySocket(str(directory / "notify"))
    yield server
    server.close()
    shutil.rmtree(directory, ignore_errors=True)
