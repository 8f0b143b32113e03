"""Real services surviving what production throws at them: a decider killed with SIGKILL (mid
activity, and holding a decision task) and the SWF endpoint going away for a while."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flotod.localswf import make_backend, make_server
from flotod.specs import ActivityTask, DeciderSpec, InstantRetry
from tests.services.conftest import NotifySocket, Service, Site, eventually, result_of
from tests.services.proxy import TcpProxy

pytestmark = pytest.mark.slow

ACTIVITY_TYPES = [("slow", "v1"), ("ActivityA", "v1"), ("ActivityB", "v1"), ("ActivityC", "v1")]


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """An embedded SWF of the test's own; ``poll_timeout`` from the test's parametrization."""
    poll_timeout = getattr(request, "param", 1.0)
    backend = make_backend(poll_timeout=poll_timeout)
    server = make_server(backend)
    server.start_in_thread()
    yield server.url
    server.stop()
    backend.close()


@pytest.fixture
def own_site(endpoint: str, tmp_path: Path) -> Iterator[Site]:
    s = Site(endpoint, tmp_path)
    yield s
    s.close()


def register_types(site: Site, workflow: str, task_list: str, task_timeout: int) -> None:
    """Short task timeouts, so a task handed to a dead process comes back quickly."""
    site.register_workflow_type(workflow, task_list, task_timeout=task_timeout)
    for name, version in ACTIVITY_TYPES:
        site.client.register_activity_type(
            domain=site.domain,
            name=name,
            version=version,
            defaultTaskList={"name": "acts"},
            defaultTaskStartToCloseTimeout="20",
            defaultTaskScheduleToStartTimeout="NONE",
            defaultTaskScheduleToCloseTimeout="NONE",
            defaultTaskHeartbeatTimeout="NONE",
        )


def start_worker(site: Site, env: dict[str, str] | None = None) -> Service:
    config = site.config(
        "worker",
        task_list="acts",
        modules=["tests.services.acts"],
        concurrency=4,
        register_activity_types=False,
    )
    worker = site.start("worker", config, env=env)
    worker.wait_for("service.ready")
    return worker


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] for e in events]


@pytest.mark.parametrize("endpoint", [3.0], indirect=True)
def test_a_killed_decider_is_replaced_and_the_workflow_completes(
    own_site: Site, tmp_path: Path
) -> None:
    site = own_site
    marker = tmp_path / "slow-started"
    slow = ActivityTask("slow", "v1", activity_id="s", input={"seconds": 3, "marker": str(marker)})
    after = ActivityTask("ActivityB", "v1", activity_id="b", requires=[slow])
    spec = DeciderSpec(
        domain=site.domain, task_list="dt", default_activity_task_list="acts",
        activity_tasks=[slow, after],
    )  # fmt: skip
    register_types(site, "killwf", "dt", task_timeout=2)
    decider_cfg = site.config(
        "decider", task_list="dt", spec_file=str(site.spec_file(spec)), workflow_type_name="killwf"
    )
    worker = start_worker(site)

    # 1. A decider frozen in its long poll receives the first decision task, then dies.
    first = site.start("decider", decider_cfg)
    first.wait_for("service.ready")
    time.sleep(0.3)  # into its first long poll (3 s here)
    first.send(signal.SIGSTOP)
    run = site.start_workflow("killwf", "killed")

    def taken_by_first() -> bool:
        started = [
            e["decisionTaskStartedEventAttributes"].get("identity", "")
            for e in site.history("killed", run)
            if e["eventType"] == "DecisionTaskStarted"
        ]
        return any(identity.endswith(f":{first.proc.pid}") for identity in started)

    eventually(taken_by_first, timeout=10, what="the frozen decider to hold the decision task")
    first.kill()  # SIGKILL

    # 2. Its replacement gets the task after it times out, and is killed mid-activity.
    second = site.start("decider", decider_cfg)
    eventually(marker.exists, timeout=20, what="the slow activity to start")
    second.kill()
    assert not any(e["eventType"] == "ActivityTaskCompleted" for e in site.history("killed", run))

    # 3. A third decider finishes the workflow from the history alone.
    third = site.start("decider", decider_cfg)
    assert result_of(site.wait_closed("killed", run, timeout=40)) == {"b": {"b": "result_b"}}
    history = site.history("killed", run)
    # The frozen decider's task timed out; the second one's open long poll may also have
    # been handed a task it never read (SWF does that to a poller that died mid-poll).
    assert 1 <= kinds(history).count("DecisionTaskTimedOut") <= 2
    assert kinds(history).count("ActivityTaskScheduled") == 2  # s and b, each exactly once
    assert kinds(history).count("ActivityTaskCompleted") == 2
    third.wait_for("decision.completed", workflow_id="killed", closing=True)
    assert third.stop() == 0 and worker.stop() == 0


class _Notify(NotifySocket):
    @classmethod
    def make(cls) -> _Notify:
        return cls(os.path.join(tempfile.mkdtemp(prefix="fl", dir="/tmp"), "notify"))


def test_services_ride_out_an_endpoint_outage(own_site: Site, endpoint: str) -> None:
    site = own_site
    proxy = TcpProxy(int(endpoint.rsplit(":", 1)[1]), lifetime=150)
    site.url = proxy.url  # the services go through the proxy; the test's client does not
    retried = InstantRetry(5)
    a = ActivityTask("ActivityA", "v1", activity_id="a", retry_strategy=retried)
    b = ActivityTask("ActivityB", "v1", activity_id="b", retry_strategy=retried)
    c = ActivityTask("ActivityC", "v1", activity_id="c", requires=[a, b], retry_strategy=retried)
    spec = DeciderSpec(
        domain=site.domain, task_list="dt", default_activity_task_list="acts",
        activity_tasks=[a, b, c],
    )  # fmt: skip
    register_types(site, "outwf", "dt", task_timeout=3)
    decider_notify, worker_notify = _Notify.make(), _Notify.make()
    try:
        worker = start_worker(site, env={"NOTIFY_SOCKET": worker_notify.path})
        decider = site.start(
            "decider",
            site.config(
                "decider", task_list="dt", spec_file=str(site.spec_file(spec)),
                workflow_type_name="outwf",
            ),
            env={"NOTIFY_SOCKET": decider_notify.path},
        )  # fmt: skip
        decider.wait_for("service.ready")
        runs = {f"before-{i}": site.start_workflow("outwf", f"before-{i}") for i in range(3)}
        for workflow_id, run in runs.items():
            assert set(result_of(site.wait_closed(workflow_id, run))) == {"c"}

        proxy.cut()
        cut_at = time.monotonic()
        during = {f"during-{i}": site.start_workflow("outwf", f"during-{i}") for i in range(3)}
        eventually(
            lambda: any("retrying in" in m for m in decider_notify.messages),
            timeout=10,
            what="the decider to report the outage in STATUS=",
        )
        time.sleep(max(0.0, 10 - (time.monotonic() - cut_at)))
        assert decider.proc.poll() is None and worker.proc.poll() is None
        failed = decider.wait_for("decision.poll_failed")
        assert failed["level"] in ("warning", "error") and failed["retry_in"] > 0
        assert failed["task_list"] == "dt" and failed["error"]
        worker.wait_for("worker.poll_failed")
        eventually(
            lambda: any("SWF unreachable, retrying" in m for m in worker_notify.messages),
            timeout=10,
            what="the worker to report the outage in STATUS=",
        )
        status = [m for m in decider_notify.messages if "retrying in" in m]
        assert status[0].startswith("STATUS=retrying in ")
        # backing off: far fewer attempts than a tight loop would make in 10 s
        attempts = [e for e in decider.events() if e == "decision.poll_failed"]
        assert 2 <= len(attempts) <= 15, len(attempts)
        assert proxy.refused > 0

        proxy.restore()
        for workflow_id, run in {**runs, **during}.items():
            closing = site.wait_closed(workflow_id, run, timeout=60)
            assert result_of(closing)["c"]["c"] == "done"
        eventually(
            lambda: any(
                m.startswith("STATUS=polling dt") and "retrying" not in m
                for m in decider_notify.messages[-3:]
            ),
            timeout=10,
            what="the decider's STATUS= to show it polling again",
        )
        assert worker_notify.messages[0].startswith("READY=1")
        eventually(
            lambda: "unreachable" not in worker_notify.messages[-1],
            timeout=10,
            what="the worker's STATUS= to clear the outage",
        )
        decider.send(signal.SIGTERM)
        worker.send(signal.SIGTERM)
        assert decider.stop() == 0 and worker.stop() == 0
    finally:
        proxy.close()
        for sock in (decider_notify, worker_notify):
            sock.close()
            Path(sock.path).unlink(missing_ok=True)
            os.rmdir(os.path.dirname(sock.path))
