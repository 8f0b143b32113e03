"""Every setting declared reloadable takes effect in the running service on SIGHUP.

The tests are generated from the declarations: a setting declared reloadable without a probe
here fails `test_every_reloadable_setting_has_a_probe`, and each probe changes its setting in
a running process, sends SIGHUP and observes the new behaviour (not just the log line).
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flotod.config.settings import SETTINGS
from flotod.specs import ActivityTask, ChildWorkflow, DeciderSpec, Timer, to_jsonable
from tests.services.conftest import Service, Site, eventually

pytestmark = pytest.mark.slow

RELOADABLE = [f"{s.section}.{s.name}" for s in SETTINGS if s.reloadable]


def change(path: Path, table: str, key: str, value: str) -> None:
    """Set ``key = value`` (TOML text) in ``[table]`` of the config file."""
    text = path.read_text()
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.M)
    header = f"[{table}]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end + 1
    body = text[start:end]
    body = (
        pattern.sub(f"{key} = {value}", body)
        if pattern.search(body)
        else body + f"{key} = {value}\n"
    )
    path.write_text(text[:start] + body + text[end:])


def reload(service: Service, key: str) -> None:
    service.send(signal.SIGHUP)

    def applied() -> bool:
        return any(
            r.get("event") == "config.applied" and str(r.get("key", "")).endswith(key)
            for r in service.records()
        )

    eventually(applied, timeout=10, what=f"{key} applied")


def signal_daemon(site: Site, payload: Any) -> None:
    site.client.signal_workflow_execution(
        domain=site.domain,
        workflowId="flotod_daemon",
        signalName="startChildWorkflowExecution",
        input=json.dumps(payload),
    )


def daemon_run(site: Site) -> str:
    infos = site.client.list_open_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": "flotod_daemon"},
    )["executionInfos"]
    return str(infos[0]["execution"]["runId"])


def daemon_events(site: Site, kind: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for info in site.client.list_closed_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": "flotod_daemon"},
    )["executionInfos"]:
        events += site.history("flotod_daemon", info["execution"]["runId"])
    events += site.history("flotod_daemon", daemon_run(site))
    return [e for e in events if e["eventType"] == kind]


def waiting_spec(site: Site, seconds: int) -> dict[str, Any]:
    """A child that only waits: it stays open ``seconds``."""
    spec = DeciderSpec(domain=site.domain, activity_tasks=[Timer("wait", delay_in_seconds=seconds)])
    return dict(to_jsonable(spec))


def started_daemon(site: Site, **table: Any) -> tuple[Service, Path]:
    path = site.config("daemon", **table)
    daemon = site.start("daemon", path)
    daemon.wait_for("daemon.workflow_started")
    return daemon, path


# -- probes: one per reloadable setting ---------------------------------------------------------


def probe_logging_level(site: Site) -> None:
    daemon, path = started_daemon(site)
    change(path, "logging", "level", '"warning"')
    daemon.send(signal.SIGHUP)
    daemon.wait_for("signal.received", signal="SIGHUP")
    time.sleep(1.5)
    # At warning, info records stop: neither the reload's own record nor the stop's appear.
    assert daemon.stop() == 0
    assert "config.reloaded" not in daemon.events()
    assert "service.stopped" not in daemon.events()


def probe_logging_format(site: Site) -> None:
    daemon, path = started_daemon(site)
    change(path, "logging", "format", '"logfmt"')
    daemon.send(signal.SIGHUP)
    eventually(lambda: "event=config.reloaded" in daemon.log_path.read_text(), what="logfmt lines")
    assert daemon.stop() == 0
    assert "event=service.stopped" in daemon.log_path.read_text()


def probe_decider_spec_file(site: Site) -> None:
    for name in ("ActivityA", "ActivityB"):
        site.client.register_activity_type(
            domain=site.domain, name=name, version="v1", defaultTaskList={"name": "rk_at"},
            defaultTaskStartToCloseTimeout="60", defaultTaskScheduleToStartTimeout="60",
            defaultTaskScheduleToCloseTimeout="120", defaultTaskHeartbeatTimeout="NONE",
        )  # fmt: skip

    def spec(activity: str) -> DeciderSpec:
        return DeciderSpec(
            domain=site.domain,
            task_list="rk_dt",
            default_activity_task_list="rk_at",
            activity_tasks=[ActivityTask(activity, "v1", activity_id="only")],
        )

    spec_file = site.spec_file(spec("ActivityA"))
    path = site.config(
        "decider", task_list="rk_dt", spec_file=str(spec_file), workflow_type_name="rkwf"
    )
    decider = site.start("decider", path)
    decider.wait_for("service.ready")
    site.spec_file(spec("ActivityB"))
    reload(decider, "spec_file")
    run = site.start_workflow("rkwf", "reloaded-spec", input={})

    def scheduled() -> list[str]:
        return [
            e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
            for e in site.history("reloaded-spec", run)
            if e["eventType"] == "ActivityTaskScheduled"
        ]

    eventually(scheduled, timeout=10, what="the activity to be scheduled")
    assert scheduled() == ["ActivityB"]
    assert decider.stop() == 0


def probe_decider_specs(site: Site) -> None:
    """A version's edited file, with no open run it would diverge from, is taken."""
    site.client.register_activity_type(
        domain=site.domain, name="ActivityB", version="v1", defaultTaskList={"name": "rk_at"},
        defaultTaskStartToCloseTimeout="60", defaultTaskScheduleToStartTimeout="60",
        defaultTaskScheduleToCloseTimeout="120", defaultTaskHeartbeatTimeout="NONE",
    )  # fmt: skip

    def spec(activities: list[str]) -> DeciderSpec:
        return DeciderSpec(
            domain=site.domain,
            task_list="rk_dt",
            default_activity_task_list="rk_at",
            activity_tasks=[ActivityTask(a, "v1", activity_id=a) for a in activities],
        )

    v1 = site.spec_file(spec(["ActivityA"]), "rk-v1")
    path = site.config("decider", task_list="rk_dt", workflow_type_name="rkwf")
    path.write_text(path.read_text() + f'specs = {{ v1 = "{v1}" }}\n')
    decider = site.start("decider", path)
    decider.wait_for("service.ready")
    site.spec_file(spec(["ActivityB"]), "rk-v1")
    reload(decider, "specs")
    run = site.start_workflow("rkwf", "reloaded-specs", input={})

    def scheduled() -> list[str]:
        return [
            e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
            for e in site.history("reloaded-specs", run)
            if e["eventType"] == "ActivityTaskScheduled"
        ]

    eventually(scheduled, timeout=10, what="the activity to be scheduled")
    assert scheduled() == ["ActivityB"]
    assert decider.stop() == 0


