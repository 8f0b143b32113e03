"""Spec changes that never break running workflows, through real processes.

A decider serves workflow type versions side by side (``specs``), decides each run with the
spec of its version, and refuses a reloaded spec that would decide an open run differently
from what its history shows: ``--check-config`` (what ``systemctl reload`` runs first) exits
non-zero naming the run, and the running process keeps the old spec for that version.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from flotod.specs import ActivityTask, DeciderSpec
from tests.services.conftest import BIN, ROOT, Service, Site, eventually

pytestmark = pytest.mark.slow

ACTS = "sv_acts"
DT = "sv_dt"
TYPE = "verwf"


def register_activities(site: Site) -> None:
    """Registered here, so runs wait (scheduled, open) until the test starts a worker."""
    for name in ("ActivityA", "ActivityB", "ActivityC"):
        site.client.register_activity_type(
            domain=site.domain, name=name, version="v1", defaultTaskList={"name": ACTS},
            defaultTaskStartToCloseTimeout="60", defaultTaskScheduleToStartTimeout="120",
            defaultTaskScheduleToCloseTimeout="180", defaultTaskHeartbeatTimeout="NONE",
        )  # fmt: skip


def a_then_b(site: Site, a_input: Any, extra: bool = False) -> DeciderSpec:
    """A, then B after A (neither names its id: both ids hash A's input), and C after B."""
    a = ActivityTask("ActivityA", "v1", input=a_input)
    b = ActivityTask("ActivityB", "v1", requires=[a])
    tasks = [a, b]
    if extra:
        tasks.append(ActivityTask("ActivityC", "v1", requires=[b]))
    return DeciderSpec(
        domain=site.domain, task_list=DT, default_activity_task_list=ACTS, activity_tasks=tasks
    )


def b_only(site: Site, extra: bool = False) -> DeciderSpec:
    b = ActivityTask("ActivityB", "v1", activity_id="b")
    tasks = [b]
    if extra:
        tasks.append(ActivityTask("ActivityC", "v1", activity_id="c", requires=[b]))
    return DeciderSpec(
        domain=site.domain, task_list=DT, default_activity_task_list=ACTS, activity_tasks=tasks
    )


def start(site: Site, workflow_id: str, version: str) -> str:
    answer = site.client.start_workflow_execution(
        domain=site.domain,
        workflowId=workflow_id,
        workflowType={"name": TYPE, "version": version},
        input="{}",
    )
    return str(answer["runId"])


def scheduled(site: Site, workflow_id: str, run_id: str) -> list[str]:
    return [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in site.history(workflow_id, run_id)
        if e["eventType"] == "ActivityTaskScheduled"
    ]


def wait_scheduled(site: Site, runs: list[tuple[str, str]]) -> None:
    """Each run's first decision is made: its first activity waits, scheduled, for a worker."""

    def all_scheduled() -> bool:
        return all(scheduled(site, w, r) for w, r in runs)

    eventually(all_scheduled, what="a first activity scheduled in every run")


def closed_as(site: Site, workflow_id: str, run_id: str) -> str:
    return str(site.wait_closed(workflow_id, run_id, timeout=60)["eventType"])


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flotod-decider"), "--config", str(path), "--check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def refused(service: Service) -> list[dict[str, Any]]:
    return [r for r in service.records() if r.get("event") == "config.reload_refused"]


def test_editing_a_task_of_a_spec_file_with_open_runs_is_refused_and_they_complete(
    site: Site,
) -> None:
    """The issue's reproduction: before, the reload applied at once and every open run failed
    with history_mismatch at its next decision."""
    register_activities(site)
    spec_file = site.spec_file(a_then_b(site, {"n": 1}))
    path = site.config("decider", task_list=DT, spec_file=str(spec_file), workflow_type_name=TYPE)
    decider = site.start("decider", path)
    decider.wait_for("service.ready")
    runs = {f"open-{i}": site.start_workflow(TYPE, f"open-{i}", input={}) for i in range(2)}
    wait_scheduled(site, list(runs.items()))

    site.spec_file(a_then_b(site, {"n": 2}))  # one task edited: A and B get new ids
    checked = check_config(path)
    assert checked.returncode != 0, checked
    assert "diverges" in checked.stderr and "open-" in checked.stderr, checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1, checked.stderr

    decider.send(signal.SIGHUP)
    eventually(lambda: refused(decider), timeout=30, what="config.reload_refused")
    line = refused(decider)[0]
    assert line["version"] == f"{TYPE}:v1"
    assert line["workflow_id"] in runs and line["run_id"] == runs[line["workflow_id"]]
    assert "decision task 1" in line["divergence"] and "activityId" in line["divergence"]
    assert not any(
        r.get("event") == "config.applied" and str(r.get("key")).endswith("spec_file")
        for r in decider.records()
    )

    worker = site.start(
        "worker", site.config("worker", task_list=ACTS, modules=["tests.services.acts"])
    )
    for workflow_id, run_id in runs.items():
        assert closed_as(site, workflow_id, run_id) == "WorkflowExecutionCompleted"
    assert "history_mismatch" not in decider.log_path.read_text()
    assert worker.stop() == 0
    assert decider.stop() == 0


def test_versions_side_by_side_and_a_reload_refusing_only_the_diverging_one(site: Site) -> None:
    register_activities(site)
    v1 = site.spec_file(a_then_b(site, {"n": 1}), "order-v1")
    v2 = site.spec_file(b_only(site), "order-v2")
    path = site.config("decider", task_list=DT, workflow_type_name=TYPE)
    path.write_text(path.read_text() + f'specs = {{ v1 = "{v1}", v2 = "{v2}" }}\n')
    decider = site.start("decider", path)
    decider.wait_for("registration.type", name=TYPE, version="v1")
    decider.wait_for("registration.type", name=TYPE, version="v2")
    decider.wait_for("service.ready")
    runs = {("one", "v1"): start(site, "one", "v1"), ("two", "v2"): start(site, "two", "v2")}
    wait_scheduled(site, [(w, r) for (w, _), r in runs.items()])
    # Each run decided by the spec of the version it was started with.
    assert scheduled(site, "one", runs["one", "v1"]) == ["ActivityA"]
    assert scheduled(site, "two", runs["two", "v2"]) == ["ActivityB"]

    site.spec_file(a_then_b(site, {"n": 2}), "order-v1")  # diverges from run "one"
    site.spec_file(b_only(site, extra=True), "order-v2")  # a task after B: "two" agrees
    checked = check_config(path)
    assert checked.returncode != 0, checked
    [problem] = checked.stderr.strip().splitlines()
    assert f"{TYPE}:v1" in problem and "one" in problem and runs["one", "v1"] in problem
    assert "v2" not in problem.split(f"{TYPE}:v1", 1)[1].split(":", 1)[0]

    v3 = site.spec_file(b_only(site, extra=True), "order-v3")
    path.write_text(path.read_text().replace(" }\n", f', v3 = "{v3}" }}\n'))
    decider.send(signal.SIGHUP)
    eventually(lambda: refused(decider), timeout=30, what="config.reload_refused")
    [line] = refused(decider)
    assert (line["version"], line["workflow_id"], line["run_id"]) == (
        f"{TYPE}:v1",
        "one",
        runs["one", "v1"],
    )
    decider.wait_for("config.reloaded")
    decider.wait_for("registration.type", name=TYPE, version="v3")  # added by the reload
    runs["three", "v3"] = start(site, "three", "v3")

    worker = site.start(
        "worker", site.config("worker", task_list=ACTS, modules=["tests.services.acts"])
    )
    for (workflow_id, _), run_id in runs.items():
        assert closed_as(site, workflow_id, run_id) == "WorkflowExecutionCompleted"
    # v1 kept its old spec (A then B); v2 took the new one (B then C).
    assert scheduled(site, "one", runs["one", "v1"]) == ["ActivityA", "ActivityB"]
    assert scheduled(site, "two", runs["two", "v2"]) == ["ActivityB", "ActivityC"]
    assert scheduled(site, "three", runs["three", "v3"]) == ["ActivityB", "ActivityC"]
    assert "history_mismatch" not in decider.log_path.read_text()
    assert worker.stop() == 0
    assert decider.stop() == 0


def test_a_refused_reload_is_decided_within_seconds_behind_a_60s_poll(site60: Site) -> None:
    """The check runs while the decider's 60 s poll is in flight (SWF's real long poll): the
    refusal is logged within seconds, and the old spec goes on deciding the open run."""
    register_activities(site60)
    spec_file = site60.spec_file(a_then_b(site60, {"n": 1}))
    path = site60.config("decider", task_list=DT, spec_file=str(spec_file), workflow_type_name=TYPE)
    decider = site60.start("decider", path)
    decider.wait_for("service.ready")
    run_id = site60.start_workflow(TYPE, "open-60", input={})
    wait_scheduled(site60, [("open-60", run_id)])

    site60.spec_file(a_then_b(site60, {"n": 2}))
    sent = time.monotonic()
    decider.send(signal.SIGHUP)
    eventually(lambda: refused(decider), timeout=5, what="config.reload_refused")
    assert time.monotonic() - sent < 5
    worker = site60.start(
        "worker", site60.config("worker", task_list=ACTS, modules=["tests.services.acts"])
    )
    assert closed_as(site60, "open-60", run_id) == "WorkflowExecutionCompleted"
    assert worker.stop() == 0
    assert decider.stop() == 0
