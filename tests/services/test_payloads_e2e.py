"""Large payloads end to end: ``flotod local-swf`` serving SWF and S3 on one port, real
``flotod-decider`` and ``flotod-worker`` processes with ``[payloads]``, and the ``flotod``
command reading the result back resolved.

The faults are placed deterministically by stopping a service between two steps: the object
is removed or altered while no process that would read it is running.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from flotod.payloads import is_envelope, parse_envelope
from flotod.payloads.reference import split_uri
from flotod.specs import ActivityTask, DeciderSpec
from tests.services.conftest import ROOT, Site, eventually
from tests.services.payload_acts import files

pytestmark = pytest.mark.slow

BUCKET = "flotod-e2e-payloads"
ACTS = "payload_acts"
LATE = "payload_acts_late"
MB = 1_000_000


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """``flotod local-swf`` as a process, with the payload bucket made at its start."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0",
         "--poll-timeout", "2", "--s3-bucket", BUCKET, "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    found: list[str] = []
    reader = threading.Thread(
        target=lambda: found.append(proc.stdout.readline().decode().strip()),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    reader.join(30)
    try:
        assert found and found[0].startswith("http"), f"flotod local-swf said {found}"
        yield found[0]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def site(endpoint: str, tmp_path: Path) -> Iterator[Site]:
    s = Site(endpoint, tmp_path, prefix="pl")
    yield s
    s.close()


@pytest.fixture
def s3(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def with_payloads(path: Path, site: Site, compress: bool = False) -> Path:
    """``path``'s config plus the [payloads] table every process of the site shares."""
    path.write_text(
        path.read_text()
        + f'[payloads]\ns3_bucket = "{BUCKET}"\ns3_prefix = "{site.domain}/"\n'
        + f"compress = {'true' if compress else 'false'}\n"
    )
    return path


def spec(domain: str, consume_list: str = ACTS) -> DeciderSpec:
    produce = ActivityTask("produce", "v1", activity_id="produce")
    consume = ActivityTask(
        "consume", "v1", activity_id="consume", requires=[produce], task_list=consume_list
    )
    return DeciderSpec(
        domain=domain,
        task_list="pl_dt",
        default_activity_task_list=ACTS,
        activity_tasks=[produce, consume],
    )


def decider_config(site: Site, the_spec: DeciderSpec, compress: bool = False) -> Path:
    config = site.config(
        "decider", task_list="pl_dt", spec_file=str(site.spec_file(the_spec)),
        workflow_type_name="plwf",
    )  # fmt: skip
    return with_payloads(config, site, compress)


def worker_config(
    site: Site, name: str = "main", task_list: str = ACTS, compress: bool = False
) -> Path:
    config = site.config(
        "worker", name, task_list=task_list, modules=["tests.services.payload_acts"]
    )
    return with_payloads(config, site, compress)


def event(site: Site, workflow_id: str, run_id: str, kind: str, **match: Any) -> dict[str, Any]:
    """The first ``kind`` event (its attributes) whose attributes hold ``match``; waits."""
    key = kind[0].lower() + kind[1:] + "EventAttributes"
    found: list[dict[str, Any]] = []

    def look() -> bool:
        for e in site.history(workflow_id, run_id):
            attrs: dict[str, Any] = e.get(key, {})
            if e["eventType"] == kind and all(attrs.get(k) == v for k, v in match.items()):
                found.append(attrs)
                return True
        return False

    eventually(look, 40, f"{kind} {match}")
    return found[0]


def scheduled(site: Site, workflow_id: str, run_id: str, activity_id: str) -> dict[str, Any]:
    return event(site, workflow_id, run_id, "ActivityTaskScheduled", activityId=activity_id)


def flotod(config: Path, *argv: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", *argv, "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("compress", [False, True])
def test_a_1mb_result_reaches_the_next_activity_and_the_workflow_result(
    site: Site, s3: Any, compress: bool
) -> None:
    decider = site.start("decider", decider_config(site, spec(site.domain), compress))
    worker = worker_config(site, compress=compress)
    site.start("worker", worker).wait_for("service.ready")
    decider.wait_for("registration.type", name="plwf")
    run_id = site.start_workflow("plwf", "big", {"bytes": MB})
    closing = site.wait_closed("big", run_id, timeout=90)
    assert closing["eventType"] == "WorkflowExecutionCompleted", closing
    encoding = "zlib" if compress else "none"
    # SWF held references only: the first result, the second task's input, the run's result.
    produced = event(site, "big", run_id, "ActivityTaskCompleted")["result"]
    handed = scheduled(site, "big", run_id, "consume")["input"]
    result = closing["workflowExecutionCompletedEventAttributes"]["result"]
    for text in (produced, handed, result):
        assert is_envelope(text) and len(text) < 1000, text[:200]
        assert parse_envelope(text).encoding == encoding
        bucket, key = split_uri(parse_envelope(text).uri)
        assert bucket == BUCKET and key.startswith(f"{site.domain}/big/{run_id}/")
    expected = {"consume": {"count": len(files(MB)), "files": files(MB)[::-1]}}
    assert parse_envelope(result).size >= MB
    shown = flotod(worker, "workflow", "show", "big")
    assert shown["outcome"]["status"] == "COMPLETED"
    assert shown["outcome"]["result"] == expected


@pytest.mark.parametrize("fault", ["missing", "tampered"])
def test_a_result_object_gone_or_altered_before_the_decider_reads_it_fails_the_run(
    site: Site, s3: Any, fault: str
) -> None:
    worker = worker_config(site)
    flotod(worker, "register")  # the activity types, with no worker polling yet
    decider = decider_config(site, spec(site.domain))
    first = site.start("decider", decider)
    first.wait_for("registration.type", name="plwf")
    run_id = site.start_workflow("plwf", fault, {"bytes": MB})
    scheduled(site, fault, run_id, "produce")
    assert first.stop() == 0  # the result now waits for a decider
    site.start("worker", worker)
    uri = parse_envelope(event(site, fault, run_id, "ActivityTaskCompleted")["result"]).uri
    bucket, key = split_uri(uri)
    if fault == "missing":
        s3.delete_object(Bucket=bucket, Key=key)
    else:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key=key, Body=body.replace(b"part-00000001", b"part-99999999"))
    site.start("decider", decider)
    closing = site.wait_closed(fault, run_id, timeout=60)
    assert closing["eventType"] == "WorkflowExecutionFailed", closing
    failed = closing["workflowExecutionFailedEventAttributes"]
    assert failed["reason"] == f"payload_{fault}"
    assert uri in failed["details"]


def test_a_task_input_object_gone_before_the_worker_reads_it_fails_the_task(
    site: Site, s3: Any
) -> None:
    """consume runs on a task list nobody serves until its input object is deleted."""
    decider = site.start("decider", decider_config(site, spec(site.domain, consume_list=LATE)))
    site.start("worker", worker_config(site)).wait_for("service.ready")
    decider.wait_for("registration.type", name="plwf")
    run_id = site.start_workflow("plwf", "late", {"bytes": MB})
    uri = parse_envelope(scheduled(site, "late", run_id, "consume")["input"]).uri
    s3.delete_object(Bucket=BUCKET, Key=split_uri(uri)[1])
    site.start("worker", worker_config(site, "late", LATE))
    failed_task = event(site, "late", run_id, "ActivityTaskFailed")
    assert failed_task["reason"] == "payload_missing"
    assert json.loads(failed_task["details"])["uri"] == uri
    closing = site.wait_closed("late", run_id, timeout=60)
    assert closing["eventType"] == "WorkflowExecutionFailed", closing
    details = closing["workflowExecutionFailedEventAttributes"]["details"]
    assert "payload_missing" in details and uri in details
