"""Each way a decision task ends is its own outcome, against the embedded SWF in process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from flotod.config import load_config
from flotod.engine.handlers import Answer, SpecHandler
from flotod.localswf import in_process_client, make_backend
from flotod.metrics.prometheus import PrometheusMetrics
from flotod.services.decisions import handle_decision_task
from flotod.services.process import ServiceProcess
from flotod.specs import ActivityTask, DeciderSpec
from flotod.swf import DecisionTask, SwfClient
from tests.metrics.test_names import samples

DOMAIN = "outcomes"


@pytest.fixture
def proc(tmp_path: Path) -> Iterator[ServiceProcess]:
    backend = make_backend(poll_timeout=1.0)
    swf = SwfClient.from_boto(in_process_client(backend))
    swf.register_domain(DOMAIN, 1)
    swf.register_workflow_type(DOMAIN, "wf", "1", task_list="dt")
    path = tmp_path / "flotod.toml"
    path.write_text(f'[swf]\ndomain = "{DOMAIN}"\n[decider.d]\ntask_list = "dt"\ndynamic = true\n')
    service = ServiceProcess(load_config(path, "decider"), swf)
    service.metrics = swf.metrics = PrometheusMetrics("decider", "d")
    yield service
    backend.close()


class Fixed:
    """A handler answering every task with the same decisions (or raising)."""

    def __init__(self, decisions: list[dict[str, Any]] | None) -> None:
        self.decisions = decisions

    def __call__(self, task: DecisionTask) -> Answer:
        if self.decisions is None:
            raise RuntimeError("a bug in the decider")
        return Answer(list(self.decisions))

    def forget(self, workflow_id: str, run_id: str) -> None:
        pass


def task_of(proc: ServiceProcess, workflow_id: str) -> DecisionTask:
    proc.swf.start_workflow_execution(DOMAIN, workflow_id, "wf", "1", task_list="dt")
    task = proc.swf.poll_for_decision_task(DOMAIN, "dt")
    assert task is not None
    return task


def test_completed_rejected_incomplete_and_crashed(proc: ServiceProcess) -> None:
    complete: dict[str, Any] = {"decisionType": "CompleteWorkflowExecution"}
    too_long: dict[str, Any] = {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "999999999"},
    }
    handle_decision_task(proc, task_of(proc, "ok"), Fixed([complete]), "dt")
    handle_decision_task(proc, task_of(proc, "refused"), Fixed([too_long]), "dt")
    crashed = task_of(proc, "crashed")
    handle_decision_task(proc, crashed, Fixed(None), "dt")
    partial = replace(task_of(proc, "partial"), events=crashed.events[1:])
    spec = DeciderSpec(domain=DOMAIN, task_list="dt", activity_tasks=[ActivityTask("A", "1")])
    handle_decision_task(proc, partial, SpecHandler(spec), "dt")
    metrics = proc.metrics
    assert isinstance(metrics, PrometheusMetrics)
    outcomes = {
        dict(labels)["outcome"]: n
        for labels, n in samples(metrics, "flotod_decision_tasks_total").items()
    }
    assert outcomes == {"completed": 1, "rejected": 1, "crashed": 1, "history_incomplete": 1}
    assert samples(metrics, "flotod_polls_total") == {
        (("kind", "decision"), ("outcome", "task")): 4
    }
    errors = samples(metrics, "flotod_swf_errors_total")
    assert list(errors) == [
        (("code", "ValidationException"), ("operation", "RespondDecisionTaskCompleted"))
    ]
