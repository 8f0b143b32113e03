"""Large payloads on the worker's side: a task's input resolved before the body runs, its
result stored before SWF hears of it, and every way that can fail recorded as the task's
failure, never as a lost task or a crashed lane.

The store is a dict (:class:`tests.worker.helpers.MemoryStore`); SWF is the embedded one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from flotod.config import load_config
from flotod.localswf import in_process_s3_client
from flotod.localswf.backend import LocalSWFBackend
from flotod.payloads import Payloads, is_envelope, parse_envelope
from flotod.payloads.reference import split_uri
from flotod.services.process import ServiceProcess
from flotod.services.worker import _Runner
from flotod.specs import tasks_from_list
from flotod.swf import RetryPolicy, SwfClient
from flotod.swf.s3 import S3Store
from flotod.worker import ActivityWorker

from .activities import REGISTRY, RUNS
from .helpers import WORK, MemoryStore, Scheduler, running, wait_for

FAST = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
BUCKET = "flotod-payloads"


def _payloads(store: MemoryStore, **kwargs: Any) -> Payloads:
    return Payloads(store, bucket=BUCKET, prefix="flotod/", **kwargs)


def _worker(
    swf: SwfClient, scheduler: Scheduler, store: MemoryStore, **kwargs: Any
) -> ActivityWorker:
    return ActivityWorker(
        scheduler.domain,
        WORK,
        swf=swf,
        registry=REGISTRY,
        report_retry=FAST,
        payloads=_payloads(store),
        **kwargs,
    )


def _files(count: int) -> dict[str, Any]:
    return {"files": [f"s3://raw/day-{i:07d}.json" for i in range(count)]}


def _stored_input(store: MemoryStore, scheduler: Scheduler, value: Any, name: str) -> str:
    """``value`` as a decider with the same rules would schedule it: an envelope."""
    text = json.dumps(value)
    envelope = _payloads(store).encode(
        text, workflow_id=scheduler.workflow_id, run_id=scheduler.run_id, name=name
    )
    assert is_envelope(envelope) and len(envelope) < 500
    return envelope


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_large_input_is_resolved_and_large_result_stored(
    swf: SwfClient, scheduler: Scheduler, executor: str
) -> None:
    store = MemoryStore()
    files = _files(40_000)  # ~1.1 MB of JSON
    scheduler.schedule(
        ("in", "measure", "1", _stored_input(store, scheduler, files, "in")),
        ("out", "manifest", "1", {"bytes": 1_000_000}),
    )
    with running(_worker(swf, scheduler, store, executor=executor, concurrency=2)):
        closed = scheduler.wait_closed(2)
    assert all(c["type"] == "ActivityTaskCompleted" for c in closed.values()), closed
    assert json.loads(closed["in"]["result"]) == {
        "count": 40_000,
        "first": files["files"][0],
        "last": files["files"][-1],
    }
    reported = closed["out"]["result"]
    reference = parse_envelope(reported)
    assert len(reported) < 500 and reference.size > 1_000_000
    bucket, key = split_uri(reference.uri)
    assert bucket == BUCKET
    assert key.startswith(f"flotod/{scheduler.workflow_id}/{scheduler.run_id}/out/")
    value = json.loads(Payloads(store, bucket=BUCKET).decode(reported))
    assert len(value["files"]) == 1_000_000 // 32


def test_missing_input_object_fails_the_task_and_nothing_runs(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    RUNS.pop("gone", None)
    store = MemoryStore()
    envelope = _stored_input(store, scheduler, _files(5_000), "gone")
    store.objects.clear()  # an object a lifecycle rule expired, or someone deleted
    scheduler.schedule(("gone", "measure", "1", envelope))
    with running(_worker(swf, scheduler, store)):
        closed = scheduler.wait_closed(1)
    failed = closed["gone"]
    assert failed["type"] == "ActivityTaskFailed"
    assert failed["reason"] == "payload_missing"
    details = json.loads(failed["details"])
    assert details["reason"] == "payload_missing"
    assert details["uri"] == parse_envelope(envelope).uri
    assert details["uri"] in details["message"]
    assert "gone" not in RUNS


def test_tampered_input_object_fails_the_task_and_nothing_runs(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    RUNS.pop("tampered", None)
    store = MemoryStore()
    envelope = _stored_input(store, scheduler, _files(5_000), "tampered")
    (where,) = store.objects
    store.objects[where] = store.objects[where].replace(b"day-0000001", b"day-9999999")
    scheduler.schedule(("tampered", "measure", "1", envelope))
    with running(_worker(swf, scheduler, store)):
        closed = scheduler.wait_closed(1)
    failed = closed["tampered"]
    assert (failed["type"], failed["reason"]) == ("ActivityTaskFailed", "payload_tampered")
    details = json.loads(failed["details"])
    assert details["uri"] == parse_envelope(envelope).uri
    assert "SHA-256" in details["message"]
    assert "tampered" not in RUNS


def test_a_store_outage_on_put_delays_the_result_but_delivers_it_once(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    store = MemoryStore()
    store.put_faults = 3
    scheduler.schedule(("out", "manifest", "1", {"bytes": 100_000}))
    worker = _worker(swf, scheduler, store)
    with running(worker):
        closed = scheduler.wait_closed(1)
    assert closed["out"]["type"] == "ActivityTaskCompleted"
    value = json.loads(Payloads(store, bucket=BUCKET).decode(closed["out"]["result"]))
    assert len(value["files"]) == 100_000 // 32
    assert store.puts == 4 and len(store.objects) == 1
    completions = [e for e in scheduler.events() if e["eventType"] == "ActivityTaskCompleted"]
    assert len(completions) == 1
    assert (worker.stats.finished, worker.stats.failed) == (1, 0)


def test_a_store_outage_on_get_is_waited_out(swf: SwfClient, scheduler: Scheduler) -> None:
    RUNS.pop("later", None)
    store = MemoryStore()
    envelope = _stored_input(store, scheduler, _files(5_000), "later")
    store.get_faults = 3
    scheduler.schedule(("later", "measure", "1", envelope))
    with running(_worker(swf, scheduler, store)):
        closed = scheduler.wait_closed(1)
    assert closed["later"]["type"] == "ActivityTaskCompleted", closed
    assert json.loads(closed["later"]["result"])["count"] == 5_000
    assert store.gets == 4 and RUNS["later"] == 1


def test_a_store_outage_longer_than_the_tasks_share_fails_it_as_unavailable(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    """short_lived is registered with a 4 s start-to-close: the worker waits half of it."""
    RUNS.pop("outage", None)
    store = MemoryStore()
    envelope = _stored_input(store, scheduler, _files(5_000), "outage")
    store.get_faults = -1
    scheduler.schedule(("outage", "short_lived", "1", envelope))
    with running(_worker(swf, scheduler, store)):
        closed = scheduler.wait_closed(1, timeout=10)
    failed = closed["outage"]
    assert (failed["type"], failed["reason"]) == ("ActivityTaskFailed", "payload_unavailable")
    details = json.loads(failed["details"])
    assert details["uri"] == parse_envelope(envelope).uri
    assert "connection reset by peer" in details["message"]
    assert store.gets >= 3 and "outage" not in RUNS


def test_large_results_without_a_bucket_still_fail_as_too_large(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    scheduler.schedule(("big", "manifest", "1", {"bytes": 40_000}))
    worker = ActivityWorker(
        scheduler.domain, WORK, swf=swf, registry=REGISTRY, payloads=Payloads.off()
    )
    with running(worker):
        closed = scheduler.wait_closed(1)
    assert closed["big"]["reason"] == "result too large"
    assert "SWF allows 32768" in closed["big"]["details"]
    assert (worker.stats.finished, worker.stats.failed) == (0, 1)


def test_compressed_results_stay_in_swf_when_they_fit(swf: SwfClient, scheduler: Scheduler) -> None:
    store = MemoryStore()
    scheduler.schedule(("zip", "manifest", "1", {"bytes": 200_000}))
    worker = ActivityWorker(
        scheduler.domain,
        WORK,
        swf=swf,
        registry=REGISTRY,
        payloads=_payloads(store, compress=True),
    )
    with running(worker):
        closed = scheduler.wait_closed(1)
    result = closed["zip"]["result"]
    assert parse_envelope(result).encoding == "zlib" and store.puts == 0
    assert len(json.loads(Payloads.off().decode(result))["files"]) == 200_000 // 32


def test_the_worker_service_uses_its_process_payload_rules(swf: SwfClient, tmp_path: Path) -> None:
    path = tmp_path / "flotod.toml"
    path.write_text(
        '[swf]\nendpoint_url = "http://127.0.0.1:9"\n'
        '[worker.w]\ntask_list = "t"\nmodules = ["json"]\n'
    )
    payloads = _payloads(MemoryStore())
    proc = ServiceProcess(load_config(path, "worker"), swf, payloads=payloads)
    runner = _Runner(proc)
    assert runner.worker.payloads is payloads


def test_large_generator_output_is_stored_like_a_result(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    store = MemoryStore()
    days = [f"day-{i:05d}" for i in range(2_000)]  # ~150 KB of task JSON
    scheduler.schedule(("g", "gen", "1", {"days": days}))
    with running(_worker(swf, scheduler, store)):
        closed = scheduler.wait_closed(1)
    result = closed["g"]["result"]
    assert is_envelope(result) and store.puts == 1
    tasks = tasks_from_list(json.loads(Payloads(store, bucket=BUCKET).decode(result)))
    assert [t.input for t in tasks] == [{"value": d} for d in days]  # type: ignore[attr-defined]


def test_a_quick_stop_bounds_a_store_outage_on_put_and_says_the_result_is_lost(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    store = MemoryStore()
    store.put_faults = 1_000_000
    scheduler.schedule(("out", "manifest", "1", {"bytes": 100_000}))
    worker = _worker(swf, scheduler, store, quick_stop_report_seconds=0.5)
    with structlog.testing.capture_logs() as logs:
        started = time.monotonic()
        with running(worker, now=True):
            wait_for(lambda: store.puts >= 3)
        assert time.monotonic() - started < 10
    lost = [e for e in logs if e["event"] == "activity.report_lost"]
    assert len(lost) == 1 and "SlowDown" in lost[0]["error"]
    assert [e["eventType"] for e in scheduler.events()][-1] == "ActivityTaskStarted"


def test_values_go_through_the_embedded_s3(
    swf: SwfClient, scheduler: Scheduler, swf_backend: LocalSWFBackend
) -> None:
    """The same, with the S3 store the services use, on the embedded endpoint's S3."""
    swf_backend.s3.create_bucket(BUCKET)
    store = S3Store(in_process_s3_client(swf_backend))
    files = _files(40_000)
    writer = Payloads(store, bucket=BUCKET, prefix="flotod/")
    envelope = writer.encode(
        json.dumps(files), workflow_id=scheduler.workflow_id, run_id=scheduler.run_id, name="in"
    )
    altered = writer.encode(
        json.dumps(_files(2_000)),
        workflow_id=scheduler.workflow_id,
        run_id=scheduler.run_id,
        name="bad",
    )
    bucket, key = split_uri(parse_envelope(altered).uri)
    store.client.put_object(Bucket=bucket, Key=key, Body=b'{"files": ["elsewhere"]}')
    scheduler.schedule(
        ("in", "measure", "1", envelope),
        ("out", "manifest", "1", {"bytes": 1_000_000}),
        ("bad", "measure", "1", altered),
    )
    worker = ActivityWorker(
        scheduler.domain,
        WORK,
        swf=swf,
        registry=REGISTRY,
        concurrency=3,
        payloads=Payloads(store, bucket=BUCKET, prefix="flotod/"),
    )
    with running(worker):
        closed = scheduler.wait_closed(3)
    assert json.loads(closed["in"]["result"])["count"] == 40_000
    reader = Payloads(store, bucket=BUCKET)
    assert len(json.loads(reader.decode(closed["out"]["result"]))["files"]) == 1_000_000 // 32
    assert closed["bad"]["reason"] == "payload_tampered"
    assert json.loads(closed["bad"]["details"])["uri"] == parse_envelope(altered).uri
