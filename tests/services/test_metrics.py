"""Scraping real flotod processes after real workflows: the counts match the histories."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from flotod.errors import EX_CONFIG
from flotod.specs import ActivityTask, DeciderSpec, InstantRetry, to_jsonable
from tests.services.conftest import Site, eventually, result_of

pytestmark = pytest.mark.slow

ACTS = "metrics_acts"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def count(history: list[dict[str, object]], kind: str) -> int:
    return sum(e["eventType"] == kind for e in history)


def test_decider_and_worker_count_what_the_history_shows(site: Site) -> None:
    worker_port, decider_port = free_port(), free_port()
    worker = site.start(
        "worker",
        site.config(
            "worker",
            task_list=ACTS,
            modules=["tests.services.acts"],
            concurrency=3,
            metrics_listen=f"127.0.0.1:{worker_port}",
        ),
    )
    a = ActivityTask("ActivityA", "v1", activity_id="a")
    b = ActivityTask("ActivityB", "v1", activity_id="b")
    flaky = ActivityTask("flaky", "v1", activity_id="flaky", retry_strategy=InstantRetry(2))
    c = ActivityTask("ActivityC", "v1", activity_id="c", requires=[a, b, flaky])
    spec = DeciderSpec(
        domain=site.domain,
        task_list="metrics_dt",
        default_activity_task_list=ACTS,
        activity_tasks=[a, b, flaky, c],
    )
    decider = site.start(
        "decider",
        site.config(
            "decider",
            task_list="metrics_dt",
            spec_file=str(site.spec_file(spec)),
            workflow_type_name="metricswf",
            metrics_listen=f"127.0.0.1:{decider_port}",
        ),
    )
    decider.wait_for("service.ready")
    worker.wait_for("service.ready")

    histories = []
    for n in range(2):
        run = site.start_workflow("metricswf", f"wf-{n}")
        assert result_of(site.wait_closed(f"wf-{n}", run))["c"]["c"] == "done"
        histories.append(site.history(f"wf-{n}", run))
    decided = sum(count(h, "DecisionTaskCompleted") for h in histories)
    completed = sum(count(h, "ActivityTaskCompleted") for h in histories)
    assert sum(count(h, "ActivityTaskFailed") for h in histories) == 2  # flaky, once per run

    # The worker reports before SWF's event is visible to us; the decider answers before the
    # closing event exists. Both are settled by the time the closing event is read.
    d = scrape(decider_port)
    assert value(d, "flotod_decision_tasks_total", task_list="metrics_dt", outcome="completed") == (
        decided
    )
    assert total(d, "flotod_decision_tasks_total") == decided
    assert value(d, "flotod_decision_seconds_count", task_list="metrics_dt") == decided
    assert value(d, "flotod_polls_total", kind="decision", outcome="task") == decided
    # One decider per task list: each run's first task misses the cache, the rest hit it.
    assert value(d, "flotod_history_cache_misses_total") == 2
    assert value(d, "flotod_history_cache_hits_total") == decided - 2
    assert value(d, "flotod_history_cache_events") == 0  # closed runs are forgotten
    assert value(d, "flotod_lanes_busy") == 0
    assert value(d, "process_resident_memory_bytes") > 0
    assert total(d, "flotod_swf_errors_total") == 0

    w = scrape(worker_port)
    tasks = "flotod_activity_tasks_total"
    for name in ("ActivityA:v1", "ActivityB:v1", "ActivityC:v1"):
        assert value(w, tasks, task_list=ACTS, activity=name, outcome="completed") == 2
    assert value(w, tasks, task_list=ACTS, activity="flaky:v1", outcome="failed") == 2
    assert value(w, tasks, task_list=ACTS, activity="flaky:v1", outcome="completed") == 2
    assert total(w, tasks) == completed + 2
    assert value(w, "flotod_activity_seconds_count", activity="flaky:v1") == 4
    assert value(w, "flotod_polls_total", kind="activity", outcome="task") == completed + 2
    assert value(w, "flotod_lanes_busy") == 0
    assert "wf-0" not in json.dumps(list(w))

    for service in (worker, decider):
        service.send(signal.SIGTERM)
    assert [s.stop() for s in (worker, decider)] == [0, 0]


def test_daemon_gauges_follow_its_children(site: Site) -> None:
    port = free_port()
    worker = site.start(
        "worker", site.config("worker", task_list=ACTS, modules=["tests.services.acts"])
    )
    daemon = site.start(
        "daemon", site.config("daemon", max_children=1, metrics_listen=f"127.0.0.1:{port}")
    )
    worker.wait_for("service.ready")
    daemon.wait_for("daemon.workflow_started")
    spec = DeciderSpec(
        domain=site.domain,
        default_activity_task_list=ACTS,
        activity_tasks=[ActivityTask("slow", "v1", activity_id="s")],
    )
    # One child at a time, each sleeping 2 s: the first runs while the other two wait.
    for i in range(3):
        payload = {
            "decider_spec": to_jsonable(spec),
            "workflow_id": f"job-{i}",
            "input": {"seconds": 2},
        }
        site.client.signal_workflow_execution(
            domain=site.domain,
            workflowId="flotod_daemon",
            signalName="startChildWorkflowExecution",
            input=json.dumps(payload),
        )

    def gauges() -> tuple[float, float]:
        s = scrape(port)
        return (
            value(s, "flotod_daemon_children_open"),
            value(s, "flotod_daemon_requests_waiting"),
        )

    eventually(lambda: gauges() == (1, 2), timeout=30, what="one child open, two waiting")
    eventually(lambda: gauges() == (1, 1), timeout=30, what="the second child open, one waiting")
    eventually(lambda: gauges() == (0, 0), timeout=60, what="every child done")
    s = scrape(port)
    assert value(s, "flotod_decision_tasks_total", task_list="flotod_daemon", outcome="completed")
    assert total(s, "flotod_decision_tasks_total") == value(
        s, "flotod_polls_total", kind="decision", outcome="task"
    )
    for service in (worker, daemon):
        service.send(signal.SIGTERM)
    assert [s.stop() for s in (worker, daemon)] == [0, 0]


def test_a_port_in_use_is_a_config_error_at_start(site: Site) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = site.start(
            "decider",
            site.config(
                "decider", task_list="dt", dynamic=True, metrics_listen=f"127.0.0.1:{port}"
            ),
        )
        assert service.proc.wait(30) == EX_CONFIG
    text = service.log_path.read_text()
    assert "Traceback" not in text
    assert f"decider.main.metrics_listen: cannot listen on 127.0.0.1:{port}" in text
    assert "in use" in text
    assert "service.ready" not in text


def test_no_workflow_or_run_id_in_the_output(site: Site) -> None:
    port = free_port()
    decider = site.start(
        "decider",
        site.config(
            "decider",
            task_list="dyn_dt",
            dynamic=True,
            default_activity_task_list=ACTS,
            workflow_type_name="dynwf",
            metrics_listen=f"127.0.0.1:{port}",
        ),
    )
    worker = site.start(
        "worker", site.config("worker", task_list=ACTS, modules=["tests.services.acts"])
    )
    decider.wait_for("service.ready")
    tasks = [ActivityTask("ActivityA", "v1", activity_id="x1")]
    run = site.start_workflow("dynwf", "wf-secret-id", input={"activity_tasks": to_jsonable(tasks)})
    result_of(site.wait_closed("wf-secret-id", run))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert "wf-secret-id" not in text and run not in text
    assert 'flotod_decision_tasks_total{outcome="completed",task_list="dyn_dt"}' in text
    for service in (worker, decider):
        service.send(signal.SIGTERM)
    assert [s.stop() for s in (worker, decider)] == [0, 0]