def drain_timeout_probe(kind: str) -> Callable[[Site], None]:
    def probe(site: Site) -> None:
        if kind == "daemon":
            service, path = started_daemon(site)
        else:
            table: dict[str, Any] = (
                {"task_list": "rk_dt", "dynamic": True}
                if kind == "decider"
                else {"task_list": "rk_at", "modules": ["tests.services.acts"]}
            )
            path = site.config(kind, **table)
            service = site.start(kind, path)
            service.wait_for("service.ready")
        change(path, f"{kind}.main", "drain_timeout_seconds", "7")
        reload(service, "drain_timeout_seconds")
        service.send(signal.SIGTERM)
        assert service.wait_for("service.stopping")["drain_timeout"] == 7
        assert service.stop() == 0

    return probe


def probe_worker_drain_timeout(site: Site, tmp: Path) -> None:
    """The new bound holds a real drain: a running 30 s activity is cut off after 2 s."""
    marker = tmp / "started"
    spec = DeciderSpec(
        domain=site.domain, task_list="rk_dt", default_activity_task_list="rk_at",
        activity_tasks=[ActivityTask("slow", "v1", activity_id="s",
                                     input={"seconds": 30, "marker": str(marker)})],
    )  # fmt: skip
    decider = site.start(
        "decider",
        site.config(
            "decider", task_list="rk_dt", spec_file=str(site.spec_file(spec)),
            workflow_type_name="rkwf",
        ),
    )  # fmt: skip
    path = site.config("worker", task_list="rk_at", modules=["tests.services.acts"])
    worker = site.start("worker", path)
    worker.wait_for("service.ready")
    decider.wait_for("service.ready")
    site.start_workflow("rkwf", "drained", input={})
    eventually(marker.exists, what="the activity to start")
    change(path, "worker.main", "drain_timeout_seconds", "2")
    reload(worker, "drain_timeout_seconds")
    began = time.monotonic()
    worker.send(signal.SIGTERM)
    assert worker.stop(timeout=30) == 0
    assert time.monotonic() - began < 15
    assert worker.wait_for("service.stopped")["drain"] == "timed_out"
    assert decider.stop() == 0


