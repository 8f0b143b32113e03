"""flotod-daemon as a real process: signals start children it decides for itself."""

from __future__ import annotations

import json
import signal
from functools import partial

import pytest

from flotod.specs import ActivityTask, DeciderSpec, to_jsonable
from tests.services.conftest import Site, eventually, result_of

pytestmark = pytest.mark.slow


def test_daemon_starts_children_from_signals_bounded_and_rejects_bad_ones(site: Site) -> None:
    daemon = site.start("daemon", site.config("daemon", max_children=1))
    worker = site.start(
        "worker", site.config("worker", task_list="acts", modules=["tests.services.acts"])
    )
    daemon.wait_for("daemon.workflow_started")
    worker.wait_for("service.ready")
    spec = DeciderSpec(
        domain=site.domain,
        default_activity_task_list="acts",
        activity_tasks=[ActivityTask("ActivityA", "v1", activity_id="a")],
    )
    for i in range(3):  # floto's form: the spec object itself; flotod's: a JSON string
        payload = {"decider_spec": to_jsonable(spec), "workflow_id": f"job-{i}", "input": i}
        if i == 1:
            payload["decider_spec"] = json.dumps(payload["decider_spec"])
        site.client.signal_workflow_execution(
            domain=site.domain,
            workflowId="flotod_daemon",
            signalName="startChildWorkflowExecution",
            input=json.dumps(payload),
        )
    site.client.signal_workflow_execution(
        domain=site.domain,
        workflowId="flotod_daemon",
        signalName="startChildWorkflowExecution",
        input=json.dumps({"decider_spec": {"type": "builtins.eval", "domain": site.domain}}),
    )
    site.client.signal_workflow_execution(
        domain=site.domain, workflowId="flotod_daemon", signalName="hello", input="{}"
    )

    def run_of(workflow_id: str) -> str | None:
        infos = site.client.list_closed_workflow_executions(
            domain=site.domain,
            startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": workflow_id},
        )["executionInfos"]
        return infos[0]["execution"]["runId"] if infos else None

    def has_run(workflow_id: str) -> bool:
        return run_of(workflow_id) is not None

    for i in range(3):
        name = f"job-{i}"
        eventually(partial(has_run, name), timeout=30, what=name)
        assert result_of(site.wait_closed(name, str(run_of(name)))) == {"a": {"a": "result_a"}}
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
    assert len(markers) == 1 and "unknown spec type 'builtins.eval'" in markers[0]["reason"]
    # never more than one child open (a child counts closed once it reported its end)
    open_children: set[str] = set()
    for e in history:
        kind = e["eventType"]
        if kind == "StartChildWorkflowExecutionInitiated":
            open_children.add(
                e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]
            )
            assert len(open_children) == 1
        elif kind == "ChildWorkflowExecutionCompleted":
            attrs = e["childWorkflowExecutionCompletedEventAttributes"]
            open_children.discard(attrs["workflowExecution"]["workflowId"])
        elif kind == "WorkflowExecutionSignaled":
            attrs = e["workflowExecutionSignaledEventAttributes"]
            if attrs["signalName"] == "flotod.childClosed":
                open_children.discard(json.loads(attrs["input"])["workflow_id"])
    for i in range(3):
        # The child signals the daemon in the response that closes it, and the close holds.
        job = site.history(f"job-{i}", str(run_of(f"job-{i}")))
        kinds = [e["eventType"] for e in job]
        assert kinds[-3:] == [
            "DecisionTaskCompleted",
            "SignalExternalWorkflowExecutionInitiated",
            "WorkflowExecutionCompleted",
        ], kinds
        assert "CompleteWorkflowExecutionFailed" not in kinds
        signalled = job[-2]["signalExternalWorkflowExecutionInitiatedEventAttributes"]
        assert signalled["signalName"] == "flotod.childClosed"
        assert json.loads(signalled["input"]) == {
            "workflow_id": f"job-{i}",
            "run_id": run_of(f"job-{i}"),
        }
    daemon.wait_for("daemon.signal_ignored", signal="hello")
    rejected = daemon.wait_for("daemon.signal_rejected")
    assert rejected["workflow_id"] == "flotod_daemon" and rejected["task_list"] == "flotod_daemon"
    daemon.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert daemon.stop() == 0 and worker.stop() == 0
