"""`flotod register` and the services register through one routine, with the same defaults;
a type SWF already holds with other defaults is reported by both, never silently kept."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from flotod.cli.main import main
from tests.services.conftest import Site

ACTIVITY = {"name": "slow", "version": "v1"}  # tests.services.acts' activity


def worker_config(site: Site, heartbeat: int, name: str = "main") -> Path:
    return site.config(
        "worker", name, task_list="reg_at", modules=["tests.services.acts"],
        heartbeat_seconds=heartbeat,
    )  # fmt: skip


def described(site: Site, domain: str) -> dict[str, Any]:
    answer = site.client.describe_activity_type(domain=domain, activityType=ACTIVITY)
    return dict(answer["configuration"])


def fresh_domain(site: Site) -> str:
    domain = f"reg-{uuid.uuid4().hex[:10]}"
    site.client.register_domain(name=domain, workflowExecutionRetentionPeriodInDays="1")
    return domain


def with_domain(site: Site, path: Path, domain: str) -> Path:
    path.write_text(path.read_text().replace(f'domain = "{site.domain}"', f'domain = "{domain}"'))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("heartbeat", "timeout"), [(0, "NONE"), (90, "300"), (600, "1800")])
def test_the_cli_and_the_worker_register_the_same_defaults(
    site: Site, capsys: pytest.CaptureFixture[str], heartbeat: int, timeout: str
) -> None:
    by_cli, by_service = fresh_domain(site), fresh_domain(site)
    cli_config = with_domain(site, worker_config(site, heartbeat, "cli"), by_cli)
    assert main(["register", "--config", str(cli_config)]) == 0, capsys.readouterr().err

    worker = site.start(
        "worker", with_domain(site, worker_config(site, heartbeat, "svc"), by_service)
    )
    worker.wait_for("registration.type", name="slow", registered=True)
    worker.wait_for("service.ready")
    assert worker.stop() == 0

    from_cli, from_service = described(site, by_cli), described(site, by_service)
    assert from_cli == from_service
    assert from_cli["defaultTaskHeartbeatTimeout"] == timeout
    assert from_cli["defaultTaskList"] == {"name": "reg_at"}


@pytest.mark.slow
def test_other_defaults_already_registered_are_reported_by_both(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    domain = fresh_domain(site)
    first = with_domain(site, worker_config(site, 90, "first"), domain)
    assert main(["register", "--config", str(first)]) == 0
    capsys.readouterr()

    later = with_domain(site, worker_config(site, 600, "later"), domain)
    code = main(["register", "--config", str(later)])
    out, err = capsys.readouterr()
    assert code == 65
    assert "activity slow:v1: defaultTaskHeartbeatTimeout is 300, the config gives 1800" in err
    assert "register a new version" in err
    assert "registered earlier, other defaults" in out
    # SWF kept the first registration: that is what is served, and what is shown.
    assert described(site, domain)["defaultTaskHeartbeatTimeout"] == "300"

    worker = site.start("worker", later)
    record = worker.wait_for("registration.defaults_differ", type="activity slow:v1")
    assert record["differences"] == ["defaultTaskHeartbeatTimeout is 300, the config gives 1800"]
    assert "register a new version" in record["remedy"]
    worker.wait_for("service.ready")  # a warning, not a refusal: the type is served as held
    assert worker.stop() == 0


def test_register_shows_the_task_list_swf_holds(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    domain = fresh_domain(site)
    site.client.register_activity_type(
        domain=domain, name="slow", version="v1", defaultTaskList={"name": "elsewhere"},
        defaultTaskHeartbeatTimeout="300", defaultTaskScheduleToStartTimeout="3600",
        defaultTaskStartToCloseTimeout="3600", defaultTaskScheduleToCloseTimeout="7200",
    )  # fmt: skip
    config = with_domain(site, worker_config(site, 90), domain)
    code = main(["register", "--config", str(config), "--json"])
    out, err = capsys.readouterr()
    assert code == 65, err
    (state,) = [t for t in json.loads(out)["types"] if t["name"] == "slow"]
    assert state["task_list"] == "elsewhere"
    assert state["differences"] == [
        {"field": "defaultTaskList", "registered": "elsewhere", "config": "reg_at"}
    ]


def test_decision_timeouts_come_from_the_config(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    domain = fresh_domain(site)
    path = site.config(
        "decider", "timeouts", task_list="reg_dt", dynamic=True, workflow_type_name="regwf",
        decision_timeout_seconds=7,
    )  # fmt: skip
    daemon = site.config("daemon", "reg")
    for config in (path, daemon):
        with_domain(site, config, domain)
        assert main(["register", "--config", str(config)]) == 0, capsys.readouterr().err

    def decision_timeout(name: str, version: str) -> str:
        answer = site.client.describe_workflow_type(
            domain=domain, workflowType={"name": name, "version": version}
        )
        return str(answer["configuration"]["defaultTaskStartToCloseTimeout"])

    assert decision_timeout("regwf", "v1") == "7"
    assert decision_timeout("flotod_daemon", "v1") == "10"  # the default
    assert decision_timeout("flotod_daemon_child", "v1") == "10"