def probe_worker_heartbeat_seconds(site: Site, tmp: Path) -> None:
    """A 4 s heartbeat timeout and a worker beating once an hour: without the reload the
    activity times out; reloaded to 1 s, its beats keep it alive to completion."""
    site.client.register_activity_type(
        domain=site.domain, name="slow", version="v1", defaultTaskList={"name": "rk_hb"},
        defaultTaskStartToCloseTimeout="60", defaultTaskScheduleToStartTimeout="60",
        defaultTaskScheduleToCloseTimeout="120", defaultTaskHeartbeatTimeout="4",
    )  # fmt: skip
    marker = tmp / "beating"
    spec = DeciderSpec(
        domain=site.domain, task_list="rk_hbd", default_activity_task_list="rk_hb",
        activity_tasks=[ActivityTask("slow", "v1", activity_id="s",
                                     input={"seconds": 8, "marker": str(marker)})],
    )  # fmt: skip
    decider = site.start(
        "decider",
        site.config(
            "decider", task_list="rk_hbd", spec_file=str(site.spec_file(spec)),
            workflow_type_name="rkhb",
        ),
    )  # fmt: skip
    path = site.config(
        "worker", task_list="rk_hb", modules=["tests.services.acts"], heartbeat_seconds=3600,
        register_activity_types=False,
    )  # fmt: skip
    worker = site.start("worker", path)
    worker.wait_for("service.ready")
    decider.wait_for("service.ready")
    run = site.start_workflow("rkhb", "beats", input={})
    eventually(marker.exists, what="the activity to start")
    change(path, "worker.main", "heartbeat_seconds", "1")
    reload(worker, "heartbeat_seconds")
    closing = site.wait_closed("beats", run, timeout=30)
    kinds = [e["eventType"] for e in site.history("beats", run)]
    assert "ActivityTaskTimedOut" not in kinds, kinds
    assert closing["eventType"] == "WorkflowExecutionCompleted"
    assert worker.stop() == 0 and decider.stop() == 0


def probe_daemon_max_children(site: Site) -> None:
    daemon, path = started_daemon(site, max_children=10)
    change(path, "daemon.main", "max_children", "1")
    reload(daemon, "max_children")
    for i in range(2):
        signal_daemon(site, {"decider_spec": waiting_spec(site, 3), "workflow_id": f"kid-{i}"})
    eventually(lambda: daemon_events(site, "StartChildWorkflowExecutionInitiated"), what="a child")
    time.sleep(1.5)  # the second request waits for the first child: one slot now
    assert len(daemon_events(site, "StartChildWorkflowExecutionInitiated")) == 1
    eventually(
        lambda: len(daemon_events(site, "StartChildWorkflowExecutionInitiated")) == 2,
        timeout=30,
        what="the second child once the first closed",
    )
    assert daemon.stop() == 0


def probe_daemon_continue_after_events(site: Site) -> None:
    daemon, path = started_daemon(site)
    change(path, "daemon.main", "continue_after_events", "100")
    reload(daemon, "continue_after_events")
    # Rejected requests: each adds a signal and a marker, and decision tasks come in between.
    for wave in range(20):
        if "daemon.continued_as_new" in daemon.events():
            break
        for i in range(10):
            signal_daemon(site, {"nonsense": wave * 10 + i})
        time.sleep(0.5)
    continued = daemon.wait_for("daemon.continued_as_new", timeout=30)
    assert 100 <= continued["events"] < 200  # the default, 5,000, would still be far off
    assert daemon.stop() == 0


