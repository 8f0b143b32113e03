"""The daemon workflow continues as new under load and loses no request and no child."""

from __future__ import annotations

import json
import signal

import pytest

from flotod.specs import ActivityTask, DeciderSpec, to_jsonable
from tests.services.conftest import Site, eventually, result_of

pytestmark = pytest.mark.slow

REQUESTS = 24


def _runs(site: Site, workflow_id: str, closed: bool) -> list[dict[str, object]]:
    call = (
        site.client.list_closed_workflow_executions
        if closed
        else site.client.list_open_workflow_executions
    )
    infos: list[dict[str, object]] = call(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"]
    return infos


def test_daemon_continues_as_new_carrying_waiting_requests_and_running_children(
    site: Site,
) -> None:
    # The smallest history the daemon may keep, and two children at a time: 24 requests
    # force several continue-as-new runs while requests wait and children run.
    daemon = site.start("daemon", site.config("daemon", max_children=2, continue_after_events=100))
    worker = site.start(
        "worker",
        site.config("worker", task_list="acts", modules=["tests.services.acts"], concurrency=4),
    )
    daemon.wait_for("daemon.workflow_started")
    worker.wait_for("service.ready")
    spec = to_jsonable(
        DeciderSpec(
            domain=site.domain,
            default_activity_task_list="acts",
            activity_tasks=[ActivityTask("ActivityA", "v1", activity_id="a")],
        )
    )
    for i in range(REQUESTS):
        site.client.signal_workflow_execution(
            domain=site.domain,
            workflowId="flotod_daemon",
            signalName="startChildWorkflowExecution",
            input=json.dumps({"decider_spec": spec, "workflow_id": f"many-{i}", "input": i}),
        )

    def all_children_closed() -> bool:
        return all(_runs(site, f"many-{i}", closed=True) for i in range(REQUESTS))

    eventually(all_children_closed, timeout=120, what="every requested child to close")
    for i in range(REQUESTS):
        (info,) = _runs(site, f"many-{i}", closed=True)  # started exactly once
        assert info["closeStatus"] == "COMPLETED", info
        run_id = info["execution"]["runId"]  # type: ignore[index]
        assert result_of(site.wait_closed(f"many-{i}", run_id)) == {"a": {"a": "result_a"}}

    continued = [
        r
        for r in _runs(site, "flotod_daemon", closed=True)
        if r["closeStatus"] == "CONTINUED_AS_NEW"
    ]
    assert continued, "the daemon workflow never continued as new"
    (current,) = _runs(site, "flotod_daemon", closed=False)  # still serving, one open run
    history = site.history("flotod_daemon", current["execution"]["runId"])  # type: ignore[index]
    assert len(history) < 250, len(history)  # bounded, not one run holding everything
    daemon.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert daemon.stop() == 0 and worker.stop() == 0
