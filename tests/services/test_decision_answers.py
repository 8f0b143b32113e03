"""How a decision poller answers what the engine or SWF refuses, against the embedded SWF."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from flotod.config import load_config
from flotod.engine.handlers import Answer, SpecHandler
from flotod.engine.versions import VersionedHandler
from flotod.localswf import in_process_client, make_backend
from flotod.services.decisions import handle_decision_task
from flotod.services.process import ServiceProcess
from flotod.specs import ActivityTask, DeciderSpec
from flotod.swf import DecisionTask, SwfClient

DOMAIN = "answers"


@pytest.fixture
def proc(tmp_path: Path) -> Iterator[ServiceProcess]:
    backend = make_backend(poll_timeout=1.0)
    swf = SwfClient.from_boto(in_process_client(backend))
    swf.register_domain(DOMAIN, 1)
    swf.register_workflow_type(DOMAIN, "wf", "1", task_list="dt")
    swf.register_activity_type(DOMAIN, "A", "1", task_list="at")
    path = tmp_path / "flotod.toml"
    path.write_text(f'[swf]\ndomain = "{DOMAIN}"\n[decider.d]\ntask_list = "dt"\ndynamic = true\n')
    yield ServiceProcess(load_config(path, "decider"), swf)
    backend.close()


def first_task(proc: ServiceProcess) -> tuple[DecisionTask, str, str]:
    workflow_id = f"w-{uuid.uuid4().hex[:8]}"
    run_id = proc.swf.start_workflow_execution(DOMAIN, workflow_id, "wf", "1", task_list="dt")
    task = proc.swf.poll_for_decision_task(DOMAIN, "dt")
    assert task is not None
    return task, workflow_id, run_id


def test_a_response_swf_refuses_fails_the_run_with_swfs_message(proc: ServiceProcess) -> None:
    task, workflow_id, run_id = first_task(proc)
    too_long = {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "999999999"},
    }

    class Refused:
        def __call__(self, task: DecisionTask) -> Answer:
            return Answer([too_long])

        def forget(self, workflow_id: str, run_id: str) -> None:
            pass

    with capture_logs() as logs:
        sent = handle_decision_task(proc, task, Refused(), "dt")
    assert sent is not None and sent[0]["decisionType"] == "FailWorkflowExecution"
    closing = proc.swf.get_workflow_execution_history(DOMAIN, workflow_id, run_id)[-1]
    assert closing["eventType"] == "WorkflowExecutionFailed"
    attrs = closing["workflowExecutionFailedEventAttributes"]
    assert attrs["reason"] == "decision_rejected"
    details = json.loads(attrs["details"])
    assert "startToFireTimeout" in details["error"] and details["refused"] == {"StartTimer": 1}
    assert [r["event"] for r in logs if r["log_level"] == "error"] == ["decision.rejected"]


def test_a_history_that_does_not_start_at_event_1_is_not_answered(proc: ServiceProcess) -> None:
    task, workflow_id, run_id = first_task(proc)
    spec = DeciderSpec(domain=DOMAIN, task_list="dt", activity_tasks=[ActivityTask("A", "1")])
    partial = replace(task, events=task.events[1:])
    with capture_logs() as logs:
        assert handle_decision_task(proc, partial, SpecHandler(spec), "dt") is None
    assert "decision.history_incomplete" in [r["event"] for r in logs]
    kinds = [
        e["eventType"] for e in proc.swf.get_workflow_execution_history(DOMAIN, workflow_id, run_id)
    ]
    assert "DecisionTaskCompleted" not in kinds


def test_a_version_the_decider_has_no_spec_for_is_left_unanswered(proc: ServiceProcess) -> None:
    """Failing the run could not be taken back; unanswered, its task times out and goes to a
    decider that serves the version (or to this one once a reload adds it)."""
    task, workflow_id, run_id = first_task(proc)  # a run of wf:1
    spec = DeciderSpec(domain=DOMAIN, task_list="dt", activity_tasks=[ActivityTask("A", "1")])
    handler = VersionedHandler("wf", {"2": spec})
    with capture_logs() as logs:
        assert handle_decision_task(proc, task, handler, "dt") is None
    [record] = [r for r in logs if r["event"] == "decision.unserved_version"]
    assert record["log_level"] == "error"
    assert record["error"] == "no spec for workflow type wf:1 (this decider serves wf:2)"
    kinds = [
        e["eventType"] for e in proc.swf.get_workflow_execution_history(DOMAIN, workflow_id, run_id)
    ]
    assert "DecisionTaskCompleted" not in kinds
