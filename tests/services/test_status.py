"""STATUS= from a service: counts are coalesced, other changes go out at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from flotod.config import load_config
from flotod.services import process
from flotod.services.process import ServiceProcess
from flotod.swf import SwfClient


class Sent:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def status(self, text: str) -> None:
        self.messages.append(text)


@pytest.fixture
def proc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[ServiceProcess, Sent, list[float]]:
    config_file = tmp_path / "flotod.toml"
    config_file.write_text('[swf]\nendpoint_url = "http://127.0.0.1:9"\n[daemon.main]\n')
    config = load_config(config_file, "daemon")
    clock = [100.0]
    monkeypatch.setattr(process, "monotonic", lambda: clock[0])
    service = ServiceProcess(
        config, SwfClient(endpoint_url="http://127.0.0.1:9", region="us-east-1")
    )
    sent = Sent()
    service.notifier = sent  # type: ignore[assignment]
    return service, sent, clock


def test_count_changes_are_coalesced_to_one_a_second(
    proc: tuple[ServiceProcess, Sent, list[float]],
) -> None:
    service, sent, clock = proc
    for n in range(50):  # a busy decider: one call per decision
        service.status(f"polling dt: {n} decided")
        clock[0] += 0.01
    assert sent.messages == ["polling dt: 0 decided"]
    clock[0] += 1.0
    service.status("polling dt: 50 decided")
    assert sent.messages[-1] == "polling dt: 50 decided"
    service.status("polling dt: 50 decided")  # unchanged: nothing
    assert len(sent.messages) == 2


def test_other_changes_go_out_at_once(proc: tuple[ServiceProcess, Sent, list[float]]) -> None:
    service, sent, _ = proc
    service.status("polling dt: 1 decided")
    service.last_error = "TransientSwfError: connection refused"
    service.status("polling dt: 1 decided")
    service.last_error = None
    service.status("polling dt: 2 decided")
    service.status("stopping: 0 running")
    assert sent.messages == [
        "polling dt: 1 decided",
        "polling dt: 1 decided; last error: TransientSwfError: connection refused",
        "polling dt: 2 decided",
        "stopping: 0 running",
    ]
