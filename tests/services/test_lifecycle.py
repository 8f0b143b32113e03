"""Stops, reloads and bad configs of real service processes."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from flotod.specs import ActivityTask, DeciderSpec
from tests.services.conftest import BIN, NotifySocket, Service, Site, eventually, result_of

pytestmark = pytest.mark.slow


def slow_spec(domain: str, marker: Path, seconds: float) -> DeciderSpec:
    task = ActivityTask(
        "slow", "v1", activity_id="s", input={"seconds": seconds, "marker": str(marker)}
    )
    return DeciderSpec(
        domain=domain, task_list="dt", default_activity_task_list="acts", activity_tasks=[task]
    )


def start_pair(
    site: Site, marker: Path, seconds: float, drain: int = 30
) -> tuple[Service, Service]:
    spec = site.spec_file(slow_spec(site.domain, marker, seconds))
    decider = site.start(
        "decider",
        site.config("decider", task_list="dt", spec_file=str(spec), workflow_type_name="slowwf"),
    )
    worker_cfg = site.config(
        "worker",
        task_list="acts",
        modules=["tests.services.acts"],
        heartbeat_seconds=1,
        drain_timeout_seconds=drain,
    )
    worker = site.start("worker", worker_cfg)
    decider.wait_for("registration.type")
    worker.wait_for("service.ready")
    return decider, worker


def test_sigterm_lets_the_running_activity_finish_and_report(site: Site, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    decider, worker = start_pair(site, marker, seconds=2)
    run = site.start_workflow("slowwf", "warm")
    eventually(marker.exists, what="the activity to start")
    worker.send(signal.SIGTERM)
    assert worker.stop(timeout=20) == 0
    assert result_of(site.wait_closed("warm", run)) == {"s": "slept"}
    stopped = worker.wait_for("service.stopped")
    assert stopped["finished"] == 1 and stopped["drain"] == "drained"
    assert decider.stop() == 0


def test_sigint_reports_the_running_activity_failed(site: Site, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    decider, worker = start_pair(site, marker, seconds=30)
    run = site.start_workflow("slowwf", "quick")
    eventually(marker.exists, what="the activity to start")
    began = time.monotonic()
    worker.send(signal.SIGINT)
    assert worker.stop(timeout=20) == 0
    assert time.monotonic() - began < 10
    closing = site.wait_closed("quick", run)
    assert closing["eventType"] == "WorkflowExecutionFailed"
    failed = [e for e in site.history("quick", run) if e["eventType"] == "ActivityTaskFailed"]
    assert failed[0]["activityTaskFailedEventAttributes"]["reason"] == "worker shutdown"
    assert decider.stop() == 0


def test_sighup_applies_a_good_config_and_keeps_running_on_a_bad_one(
    site: Site, notify: NotifySocket
) -> None:
    config = site.config("daemon", max_children=5)
    daemon = site.start("daemon", config, env={"NOTIFY_SOCKET": notify.path})
    daemon.wait_for("service.ready")
    eventually(lambda: any(m.startswith("READY=1") for m in notify.messages), what="READY=1")
    text = config.read_text()
    config.write_text(text.replace("max_children = 5", "max_children = 7"))
    daemon.send(signal.SIGHUP)
    applied = daemon.wait_for("config.applied")
    assert applied["key"] == "daemon.main.max_children" and applied["new"] == 7
    daemon.wait_for("config.reloaded")
    config.write_text(text.replace("max_children = 5", 'max_children = "many"'))
    daemon.send(signal.SIGHUP)
    rejected = daemon.wait_for("config.reload_rejected")
    assert "daemon.main.max_children: expected an integer" in rejected["problem"]
    config.write_text(
        text.replace('workflow_id = "flotod_daemon"', "").replace(
            "max_children = 5", 'max_children = 7\nworkflow_id = "other"'
        )
    )
    daemon.send(signal.SIGHUP)
    restart = daemon.wait_for("config.needs_restart")
    assert restart["key"] == "daemon.main.workflow_id"
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0
    reloads = [m for m in notify.messages if m.startswith("RELOADING=1")]
    assert len(reloads) == 3 and all("\nMONOTONIC_USEC=" in m for m in reloads)
    assert notify.messages.count("READY=1") >= 3
    assert "STOPPING=1" in notify.messages


@pytest.mark.parametrize("kind", ["decider", "worker", "daemon"])
def test_bad_config_exits_78_naming_file_key_and_expectation(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    table = {
        "decider": 'task_list = "x"\nspec_file = "missing.json"',
        "worker": 'task_list = "x"\nmodules = ["no_such_module_here"]\nconcurrency = 0',
        "daemon": "max_children = -1\nmax_childs = 3",
    }[kind]
    path.write_text(f'[swf]\nendpoint_url = "ftp://x"\n[{kind}.main]\n{table}\n')
    for extra in ([], ["--check-config"]):
        done = subprocess.run(
            [str(BIN / f"flotod-{kind}"), "--config", str(path), *extra],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 78
        lines = done.stderr.strip().splitlines()
        assert f'{path}: swf.endpoint_url: expected "" or an http(s):// URL, got "ftp://x"' in lines
        assert all(line.startswith(str(path)) for line in lines), lines
        if kind == "worker":
            assert any("worker.main.concurrency: expected an integer" in x for x in lines)
        if kind == "daemon":
            assert any("daemon.main.max_childs: unknown setting" in x for x in lines)
        if kind == "decider":
            assert any("decider.main.spec_file: no such file" in x for x in lines)
