"""What a scrape shows: the metric names, their types and their (bounded) labels."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from flotod.metrics import NO_METRICS, Metrics
from flotod.metrics.prometheus import PrometheusMetrics
from flotod.swf.histories import HistoryCache
from flotod.swf.types import ActivityTask, WorkflowExecution
from flotod.worker.context import TaskInfo
from flotod.worker.registry import Registry
from flotod.worker.running import RunningTask


def families(metrics: PrometheusMetrics) -> dict[str, Any]:
    text = metrics.exposition().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(metrics: PrometheusMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in families(metrics).values():
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def running(name: str, version: str = "v1", wid: str = "wf-1") -> RunningTask:
    task = ActivityTask(
        task_token="tok",
        activity_id="a1",
        activity_type={"name": name, "version": version},
        input="",
        workflow_execution=WorkflowExecution(wid, "run-1"),
        started_event_id=5,
    )
    info = TaskInfo(wid, "run-1", "a1", name, version, 1, "acts")
    return RunningTask(task, info, None)


def types(metrics: PrometheusMetrics) -> dict[str, str]:
    """Name and type of every family, as the TYPE lines tell Prometheus."""
    lines = metrics.exposition().decode().splitlines()
    return {line.split()[2]: line.split()[3] for line in lines if line.startswith("# TYPE ")}


def test_every_family_is_declared_with_its_type() -> None:
    metrics = PrometheusMetrics("daemon", "main")
    metrics.watch_history(HistoryCache(10))
    found = types(metrics)
    expected = {
        "flotod_activity_tasks_total": "counter",
        "flotod_activity_seconds": "histogram",
        "flotod_decision_tasks_total": "counter",
        "flotod_decision_seconds": "histogram",
        "flotod_swf_errors_total": "counter",
        "flotod_polls_total": "counter",
        "flotod_lanes_busy": "gauge",
        "flotod_history_cache_events": "gauge",
        "flotod_history_cache_hits_total": "counter",
        "flotod_history_cache_misses_total": "counter",
        "flotod_daemon_children_open": "gauge",
        "flotod_daemon_requests_waiting": "gauge",
        "flotod_service_info": "gauge",
        "process_cpu_seconds_total": "counter",  # the process collector, on this registry
        "process_resident_memory_bytes": "gauge",
    }
    assert expected.items() <= found.items()


def test_daemon_gauges_only_in_the_daemon() -> None:
    assert "flotod_daemon_children_open" not in types(PrometheusMetrics("decider", "main"))


def test_activity_outcomes_and_labels_are_bounded() -> None:
    metrics = PrometheusMetrics("worker", "main")
    registry = Registry()
    registry.register("known", "v1", lambda: None)
    for status in ("completed", "completed", "failed", "canceled"):
        metrics.activity_done("acts", running("known"), status, registry)
    # A type this worker does not serve: its name comes from SWF, so it is not a label.
    metrics.activity_done("acts", running("whatever-swf-sent", wid="wf-2"), "failed", registry)
    lost = running("known")
    lost.request_cancel(unknown=True)  # SWF no longer knew the task: it timed out
    metrics.activity_done("acts", lost, "canceled", registry)
    counts = samples(metrics, "flotod_activity_tasks_total")

    def key(activity: str, outcome: str) -> tuple[tuple[str, str], ...]:
        return (("activity", activity), ("outcome", outcome), ("task_list", "acts"))

    assert counts == {
        key("known:v1", "completed"): 2,
        key("known:v1", "failed"): 1,
        key("known:v1", "canceled"): 1,
        key("unregistered", "failed"): 1,
        key("known:v1", "timed_out"): 1,
    }
    observed = samples(metrics, "flotod_activity_seconds_count")
    assert observed == {(("activity", "known:v1"),): 5, (("activity", "unregistered"),): 1}
    text = metrics.exposition().decode()
    assert "wf-1" not in text and "wf-2" not in text and "run-1" not in text


def test_decisions_polls_and_swf_errors() -> None:
    metrics = PrometheusMetrics("decider", "main")
    metrics.decision_done("dt", "completed", 0.02)
    metrics.decision_done("dt", "crashed", 0.001)
    metrics.polled("decision", True)
    metrics.polled("decision", False)
    metrics.polled("decision", False)
    metrics.swf_error("respond_decision_task_completed", "ThrottlingException")
    assert samples(metrics, "flotod_decision_tasks_total") == {
        (("outcome", "completed"), ("task_list", "dt")): 1,
        (("outcome", "crashed"), ("task_list", "dt")): 1,
    }
    assert samples(metrics, "flotod_decision_seconds_count") == {(("task_list", "dt"),): 2}
    assert samples(metrics, "flotod_polls_total") == {
        (("kind", "decision"), ("outcome", "task")): 1,
        (("kind", "decision"), ("outcome", "empty")): 2,
    }
    assert samples(metrics, "flotod_swf_errors_total") == {
        (("code", "ThrottlingException"), ("operation", "RespondDecisionTaskCompleted")): 1
    }


def test_history_cache_lanes_and_daemon_state_are_read_at_scrape_time() -> None:
    metrics = PrometheusMetrics("daemon", "main")
    cache = HistoryCache(100)
    busy = [0]
    metrics.watch_history(cache)
    metrics.watch_poller(lambda: busy[0])
    events = [{"eventId": i} for i in range(1, 4)]
    cache.join("wf", "run", list(reversed(events)))  # a miss
    cache.join("wf", "run", [{"eventId": 4}])  # a hit
    busy[0] = 1
    metrics.daemon_notes([{"event": "daemon.child_starting"}])
    metrics.daemon_notes([{"event": "daemon.state", "level": "debug", "children": 3, "waiting": 7}])
    assert samples(metrics, "flotod_history_cache_hits_total") == {(): 1}
    assert samples(metrics, "flotod_history_cache_misses_total") == {(): 1}
    assert samples(metrics, "flotod_history_cache_events") == {(): 4}
    assert samples(metrics, "flotod_lanes_busy") == {(): 1}
    assert samples(metrics, "flotod_daemon_children_open") == {(): 3}
    assert samples(metrics, "flotod_daemon_requests_waiting") == {(): 7}


def test_registries_are_per_instance() -> None:
    one, two = PrometheusMetrics("decider", "a"), PrometheusMetrics("decider", "b")
    one.polled("decision", True)
    assert samples(two, "flotod_polls_total") == {}


def test_off_is_a_no_op_sink() -> None:
    assert isinstance(NO_METRICS, Metrics)
    NO_METRICS.polled("activity", True)
    NO_METRICS.decision_done("dt", "completed", 0.1)
    NO_METRICS.close()


def test_server_serves_metrics_only(free_port: int) -> None:
    from flotod.metrics.server import MetricsServer

    metrics = PrometheusMetrics("worker", "main")
    server = MetricsServer("127.0.0.1", free_port, metrics.registry)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/metrics", timeout=5) as r:
            assert r.status == 200
            assert b"flotod_service_info" in r.read()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{free_port}/other", timeout=5)
        assert info.value.code == 404
    finally:
        server.close()


def test_process_metrics_without_proc_stat(tmp_path: Path) -> None:
    """The units' ProcSubset=pid hides /proc/stat; the process metrics must not vanish."""
    (tmp_path / "self").symlink_to("/proc/self")  # a /proc with this process and no stat
    metrics = PrometheusMetrics("worker", "main", proc=str(tmp_path))
    found = samples(metrics, "process_start_time_seconds")
    [started] = found.values()
    assert abs(started - time.time()) < 3600  # this test process started recently
    assert samples(metrics, "process_resident_memory_bytes")
