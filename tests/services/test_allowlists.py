"""Issue 14 item 13 with real processes on the embedded SWF: one config directory serves a
dynamic decider, a worker and the daemon; what a run-time spec names outside the allowlists
is refused (a dynamic run fails, a daemon request gets its marker) while the rest runs."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from flotod.specs import ActivityTask, DeciderSpec, to_jsonable
from tests.services.conftest import Site, eventually, result_of

pytestmark = pytest.mark.slow


def shared_config(site: Site) -> Path:
    """One file with every table, as /etc/flotod is one config: the daemon's defaults come
    from it (the worker's task list "acts"); the decider narrows activity types itself."""
    path = site.tmp / "flotod.toml"
    path.write_text(
        "\n".join(
            [
                "[swf]",
                f'endpoint_url = "{site.url}"',
                f'domain = "{site.domain}"',
                'access_key_id = "local"',
                'secret_access_key = "local"',
                "[logging]",
                'format = "json"',
                "[decider.dyn]",
                'task_list = "dyn_dt"',
                "dynamic = true",
                'default_activity_task_list = "acts"',
                'workflow_type_name = "dynwf"',
                'allowed_activity_types = ["ActivityA:v1"]',
                "[worker.acts]",
                'task_list = "acts"',
                'modules = ["tests.services.acts"]',
                "[daemon.main]",
                "max_children = 5",
            ]
        )
        + "\n"
    )
    return path


def test_forbidden_specs_are_refused_and_allowed_ones_run(site: Site) -> None:
    path = shared_config(site)
    worker = site.start("worker", path)
    decider = site.start("decider", path)
    daemon = site.start("daemon", path)
    decider.wait_for("registration.type", name="dynwf")
    daemon.wait_for("daemon.workflow_started")
    worker.wait_for("service.ready")

    # The dynamic decider: ActivityB is a registered type the worker serves, but not allowed.
    forbidden = [ActivityTask("ActivityB", "v1", activity_id="b")]
    bad_run = site.start_workflow(
        "dynwf", "dyn-bad", input={"activity_tasks": to_jsonable(forbidden)}
    )
    allowed = [ActivityTask("ActivityA", "v1", activity_id="a")]
    good_run = site.start_workflow(
        "dynwf", "dyn-good", input={"activity_tasks": to_jsonable(allowed)}
    )
    closing = site.wait_closed("dyn-bad", bad_run)
    assert closing["eventType"] == "WorkflowExecutionFailed", closing
    failed = closing["workflowExecutionFailedEventAttributes"]
    assert failed["reason"] == "not_allowed", failed
    assert json.loads(failed["details"]) == {"task": "b", "activity_type": "ActivityB:v1"}
    assert result_of(site.wait_closed("dyn-good", good_run)) == {"a": {"a": "result_a"}}
    scheduled = [e for e in site.history("dyn-bad", bad_run) if "ActivityTask" in e["eventType"]]
    assert scheduled == []  # nothing of the forbidden spec ever reached SWF

    # The daemon: the worker's task list is allowed by default, any other is not.
    def request(workflow_id: str, task_list: str) -> None:
        spec = DeciderSpec(
            domain=site.domain,
            default_activity_task_list=task_list,
            activity_tasks=[ActivityTask("ActivityA", "v1", activity_id="a")],
        )
        payload = {"decider_spec": to_jsonable(spec), "workflow_id": workflow_id}
        site.client.signal_workflow_execution(
            domain=site.domain,
            workflowId="flotod_daemon",
            signalName="startChildWorkflowExecution",
            input=json.dumps(payload),
        )

    request("job-billing", "billing")
    request("job-acts", "acts")

    def closed_run(workflow_id: str) -> str | None:
        infos = site.client.list_closed_workflow_executions(
            domain=site.domain,
            startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": workflow_id},
        )["executionInfos"]
        return infos[0]["execution"]["runId"] if infos else None

    eventually(partial(lambda w: closed_run(w) is not None, "job-acts"), timeout=30, what="job")
    assert result_of(site.wait_closed("job-acts", str(closed_run("job-acts")))) == {
        "a": {"a": "result_a"}
    }
    daemon_run = site.client.list_open_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": "flotod_daemon"},
    )["executionInfos"][0]["execution"]["runId"]
    history = site.history("flotod_daemon", daemon_run)
    markers = [
        json.loads(e["markerRecordedEventAttributes"]["details"])
        for e in history
        if e["eventType"] == "MarkerRecorded"
    ]
    assert [m["reason"] for m in markers] == [
        "not_allowed: task 'a': default_activity_task_list 'billing' is not allowed"
    ]
    started = [
        e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]
        for e in history
        if e["eventType"] == "StartChildWorkflowExecutionInitiated"
    ]
    assert started == ["job-acts"]
