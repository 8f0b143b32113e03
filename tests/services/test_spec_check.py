"""spec_check against the embedded SWF: what a reload keeps when it cannot take a new spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from flotod.config import ServiceConfig, load_config
from flotod.config.reload import reload_config
from flotod.engine.decisions import payload_limit
from flotod.engine.versions import VersionedHandler
from flotod.localswf import in_process_client, in_process_s3_client, make_backend
from flotod.payloads import Payloads
from flotod.payloads.history import encode_decisions, resolve_events
from flotod.services.spec_check import vet_reload
from flotod.specs import ActivityTask, DeciderSpec, dumps
from flotod.swf import RetryPolicy, SwfClient
from flotod.swf.s3 import S3Store

DOMAIN = "checks"


def spec(activity: str) -> DeciderSpec:
    return DeciderSpec(
        domain=DOMAIN,
        task_list="dt",
        default_activity_task_list="at",
        activity_tasks=[ActivityTask(activity, "1", activity_id="only")],
    )


def write_config(path: Path, versions: dict[str, str], level: str = "info") -> Path:
    table = ", ".join(f'{v} = "{f}"' for v, f in versions.items())
    path.write_text(
        f'[swf]\ndomain = "{DOMAIN}"\n[logging]\nlevel = "{level}"\n'
        f'[decider.d]\ntask_list = "dt"\nworkflow_type_name = "wf"\nspecs = {{ {table} }}\n'
    )
    return path


@pytest.fixture
def swf() -> Iterator[SwfClient]:
    backend = make_backend(poll_timeout=1.0)
    client = SwfClient.from_boto(in_process_client(backend))
    client.register_domain(DOMAIN, 1)
    for version in ("v1", "v2"):
        client.register_workflow_type(DOMAIN, "wf", version, task_list="dt")
    client.register_activity_type(DOMAIN, "A", "1", task_list="at")
    yield client
    backend.close()


@pytest.fixture
def current(tmp_path: Path, swf: SwfClient) -> ServiceConfig:
    """A decider serving wf:v1 and wf:v2, and an open run of v1 decided once (A scheduled)."""
    (tmp_path / "v1.json").write_text(dumps(spec("A")))
    (tmp_path / "v2.json").write_text(dumps(spec("A")))
    config = load_config(
        write_config(tmp_path / "flotod.toml", {"v1": "v1.json", "v2": "v2.json"}), "decider"
    )
    swf.start_workflow_execution(DOMAIN, "run-1", "wf", "v1", task_list="dt")
    task = swf.poll_for_decision_task(DOMAIN, "dt")
    assert task is not None
    handler = VersionedHandler("wf", config.decider.versions)
    swf.respond_decision_task_completed(task.task_token, handler(task).decisions)
    return config


def test_removing_a_version_that_open_runs_still_need_is_refused(
    current: ServiceConfig, swf: SwfClient, tmp_path: Path
) -> None:
    write_config(tmp_path / "flotod.toml", {"v2": "v2.json"}, level="debug")
    with capture_logs() as logs:
        vetted = vet_reload(swf, current, reload_config(current), structlog.get_logger())
    [refused] = [r for r in logs if r["event"] == "config.reload_refused"]
    assert refused["version"] == "wf:v1" and refused["workflow_id"] == "run-1"
    assert refused["divergence"] == "removed while 1 open run(s) still need it"
    taken = vetted.effective(current)
    assert list(taken.decider.versions) == ["v2", "v1"]
    assert taken.logging.level == "debug"  # the other changes still apply


def test_swf_unreachable_keeps_the_changed_versions_old_spec(
    current: ServiceConfig, tmp_path: Path
) -> None:
    (tmp_path / "v2.json").write_text(dumps(spec("B")))
    write_config(tmp_path / "flotod.toml", {"v1": "v1.json", "v2": "v2.json"}, level="debug")
    down = SwfClient(
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key_id="x",
        secret_access_key="y",
        retry=RetryPolicy(max_attempts=1),
    )
    with capture_logs() as logs:
        vetted = vet_reload(down, current, reload_config(current), structlog.get_logger())
    [refused] = [r for r in logs if r["event"] == "config.reload_refused"]
    assert refused["version"] == "wf:v2"
    assert refused["divergence"].startswith("its open runs could not be listed: ")
    taken = vetted.effective(current)
    assert taken.decider.versions == current.decider.versions
    assert taken.logging.level == "debug"
    assert [c.key for c in vetted.applied] == ["logging.level"]


def test_open_runs_with_large_payloads_are_replayed_with_their_values(
    tmp_path: Path,
) -> None:
    """A run whose A returned a result kept in S3 (and whose B got it as input) agrees with a
    spec that only adds a later task: the check reads the values back as the decider did.
    Before, the check replayed the references themselves and refused the reload."""
    backend = make_backend(poll_timeout=1.0)
    backend.s3.create_bucket("payloads")
    swf = SwfClient.from_boto(in_process_client(backend))
    swf.register_domain(DOMAIN, 1)
    swf.register_workflow_type(DOMAIN, "wf", "v1", task_list="dt")
    for name in ("A", "B", "C"):
        swf.register_activity_type(DOMAIN, name, "1", task_list="at")
    payloads = Payloads(S3Store(in_process_s3_client(backend)), bucket="payloads")
    a = ActivityTask("A", "1", activity_id="a")
    b = ActivityTask("B", "1", activity_id="b", requires=[a])
    chain = DeciderSpec(
        domain=DOMAIN, task_list="dt", default_activity_task_list="at", activity_tasks=[a, b]
    )
    longer = DeciderSpec(
        domain=DOMAIN,
        task_list="dt",
        default_activity_task_list="at",
        activity_tasks=[a, b, ActivityTask("C", "1", activity_id="c", requires=[b])],
    )
    (tmp_path / "v1.json").write_text(dumps(chain))
    current = load_config(write_config(tmp_path / "flotod.toml", {"v1": "v1.json"}), "decider")
    handler = VersionedHandler("wf", current.decider.versions, max_payload=payload_limit(True))

    def decide_once() -> None:
        task = swf.poll_for_decision_task(DOMAIN, "dt")
        assert task is not None
        seen = replace(task, events=resolve_events(list(task.events), payloads))
        run = task.workflow_execution
        decisions = encode_decisions(handler(seen).decisions, payloads, run.workflow_id, run.run_id)
        swf.respond_decision_task_completed(task.task_token, decisions)

    swf.start_workflow_execution(DOMAIN, "big-run", "wf", "v1", task_list="dt")
    decide_once()
    activity = swf.poll_for_activity_task(DOMAIN, "at")
    assert activity is not None
    big = json.dumps({"files": [f"part-{i:07d}" for i in range(5000)]})
    run = activity.workflow_execution
    swf.respond_activity_task_completed(
        activity.task_token,
        payloads.encode(big, workflow_id=run.workflow_id, run_id=run.run_id, name="a"),
    )
    decide_once()  # B scheduled, its input a reference holding A's result

    (tmp_path / "v1.json").write_text(dumps(longer))
    reader = Payloads(S3Store(in_process_s3_client(backend)), bucket="payloads")
    with capture_logs() as logs:
        vetted = vet_reload(
            swf, current, reload_config(current), structlog.get_logger(), payloads=lambda: reader
        )
    assert [r for r in logs if r["event"] == "config.reload_refused"] == []
    assert vetted.effective(current).decider.versions["v1"] == longer
    backend.close()
