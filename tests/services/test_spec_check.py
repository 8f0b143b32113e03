"""spec_check against the embedded SWF: what a reload keeps when it cannot take a new spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from flotod.config import ServiceConfig, load_config
from flotod.config.reload import reload_config
from flotod.engine.versions import VersionedHandler
from flotod.localswf import in_process_client, make_backend
from flotod.services.spec_check import vet_reload
from flotod.specs import ActivityTask, DeciderSpec, dumps
from flotod.swf import RetryPolicy, SwfClient

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
