"""Bad input fails only the workflow that carries it, with a reason that says what was wrong,
while every other workflow in flight completes: input that is not JSON, a dynamic task of a
type outside the allowlist, a generator returning garbage, a result over 32,768 characters,
and a daemon signal with a malformed spec (rejected with a marker in the daemon's history)."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from flotod.specs import ActivityTask, DeciderSpec, Generator, to_jsonable
from flotod.swf.limits import MAX_DATA
from tests.faults.conftest import MakeSite
from tests.faults.harness import (
    ACTIVITIES,
    FaultSite,
    check_dag_results,
    dag_spec,
    outcomes,
    start_many,
    wait_all_closed,
)
from tests.services.conftest import eventually

pytestmark = pytest.mark.slow

DYNAMIC = "faultdyn"
DAEMON_ID = "flotod_daemon"


def _signal(site: FaultSite, payload: Any) -> None:
    site.client.signal_workflow_execution(
        domain=site.domain,
        workflowId=DAEMON_ID,
        signalName="startChildWorkflowExecution",
        input=payload if isinstance(payload, str) else json.dumps(payload),
    )


def _closed_run(site: FaultSite, workflow_id: str) -> str | None:
    infos = site.client.list_closed_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"]
    return str(infos[0]["execution"]["runId"]) if infos else None


def test_bad_input_fails_its_own_workflow_only(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=10, start_to_close=30)
    site.register_workflow_type(DYNAMIC, "fault_dyn_dt")
    spec = dag_spec(site.domain)
    dynamic: dict[str, Any] = {
        "task_list": "fault_dyn_dt",
        "dynamic": True,
        "default_activity_task_list": ACTIVITIES,
    }
    services = [
        site.start("decider", site.decider(spec)),
        site.start("decider", site.config("decider", "dyn", **dynamic)),
        site.start("worker", site.worker()),
        site.start("daemon", site.config("daemon", max_children=5)),
    ]
    services[-1].wait_for("daemon.workflow_started")
    for service in services[:-1]:
        service.wait_for("service.ready")

    good = [f"ok-{i:02d}" for i in range(30)]
    inputs = {wid: 3 * i for i, wid in enumerate(good)}
    dag_tasks = to_jsonable(list(spec.activity_tasks))
    dynamic_good = [f"dyn-ok-{i}" for i in range(5)]
    inputs.update({wid: 900 + i for i, wid in enumerate(dynamic_good)})
    bad_static = {"not-json": "{this is not json"}
    bad_dynamic: dict[str, Any] = {
        "unknown-type": {"n": 1, "activity_tasks": [
            {"type": "os.system", "id_": "x", "name": "rm", "version": "v1"}]},
        "garbage-generator": {"n": 1, "activity_tasks": [
            to_jsonable(Generator("fault_garbage", "v1", activity_id="g"))]},
        "huge-result": {"n": 1, "activity_tasks": [
            to_jsonable(ActivityTask("fault_huge", "v1", activity_id="h"))]},
    }  # fmt: skip
    runs = start_many(site, list(bad_static), list(bad_static.values()))
    runs.update(start_many(site, good, [{"n": inputs[wid]} for wid in good]))
    runs.update(start_many(site, list(bad_dynamic), list(bad_dynamic.values()), workflow=DYNAMIC))
    runs.update(
        start_many(site, dynamic_good,
                   [{"n": inputs[w], "activity_tasks": dag_tasks} for w in dynamic_good],
                   workflow=DYNAMIC)
    )  # fmt: skip
    child_spec = DeciderSpec(
        domain=site.domain, default_activity_task_list=ACTIVITIES,
        activity_tasks=spec.activity_tasks,
    )  # fmt: skip
    _signal(site, {"decider_spec": "{broken json", "workflow_id": "child-bad"})
    _signal(site, "this signal input is not JSON at all")
    _signal(site, {"decider_spec": to_jsonable(child_spec), "workflow_id": "child-ok",
                   "input": {"n": 77}})  # fmt: skip

    wait_all_closed(site, runs, timeout=60)
    found = outcomes(site, runs)
    check_dag_results({w: found[w] for w in good + dynamic_good}, inputs)
    reasons = {wid: found[wid].failure() for wid in [*bad_static, *bad_dynamic]}

    reason, details = reasons["not-json"]
    assert reason == "invalid_workflow_input" and "not JSON" in details["error"]
    reason, details = reasons["unknown-type"]
    assert (
        reason == "invalid_activity_tasks" and "unknown task type 'os.system'" in details["error"]
    )
    reason, details = reasons["garbage-generator"]
    (failed,) = details["failed_tasks"]
    assert reason == "task_failed" and failed["task"] == "g"
    assert failed["reason"] == "generator did not return a list of tasks"
    assert "returned dict" in failed["details"]
    reason, details = reasons["huge-result"]
    (failed,) = details["failed_tasks"]
    assert reason == "task_failed" and failed["task"] == "h"
    assert failed["reason"] == "result too large" and f"SWF allows {MAX_DATA}" in failed["details"]
    # bad input is never run: the unknown type scheduled nothing at all
    assert found["unknown-type"].scheduled() == {}

    eventually(lambda: _closed_run(site, "child-ok") is not None, timeout=30, what="child-ok")
    child = site.history("child-ok", str(_closed_run(site, "child-ok")))
    assert json.loads(child[-1]["workflowExecutionCompletedEventAttributes"]["result"]) == {
        "d": (2 * 77) * (77 + 7) + 1, "e": (2 * 77) * (77 + 7) - 1,
    }  # fmt: skip
    assert _closed_run(site, "child-bad") is None
    daemon_run = site.client.list_open_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": DAEMON_ID},
    )["executionInfos"][0]["execution"]["runId"]
    markers = [
        json.loads(e["markerRecordedEventAttributes"]["details"])
        for e in site.history(DAEMON_ID, daemon_run)
        if e["eventType"] == "MarkerRecorded"
    ]
    assert len(markers) == 2, markers
    assert any("not JSON" in m["reason"] for m in markers)
    for service in services:
        assert service.proc.poll() is None, f"{service.kind} exited"
        service.send(signal.SIGTERM)
    assert [s.stop() for s in services] == [0, 0, 0, 0]
