"""A parent with two running children, one of which fails: the other child is cancelled (not
left running, which SWF would do: it applies the child policy only on terminate and timeout),
and the same workflow id runs again without colliding with a leftover child."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from flotod.specs import ActivityTask, ChildWorkflow, DeciderSpec, Timer
from tests.faults.conftest import MakeSite
from tests.faults.harness import ACTIVITIES, FaultSite, Outcome
from tests.services.conftest import eventually

pytestmark = pytest.mark.slow

PARENT, FAILING, WAITING = "faultparent", "faultkid_bad", "faultkid_wait"


def _runs(site: FaultSite, workflow_id: str, closed: bool) -> list[dict[str, Any]]:
    call = (
        site.client.list_closed_workflow_executions
        if closed
        else site.client.list_open_workflow_executions
    )
    infos = call(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"]
    return list(infos)


def _decider(site: FaultSite, name: str, task_list: str, *tasks: Any) -> Any:
    spec = DeciderSpec(
        domain=site.domain,
        task_list=task_list,
        default_activity_task_list=ACTIVITIES,
        activity_tasks=list(tasks),
    )
    path = site.config(
        "decider", name, task_list=task_list, spec_file=str(site.spec_file(spec, f"spec-{name}"))
    )
    return site.start("decider", path)


def test_a_failing_child_cancels_its_sibling_and_the_id_runs_again(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=10, start_to_close=30)
    for name in (PARENT, FAILING, WAITING):
        site.register_workflow_type(name, f"{name}_dt")
    services = [
        _decider(
            site, "parent", f"{PARENT}_dt",
            ChildWorkflow(FAILING, "v1", workflow_id="bad"),
            ChildWorkflow(WAITING, "v1", workflow_id="waits"),
        ),
        # fault_huge returns more than SWF's 32,768 characters: the activity, so the child, fails
        _decider(site, "bad", f"{FAILING}_dt", ActivityTask("fault_huge", "v1", activity_id="h")),
        _decider(site, "waits", f"{WAITING}_dt", Timer("long", delay_in_seconds=3600)),
        site.start("worker", site.worker()),
    ]  # fmt: skip
    for service in services:
        service.wait_for("service.ready")

    for attempt in range(2):  # the second run reuses every workflow id of the first
        run_id = site.start_workflow(PARENT, "family")
        site.wait_closed("family", run_id, timeout=60)
        parent = Outcome("family", site.history("family", run_id))
        reason, details = parent.failure()
        (failed,) = details["failed_tasks"]
        assert (reason, failed["task"]) == ("task_failed", "bad"), (attempt, details)
        assert "RequestCancelExternalWorkflowExecutionInitiated" in parent.kinds
        assert "StartChildWorkflowExecutionFailed" not in parent.kinds

        def waiting_child_cancelled(count: int = attempt + 1) -> bool:
            closed = _runs(site, "family:waits", closed=True)
            return len(closed) == count and not _runs(site, "family:waits", closed=False)

        eventually(waiting_child_cancelled, timeout=30, what="the waiting child closed")
        statuses = {info["closeStatus"] for info in _runs(site, "family:waits", closed=True)}
        assert statuses == {"CANCELED"}
        assert {i["closeStatus"] for i in _runs(site, "family:bad", closed=True)} == {"FAILED"}

    for service in services:
        assert service.proc.poll() is None, f"{service.kind} exited"
        service.send(signal.SIGTERM)
    assert [s.stop() for s in services] == [0, 0, 0, 0]
