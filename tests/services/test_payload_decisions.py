"""The decider service with large payloads, against the embedded SWF.

The decision poller runs on its lanes (sticky on, the history cache on) as in flotod-decider;
the test plays the worker: it takes activity tasks from SWF and completes them with results
encoded as a worker does (its own :class:`Payloads` on the same store, so the decider reads
the store rather than a cache). The store is the dict store of the codec's tests.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from flotod.config import load_config
from flotod.engine.decisions import MAX_PAYLOAD
from flotod.errors import UnknownResourceError
from flotod.localswf import in_process_client, make_backend
from flotod.payloads import Payloads, PayloadUnavailable, is_envelope
from flotod.services.daemon import daemon_poller
from flotod.services.decider import decider_poller
from flotod.services.process import ServiceProcess
from flotod.services.registration import register, types_for
from flotod.specs import ActivityTask, DeciderSpec, dumps, to_jsonable
from flotod.swf import SwfClient
from tests.payloads.test_codec import DictStore

DOMAIN = "payloads"
EXTRACT = ActivityTask("Extract", "1")
LOAD = ActivityTask("Load", "1", requires=[EXTRACT])


class FlakyStore(DictStore):
    """A store that can be down for reads or for writes (an S3 outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused = ""  # keys holding this cannot be written (for now)

    def get(self, bucket: str, key: str) -> bytes:
        if self.down:
            raise PayloadUnavailable("connection refused")
        return super().get(bucket, key)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if self.refused and self.refused in key:
            raise PayloadUnavailable(f"cannot write s3://{bucket}/{key}", f"s3://{bucket}/{key}")
        super().put(bucket, key, data)


class Site:
    def __init__(self, tmp: Path) -> None:
        self.backend = make_backend(poll_timeout=1.0)
        self.swf = SwfClient.from_boto(in_process_client(self.backend))
        self.swf.register_domain(DOMAIN, 1)
        self.swf.register_workflow_type(DOMAIN, "etl", "1", task_list="dt", task_start_to_close=3)
        for name in ("Extract", "Load"):
            self.swf.register_activity_type(DOMAIN, name, "1", task_list="at")
        spec = DeciderSpec(
            domain=DOMAIN,
            task_list="dt",
            default_activity_task_list="at",
            activity_tasks=[EXTRACT, LOAD],
        )
        (tmp / "spec.json").write_text(dumps(spec))
        path = tmp / "flotod.toml"
        path.write_text(
            f'[swf]\ndomain = "{DOMAIN}"\n[decider.d]\ntask_list = "dt"\n'
            f'spec_file = "{tmp / "spec.json"}"\n'
        )
        self.config = load_config(path, "decider")
        self.store = FlakyStore()
        # What a worker process writes with: same bucket and prefix, a cache of its own.
        self.worker = Payloads(self.store, bucket="b", prefix="flotod/")

    def decider(self, payloads: Payloads | None) -> Iterator[ServiceProcess]:
        proc = ServiceProcess(self.config, self.swf, payloads=payloads)
        poller = decider_poller(proc)
        poller.start(proc)
        try:
            yield proc
        finally:
            poller.stop(quick=False)
            deadline = time.monotonic() + 10
            while poller.in_hand() and time.monotonic() < deadline:
                time.sleep(0.05)

    def start(self) -> tuple[str, str]:
        workflow_id = f"etl-{uuid.uuid4().hex[:8]}"
        return workflow_id, self.swf.start_workflow_execution(
            DOMAIN, workflow_id, "etl", "1", task_list="dt", input="{}"
        )

    def complete(self, name: str, result: str, encode: bool = True) -> str:
        """Take the next activity task (it must be ``name``) and complete it; its input."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            task = self.swf.poll_for_activity_task(DOMAIN, "at")
            if task is None:
                continue
            assert task.name == name
            execution = task.workflow_execution
            text = result
            if encode:
                text = self.worker.encode(
                    result,
                    workflow_id=execution.workflow_id,
                    run_id=execution.run_id,
                    name=task.activity_id,
                )
            self.swf.respond_activity_task_completed(task.task_token, text)
            return task.input
        raise AssertionError(f"no {name} task")

    def closing(self, workflow_id: str, run_id: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.swf.get_workflow_execution_history(DOMAIN, workflow_id, run_id)
            if events[-1]["eventType"].startswith("WorkflowExecution") and events[-1][
                "eventType"
            ] not in ("WorkflowExecutionStarted", "WorkflowExecutionSignaled"):
                return events[-1]
            time.sleep(0.1)
        raise AssertionError(f"{workflow_id} did not close: {[e['eventType'] for e in events]}")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    yield s
    s.backend.close()


def big(n: int = 1_000_000, mark: str = "x") -> str:
    return json.dumps({"rows": [mark * 90 + f"{i:08d}" for i in range(n // 100)]})


def test_a_1mb_result_reaches_the_next_activity_and_the_workflow_result(site: Site) -> None:
    decider_payloads = Payloads(site.store, bucket="b", prefix="flotod/")
    extracted, loaded = big(), big(mark="y")
    for _ in site.decider(decider_payloads):
        workflow_id, run_id = site.start()
        site.complete("Extract", extracted)
        load_input = site.complete("Load", loaded)
        closing = site.closing(workflow_id, run_id)

    assert is_envelope(load_input)
    uri = json.loads(load_input)["uri"]
    assert uri.startswith(f"s3://b/flotod/{workflow_id}/{run_id}/{LOAD.id_}/")
    context = json.loads(site.worker.decode(load_input))
    assert context[EXTRACT.id_] == json.loads(extracted)

    assert closing["eventType"] == "WorkflowExecutionCompleted"
    result = closing["workflowExecutionCompletedEventAttributes"]["result"]
    assert is_envelope(result)
    assert f"/{workflow_id}/{run_id}/result/" in json.loads(result)["uri"]
    reader = Payloads(site.store, bucket="b")
    assert json.loads(reader.decode(result)) == {LOAD.id_: json.loads(loaded)}


def failure(closing: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    assert closing["eventType"] == "WorkflowExecutionFailed", closing
    attrs = closing["workflowExecutionFailedEventAttributes"]
    return attrs["reason"], json.loads(attrs["details"])


class Losing(FlakyStore):
    """Objects are gone as soon as written (as under a lifecycle rule far too short)."""

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.puts += 1


def test_a_missing_object_fails_the_workflow_naming_its_uri(site: Site) -> None:
    site.store = Losing()
    site.worker = Payloads(site.store, bucket="b", prefix="flotod/")
    for _ in site.decider(Payloads(site.store, bucket="b", prefix="flotod/")):
        workflow_id, run_id = site.start()
        with capture_logs() as logs:
            site.complete("Extract", big())
            closing = site.closing(workflow_id, run_id)
    reason, details = failure(closing)
    assert reason == "payload_missing"
    assert details["uri"].startswith(f"s3://b/flotod/{workflow_id}/{run_id}/{EXTRACT.id_}/")
    assert details["event"].startswith("ActivityTaskCompleted ")
    assert details["task"] == EXTRACT.id_
    assert "decision.payload_unresolved" in [r["event"] for r in logs]


def test_a_tampered_object_fails_the_workflow_with_payload_tampered(site: Site) -> None:
    class Tampering(FlakyStore):
        def put(self, bucket: str, key: str, data: bytes) -> None:
            super().put(bucket, key, data.replace(b"x", b"z", 1))

    site.store = Tampering()
    site.worker = Payloads(site.store, bucket="b", prefix="flotod/")
    for _ in site.decider(Payloads(site.store, bucket="b", prefix="flotod/")):
        workflow_id, run_id = site.start()
        site.complete("Extract", big())
        closing = site.closing(workflow_id, run_id)
    reason, details = failure(closing)
    assert reason == "payload_tampered"
    assert details["uri"].startswith("s3://b/flotod/")


def test_payloads_off_a_large_result_still_fails_with_payload_too_large(site: Site) -> None:
    for _ in site.decider(None):
        workflow_id, run_id = site.start()
        result = json.dumps("x" * 32_760)  # fits SWF; the next task's input will not
        site.complete("Extract", result, encode=False)
        closing = site.closing(workflow_id, run_id)
    reason, details = failure(closing)
    assert reason == "payload_too_large"
    assert details["limit"] == MAX_PAYLOAD and details["task"] == LOAD.id_


def test_a_store_that_is_down_leaves_the_task_to_come_back(site: Site) -> None:
    """Not answered (a warning naming the URI), the lanes live on, and once the store is
    back the redelivered task (after the 3 s decision timeout) is decided."""
    for _ in site.decider(Payloads(site.store, bucket="b", prefix="flotod/")):
        workflow_id, run_id = site.start()
        with capture_logs() as logs:
            site.store.down = True
            site.complete("Extract", big())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                r["event"] == "decision.payload_unavailable" for r in logs
            ):
                time.sleep(0.05)
            site.store.down = False
            load_input = site.complete("Load", "{}")
            closing = site.closing(workflow_id, run_id)
    warning = next(r for r in logs if r["event"] == "decision.payload_unavailable")
    assert warning["log_level"] == "warning"
    assert warning["uri"].startswith(f"s3://b/flotod/{workflow_id}/{run_id}/")
    assert is_envelope(load_input)
    assert closing["eventType"] == "WorkflowExecutionCompleted"
    assert "decision.lane_crashed" not in [r["event"] for r in logs]


def test_a_store_that_cannot_take_a_decisions_payload_leaves_the_task_to_come_back(
    site: Site,
) -> None:
    """Encoding the next task's input fails for now: nothing is sent (a warning naming the
    object), and the redelivered task schedules it once the store takes writes again."""
    decider_payloads = Payloads(site.store, bucket="b", prefix="flotod/")
    for _ in site.decider(decider_payloads):
        workflow_id, run_id = site.start()
        with capture_logs() as logs:
            site.store.refused = f"/{LOAD.id_}/"
            site.complete("Extract", big())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                r["event"] == "decision.payload_unavailable" for r in logs
            ):
                time.sleep(0.05)
            site.store.refused = ""
            load_input = site.complete("Load", "{}")
            closing = site.closing(workflow_id, run_id)
    warning = next(r for r in logs if r["event"] == "decision.payload_unavailable")
    assert f"/{workflow_id}/{run_id}/{LOAD.id_}/" in warning["uri"]
    assert is_envelope(load_input)
    assert closing["eventType"] == "WorkflowExecutionCompleted"


def test_the_daemon_starts_a_child_from_a_large_signal(tmp_path: Path) -> None:
    """The signal's input is a reference (a 200 KB child input); the daemon resolves it,
    starts the child with its input encoded, and decides for the child, whose activity gets
    its input as a reference to the workflow input it was signalled."""
    backend = make_backend(poll_timeout=1.0)
    swf = SwfClient.from_boto(in_process_client(backend))
    swf.register_domain(DOMAIN, 1)
    path = tmp_path / "flotod.toml"
    path.write_text(
        f'[swf]\ndomain = "{DOMAIN}"\n[daemon.main]\nallowed_task_lists = ["*"]\n'
        'allowed_child_workflow_types = ["*"]\n'
    )
    config = load_config(path, "daemon")
    register(swf, DOMAIN, types_for(config))
    swf.register_activity_type(DOMAIN, "Extract", "1", task_list="at")
    store = DictStore()
    sender = Payloads(store, bucket="b", prefix="flotod/")
    proc = ServiceProcess(config, swf, payloads=Payloads(store, bucket="b", prefix="flotod/"))
    poller = daemon_poller(proc)
    poller.start(proc)
    try:
        spec = DeciderSpec(domain=DOMAIN, default_activity_task_list="at", activity_tasks=[EXTRACT])
        value = json.loads(big(200_000))
        request = json.dumps({"decider_spec": to_jsonable(spec), "workflow_id": "job-1",
                              "input": value})  # fmt: skip
        signal = sender.encode(request, workflow_id="sender", run_id="", name="request")
        assert is_envelope(signal)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                swf.signal_workflow_execution(
                    DOMAIN, config.daemon.workflow_id, "startChildWorkflowExecution", signal
                )
                break
            except UnknownResourceError:  # the daemon workflow is not started yet
                time.sleep(0.1)
        task = None
        while task is None and time.monotonic() < deadline:
            task = swf.poll_for_activity_task(DOMAIN, "at")
        assert task is not None and task.workflow_execution.workflow_id == "job-1"
        assert is_envelope(task.input)
        reader = Payloads(store, bucket="b")
        assert json.loads(reader.decode(task.input))["workflow"] == value
        child_run = task.workflow_execution.run_id
        started = swf.get_workflow_execution_history(DOMAIN, "job-1", child_run)[0]
        child_input = started["workflowExecutionStartedEventAttributes"]["input"]
        assert "/child/job-1/" in json.loads(child_input)["uri"]
    finally:
        poller.stop(quick=False)
        backend.close()
