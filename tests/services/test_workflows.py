"""floto's README examples run to completion through real flotod-decider/-worker processes."""

from __future__ import annotations

import json
import signal

import pytest

from flotod.specs import (
    ActivityTask,
    ChildWorkflow,
    DeciderSpec,
    Generator,
    InstantRetry,
    Timer,
    to_jsonable,
)
from tests.services.conftest import NotifySocket, Site, result_of

pytestmark = pytest.mark.slow

ACTS = "svc_acts"


def main_spec(domain: str) -> DeciderSpec:
    a = ActivityTask("ActivityA", "v1", activity_id="a")
    b = ActivityTask("ActivityB", "v1", activity_id="b")
    wait = Timer("wait", 1, requires=[a])
    retried = ActivityTask("flaky", "v1", activity_id="flaky", retry_strategy=InstantRetry(2))
    c = ActivityTask("ActivityC", "v1", activity_id="c", requires=[b, wait, retried])
    gen = Generator("spawn", "v1", activity_id="gen", input={"count": 2})
    child = ChildWorkflow("childwf", "v1", workflow_id="kid", requires=[c], task_list="child_dt")
    return DeciderSpec(
        domain=domain,
        task_list="main_dt",
        default_activity_task_list=ACTS,
        activity_tasks=[a, b, wait, retried, c, gen, child],
    )


def test_dag_timer_retry_generator_child_and_dynamic(site: Site, notify: NotifySocket) -> None:
    worker = site.start(
        "worker",
        site.config("worker", task_list=ACTS, modules=["tests.services.acts"], concurrency=4),
    )
    main = site.start(
        "decider",
        site.config(
            "decider",
            task_list="main_dt",
            spec_file=str(site.spec_file(main_spec(site.domain))),
            workflow_type_name="mainwf",
        ),
        env={"NOTIFY_SOCKET": notify.path},
    )
    child_spec = DeciderSpec(
        domain=site.domain,
        task_list="child_dt",
        default_activity_task_list=ACTS,
        activity_tasks=[ActivityTask("ActivityB", "v1", activity_id="kb")],
    )
    child = site.start(
        "decider",
        site.config(
            "decider",
            "child",
            task_list="child_dt",
            spec_file=str(site.spec_file(child_spec, "child")),
            workflow_type_name="childwf",
        ),
    )
    dynamic = site.start(
        "decider",
        site.config(
            "decider",
            "dyn",
            task_list="dyn_dt",
            dynamic=True,
            default_activity_task_list=ACTS,
            workflow_type_name="dynwf",
        ),
    )
    main.wait_for("registration.type", name="mainwf")
    child.wait_for("registration.type", name="childwf")
    dynamic.wait_for("registration.type", name="dynwf")
    worker.wait_for("service.ready")

    run = site.start_workflow("mainwf", "wf-main", input={"day": "monday"})
    tasks = [ActivityTask("ActivityA", "v1", activity_id="x1")]
    dyn_run = site.start_workflow("dynwf", "wf-dyn", input={"activity_tasks": to_jsonable(tasks)})

    result = result_of(site.wait_closed("wf-main", run))
    # The sinks' outputs: the child workflow and the generator's spawned tasks.
    assert set(result) == {"kid", "gen-0", "gen-1"}, result
    assert result["gen-0"] == {"a": "result_a"}
    assert result["kid"] == {"kb": {"b": "result_b"}}
    history = site.history("wf-main", run)
    completed = {
        e["activityTaskCompletedEventAttributes"]["scheduledEventId"]: json.loads(
            e["activityTaskCompletedEventAttributes"]["result"]
        )
        for e in history
        if e["eventType"] == "ActivityTaskCompleted"
    }
    assert {"c": "done", "saw": ["b", "flaky", "wait"]} in completed.values()
    assert "recovered" in completed.values()
    assert result_of(site.wait_closed("wf-dyn", dyn_run)) == {"x1": {"a": "result_a"}}
    assert sum(e["eventType"] == "ActivityTaskFailed" for e in history) == 1
    assert any(e["eventType"] == "TimerFired" for e in history)

    decided = main.wait_for("decision.completed", workflow_id="wf-main", closing=True)
    assert decided["run_id"] == run and decided["task_list"] == "main_dt"
    assert decided["decisions"] == ["CompleteWorkflowExecution"]

    for service in (worker, main, child, dynamic):
        service.send(signal.SIGTERM)
    assert [s.stop() for s in (worker, main, child, dynamic)] == [0, 0, 0, 0]
    messages = notify.messages
    assert messages[0].startswith("READY=1\nSTATUS=polling main_dt")
    assert any(m.startswith("STATUS=polling main_dt: ") and "decided" in m for m in messages)
    assert "STOPPING=1" in messages
    assert "service.stopped" in main.events()
