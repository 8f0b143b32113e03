"""Stops, restarts and reloads with SWF's real 60 s long poll in flight: each within 2 s.

The endpoint holds every empty poll for 60 s, as SWF does; a shorter poll in tests would hide
a service that waits for its poll before it stops or reloads.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from flotod.specs import ActivityTask, DeciderSpec, Timer
from tests.services.conftest import NotifySocket, Service, Site, eventually

pytestmark = pytest.mark.slow

GOAL = 2.0
# The poll is in flight once the service said it is ready and a moment passed.
SETTLE = 1.5


def spec(site: Site, activity: str) -> DeciderSpec:
    return DeciderSpec(
        domain=site.domain,
        task_list="lp_dt",
        default_activity_task_list="lp_at",
        activity_tasks=[ActivityTask(activity, "v1", activity_id="only")],
    )


def config(site: Site, kind: str) -> Path:
    if kind == "decider":
        spec_file = site.spec_file(spec(site, "ActivityA"))
        return site.config(
            "decider", task_list="lp_dt", spec_file=str(spec_file), workflow_type_name="lpwf"
        )
    if kind == "worker":
        return site.config("worker", task_list="lp_at", modules=["tests.services.acts"])
    return site.config("daemon")


def idle(site: Site, kind: str, path: Path) -> Service:
    service = site.start(kind, path)
    service.wait_for("service.ready")
    time.sleep(SETTLE)
    return service


def stop_seconds(service: Service, signum: int) -> float:
    began = time.monotonic()
    service.send(signum)
    assert service.stop(timeout=90) == 0
    return time.monotonic() - began


@pytest.mark.parametrize("kind", ["decider", "worker", "daemon"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["warm", "quick"])
def test_an_idle_service_stops_within_2s(site60: Site, kind: str, signum: int) -> None:
    service = idle(site60, kind, config(site60, kind))
    took = stop_seconds(service, signum)
    assert took < GOAL, f"{kind} took {took:.2f} s to stop"
    assert service.wait_for("service.stopped")["drain"] == "drained"


@pytest.mark.parametrize("kind", ["decider", "worker", "daemon"])
def test_an_idle_service_restarts_within_2s(site60: Site, kind: str) -> None:
    path = config(site60, kind)
    first = idle(site60, kind, path)
    began = time.monotonic()
    stop_seconds(first, signal.SIGTERM)
    second = site60.start(kind, path)
    second.wait_for("service.ready")
    took = time.monotonic() - began
    assert took < GOAL, f"{kind} took {took:.2f} s from SIGTERM to ready again"
    assert second.stop() == 0


def test_a_decider_reload_applies_within_2s_even_to_the_task_of_its_poll(site60: Site) -> None:
    for name in ("ActivityA", "ActivityB"):
        site60.client.register_activity_type(
            domain=site60.domain, name=name, version="v1", defaultTaskList={"name": "lp_at"},
            defaultTaskStartToCloseTimeout="60", defaultTaskScheduleToStartTimeout="60",
            defaultTaskScheduleToCloseTimeout="120", defaultTaskHeartbeatTimeout="NONE",
        )  # fmt: skip
    path = config(site60, "decider")
    decider = idle(site60, "decider", path)
    site60.spec_file(spec(site60, "ActivityB"))  # same file, new graph
    began = time.monotonic()
    decider.send(signal.SIGHUP)
    decider.wait_for("config.reloaded", timeout=10)
    took = time.monotonic() - began
    assert took < GOAL, f"the reload took {took:.2f} s"
    # The poll in flight since before SIGHUP brings this task: it is decided with the new spec.
    run = site60.start_workflow("lpwf", "reloaded", input={})

    def scheduled() -> list[str]:
        return [
            e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
            for e in site60.history("reloaded", run)
            if e["eventType"] == "ActivityTaskScheduled"
        ]

    eventually(scheduled, timeout=10, what="the first activity to be scheduled")
    assert scheduled() == ["ActivityB"]
    assert decider.stop() == 0


def test_a_daemon_reload_applies_within_2s(site60: Site) -> None:
    path = config(site60, "daemon")
    daemon = idle(site60, "daemon", path)
    path.write_text(
        path.read_text().replace("[daemon.main]\n", "[daemon.main]\nmax_children = 7\n")
    )
    began = time.monotonic()
    daemon.send(signal.SIGHUP)
    applied = daemon.wait_for("config.applied", timeout=10)
    took = time.monotonic() - began
    assert applied["key"] == "daemon.main.max_children" and applied["new"] == 7
    assert took < GOAL, f"the reload took {took:.2f} s"
    assert daemon.stop() == 0


def test_status_shows_a_finished_workflow_within_2s(site60: Site, notify: NotifySocket) -> None:
    timer_spec = DeciderSpec(
        domain=site60.domain,
        task_list="lp_dt",
        activity_tasks=[Timer("wait", delay_in_seconds=1)],
    )
    path = site60.config(
        "decider",
        task_list="lp_dt",
        spec_file=str(site60.spec_file(timer_spec)),
        workflow_type_name="lpwf",
    )
    decider = site60.start("decider", path, env={"NOTIFY_SOCKET": notify.path})
    decider.wait_for("service.ready")
    run = site60.start_workflow("lpwf", "status", input={})
    site60.wait_closed("status", run)
    closed_at = time.monotonic()
    eventually(
        lambda: any("1 closed" in m for m in notify.messages),
        timeout=10,
        what="STATUS= to count it",
    )
    took = time.monotonic() - closed_at
    assert took < GOAL, f"STATUS= showed the closed workflow {took:.2f} s after it closed"
    assert decider.stop() == 0
    assert any(m.startswith("STATUS=stopping") for m in notify.messages)


def test_a_decision_task_handed_to_a_stopped_deciders_poll_waits_one_decision_timeout(
    site60: Site,
) -> None:
    """The price of a fast stop, measured: SWF may still hand a task to the poll the stopped
    decider left open; nobody answers it, and SWF hands it out again after the decision task
    timeout (decision_timeout_seconds, 10 s by default; 3 s here)."""
    path = site60.config(
        "decider", task_list="lp_dt", spec_file=str(site60.spec_file(spec(site60, "ActivityA"))),
        workflow_type_name="lpwf", decision_timeout_seconds=3,
    )  # fmt: skip
    first = idle(site60, "decider", path)
    stop_seconds(first, signal.SIGTERM)  # its poll stays open at the endpoint, as on SWF
    began = time.monotonic()
    run = site60.start_workflow("lpwf", "abandoned", input={})
    second = site60.start("decider", path)

    def decided() -> list[str]:
        return [e["eventType"] for e in site60.history("abandoned", run)]

    eventually(lambda: "DecisionTaskCompleted" in decided(), timeout=30, what="a decision")
    waited = time.monotonic() - began
    kinds = decided()
    assert kinds.index("DecisionTaskTimedOut") < kinds.index("DecisionTaskCompleted"), kinds
    print(f"\nthe first decision came {waited:.1f} s after the start (decision timeout 3 s)")
    assert waited < 3 + GOAL + 1
    assert second.stop() == 0
