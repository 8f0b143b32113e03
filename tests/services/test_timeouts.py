"""Timeouts from the decorator and the spec reach SWF; a worker refuses a heartbeat timeout
it cannot meet."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from flotod.cli.main import main
from flotod.errors import EX_CONFIG
from flotod.specs import ActivityTask, ChildWorkflow, DeciderSpec
from tests.services.conftest import BIN, ROOT, Site, eventually

pytestmark = pytest.mark.slow


def test_decorator_timeouts_are_the_registered_defaults(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site.config(
        "worker", task_list="timed_at", modules=["tests.services.timed_acts"], heartbeat_seconds=90
    )
    assert main(["register", "--config", str(config)]) == 0, capsys.readouterr().err
    held = site.client.describe_activity_type(
        domain=site.domain, activityType={"name": "long_job", "version": "v1"}
    )["configuration"]
    assert held["defaultTaskStartToCloseTimeout"] == "14400"
    assert held["defaultTaskScheduleToStartTimeout"] == "NONE"
    assert held["defaultTaskScheduleToCloseTimeout"] == "86400"
    assert held["defaultTaskHeartbeatTimeout"] == "600"
    assert held["defaultTaskList"] == {"name": "long_jobs"}


def scheduled(site: Site, workflow_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    return {
        e["activityTaskScheduledEventAttributes"]["activityId"]: e[
            "activityTaskScheduledEventAttributes"
        ]
        for e in site.history(workflow_id, run_id)
        if e["eventType"] == "ActivityTaskScheduled"
    }


def test_per_task_overrides_are_in_the_scheduled_events(site: Site) -> None:
    site.start(
        "worker",
        site.config("worker", task_list="long_jobs", modules=["tests.services.timed_acts"]),
    )
    spec = DeciderSpec(
        domain=site.domain,
        task_list="timed_dt",
        default_activity_task_list="long_jobs",
        activity_tasks=[
            ActivityTask("long_job", "v1", activity_id="own"),
            ActivityTask(
                "long_job",
                "v1",
                activity_id="over",
                start_to_close_timeout=120,
                schedule_to_start_timeout=30,
                schedule_to_close_timeout=150,
                heartbeat_timeout="NONE",
            ),
        ],
    )
    decider = site.start(
        "decider",
        site.config(
            "decider",
            task_list="timed_dt",
            spec_file=str(site.spec_file(spec)),
            workflow_type_name="timedwf",
        ),
    )
    decider.wait_for("service.ready")
    run_id = site.start_workflow("timedwf", "timed-1")
    assert site.wait_closed("timed-1", run_id)["eventType"] == "WorkflowExecutionCompleted"
    events = scheduled(site, "timed-1", run_id)
    assert {k: v for k, v in events["over"].items() if k.endswith("Timeout")} == {
        "startToCloseTimeout": "120",
        "scheduleToStartTimeout": "30",
        "scheduleToCloseTimeout": "150",
        "heartbeatTimeout": "NONE",
    }
    # Without overrides the type's registered defaults (the decorator's) apply.
    assert events["own"]["startToCloseTimeout"] == "14400"
    assert events["own"]["heartbeatTimeout"] == "600"


def test_a_child_gets_its_timeouts(site: Site) -> None:
    site.register_workflow_type("kidwf", "kid_dt")
    spec = DeciderSpec(
        domain=site.domain,
        task_list="parent_dt",
        activity_tasks=[
            ChildWorkflow(
                "kidwf",
                "v1",
                workflow_id="kid",
                task_list="kid_dt",
                child_decision_timeout_seconds=25,
                child_execution_timeout_seconds=300,
            )
        ],
    )
    decider = site.start(
        "decider",
        site.config(
            "decider",
            task_list="parent_dt",
            spec_file=str(site.spec_file(spec)),
            workflow_type_name="parentwf",
        ),
    )
    decider.wait_for("service.ready")
    run_id = site.start_workflow("parentwf", "parent-1")

    def child_started() -> bool:
        return any(
            e["eventType"] == "StartChildWorkflowExecutionInitiated"
            for e in site.history("parent-1", run_id)
        )

    eventually(child_started, what="the child's start")
    initiated = next(
        e["startChildWorkflowExecutionInitiatedEventAttributes"]
        for e in site.history("parent-1", run_id)
        if e["eventType"] == "StartChildWorkflowExecutionInitiated"
    )
    assert initiated["taskStartToCloseTimeout"] == "25"
    assert initiated["executionStartToCloseTimeout"] == "300"


def test_a_worker_refuses_a_heartbeat_timeout_it_cannot_meet(site: Site) -> None:
    config = site.config(
        "worker", task_list="tight_at", modules=["tests.services.unmeetable_acts"],
        heartbeat_seconds=90,
    )  # fmt: skip
    worker = site.start("worker", config)
    assert worker.proc.wait(30) == EX_CONFIG
    text = worker.log_path.read_text()
    assert (
        "activity too_tight:v1: heartbeat_timeout=60 s is shorter than 2 x heartbeat_seconds"
        in (text)
    )
    assert "heartbeat_seconds to at most 30" in text
    checked = subprocess.run(
        [str(BIN / "flotod-worker"), "--check-config", "--config", str(config)],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert checked.returncode == EX_CONFIG, checked.stderr
    assert "too_tight:v1" in checked.stderr