def probe_daemon_child_execution_timeout(site: Site) -> None:
    daemon, path = started_daemon(site)
    change(path, "daemon.main", "child_execution_timeout_seconds", "1234")
    reload(daemon, "child_execution_timeout_seconds")
    signal_daemon(site, {"decider_spec": waiting_spec(site, 1), "workflow_id": "timed-kid"})
    eventually(
        lambda: daemon_events(site, "StartChildWorkflowExecutionInitiated"), what="the child"
    )
    (started,) = daemon_events(site, "StartChildWorkflowExecutionInitiated")
    attrs = started["startChildWorkflowExecutionInitiatedEventAttributes"]
    assert attrs["executionStartToCloseTimeout"] == "1234"
    assert daemon.stop() == 0


# Each allowlist narrowed on reload to refuse _NARROWED_TASKS, and what the refusal names.
_NARROWED: dict[str, tuple[str, str]] = {
    "allowed_activity_types": ('["Other:v1"]', "activity_type"),
    "allowed_task_lists": ('["nothing"]', "task_list"),
    "allowed_child_workflow_types": ('["nothing"]', "child_workflow_type"),
    "allowed_child_workflow_ids": ('["jobs-*"]', "workflow_id 'other'"),
}
_NARROWED_TASKS = [
    ActivityTask("X", "v1", activity_id="x", task_list="q"),
    ChildWorkflow("kidtype", "v1", workflow_id="k"),
]


def daemon_allowlist_probe(key: str) -> Callable[[Site], None]:
    def probe(site: Site) -> None:
        daemon, path = started_daemon(site)
        value, named = _NARROWED[key]
        change(path, "daemon.main", key, value)
        reload(daemon, key)
        spec = DeciderSpec(domain=site.domain, activity_tasks=_NARROWED_TASKS)
        signal_daemon(site, {"decider_spec": dict(to_jsonable(spec)), "workflow_id": "other"})
        eventually(lambda: daemon_events(site, "MarkerRecorded"), what="a rejection marker")
        (marker,) = daemon_events(site, "MarkerRecorded")
        reason = json.loads(marker["markerRecordedEventAttributes"]["details"])["reason"]
        assert named in reason and "not allowed" in reason, reason
        assert daemon.stop() == 0

    return probe


def decider_allowlist_probe(key: str) -> Callable[[Site], None]:
    def probe(site: Site) -> None:
        path = site.config("decider", task_list="rk_dyn", dynamic=True, workflow_type_name="rkdyn")
        decider = site.start("decider", path)
        decider.wait_for("registration.type", name="rkdyn")
        value, named = _NARROWED[key]
        change(path, "decider.main", key, value)
        reload(decider, key)
        run = site.start_workflow(
            "rkdyn", "rk-dyn", input={"activity_tasks": to_jsonable(_NARROWED_TASKS)}
        )
        closing = site.wait_closed("rk-dyn", run)
        failed = closing["workflowExecutionFailedEventAttributes"]
        assert failed["reason"] == "not_allowed" and named in json.loads(failed["details"])
        assert decider.stop() == 0

    return probe


PROBES: dict[str, Callable[..., None]] = {
    "logging.level": probe_logging_level,
    "logging.format": probe_logging_format,
    "decider.spec_file": probe_decider_spec_file,
    "decider.specs": probe_decider_specs,
    "decider.drain_timeout_seconds": drain_timeout_probe("decider"),
    "worker.heartbeat_seconds": probe_worker_heartbeat_seconds,
    "worker.drain_timeout_seconds": probe_worker_drain_timeout,
    "daemon.max_children": probe_daemon_max_children,
    "daemon.continue_after_events": probe_daemon_continue_after_events,
    "daemon.child_execution_timeout_seconds": probe_daemon_child_execution_timeout,
    "daemon.drain_timeout_seconds": drain_timeout_probe("daemon"),
    **{
        f"decider.{key}": decider_allowlist_probe(key)
        for key in _NARROWED
        if key != "allowed_child_workflow_ids"
    },
    **{f"daemon.{key}": daemon_allowlist_probe(key) for key in _NARROWED},
}


def test_every_reloadable_setting_has_a_probe() -> None:
    assert sorted(PROBES) == sorted(RELOADABLE)


@pytest.mark.parametrize("key", RELOADABLE)
def test_a_reloaded_setting_takes_effect(key: str, site: Site, tmp_path: Path) -> None:
    probe = PROBES[key]
    if probe.__code__.co_argcount == 2:
        probe(site, tmp_path)
    else:
        probe(site)
