"""Sticky deciders: ``kill -9`` of one of two deciders mid-run costs each run it held at most
the sticky schedule-to-start timeout (or, for a task it had in hand, the decision timeout), and
every workflow still completes with its own result."""

from __future__ import annotations

import collections
import signal
from datetime import datetime
from typing import Any

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.harness import (
    DAG_IDS,
    check_dag_results,
    dag_spec,
    outcomes,
    start_many,
    wait_all_closed,
)
from tests.services.conftest import eventually

pytestmark = pytest.mark.slow

STICKY_TIMEOUT = 2
DECISION_TIMEOUT = 2
SLACK = 2.0


def _attrs(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    value: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return value


def _seconds(event: dict[str, Any]) -> float:
    stamp = event["eventTimestamp"]
    return stamp.timestamp() if isinstance(stamp, datetime) else float(stamp)


TIMEOUTS = {"SCHEDULE_TO_START": STICKY_TIMEOUT, "START_TO_CLOSE": DECISION_TIMEOUT}


def decision_waits(events: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """For each decision the run got: seconds from the first DecisionTaskScheduled after the
    previous decision (through every timed-out task between) to the start of the task that
    was answered, and what the timeouts in between allow (their sum plus SLACK)."""
    waits: list[tuple[float, float]] = []
    due: float | None = None
    started: float | None = None
    allowed = SLACK
    for event in events:
        kind = event["eventType"]
        if kind == "DecisionTaskScheduled" and due is None:
            due = _seconds(event)
        elif kind == "DecisionTaskStarted":
            started = _seconds(event)
        elif kind == "DecisionTaskTimedOut":
            allowed += TIMEOUTS[_attrs(event)["timeoutType"]]
        elif kind == "DecisionTaskCompleted" and due is not None and started is not None:
            waits.append((started - due, allowed))
            due, started, allowed = None, None, SLACK
    return waits


def test_a_killed_sticky_decider_costs_its_runs_one_timeout(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=DECISION_TIMEOUT, start_to_close=30)
    spec = dag_spec(site.domain, pause=0.3)
    table = {"sticky": True, "sticky_schedule_to_start_seconds": STICKY_TIMEOUT}
    doomed, survivor = (site.start("decider", site.decider(spec, f"d{i}", **table)) for i in (0, 1))
    worker = site.start("worker", site.worker(concurrency=8))
    for service in (doomed, survivor, worker):
        service.wait_for("service.ready")
    ids = [f"sk-{i:02d}" for i in range(20)]
    inputs = {wid: 700 + i for i, wid in enumerate(ids)}
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])

    def doomed_holds_runs() -> bool:
        routed = {
            r.get("workflow_id")
            for r in doomed.records()
            if r.get("event") == "decision.completed" and "sticky" in str(r.get("next_task_list"))
        }
        return len(routed) >= 3

    eventually(doomed_holds_runs, timeout=30, what="the first decider to hold runs")
    doomed.kill()  # SIGKILL: its sticky list is polled by nobody from now on
    wait_all_closed(site, runs, timeout=90)

    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    for wid, out in found.items():
        assert out.scheduled() == dict.fromkeys(DAG_IDS, 1), (wid, out.scheduled())
    assert collections.Counter(site.ledger_counts().values()) == {1: len(ids) * len(DAG_IDS)}

    timeouts = collections.Counter(
        _attrs(e)["timeoutType"]
        for out in found.values()
        for e in out.events
        if e["eventType"] == "DecisionTaskTimedOut"
    )
    assert timeouts["SCHEDULE_TO_START"] >= 1, timeouts  # the dead decider's runs came back
    for wid, out in found.items():
        # a run the dead decider held costs one schedule-to-start timeout; one whose task it
        # had in hand, that task's start-to-close timeout (and, if that task was not on the
        # override list, SWF keeps the override: one schedule-to-start timeout more)
        timed_out = collections.Counter(
            _attrs(e)["timeoutType"] for e in out.events if e["eventType"] == "DecisionTaskTimedOut"
        )
        assert max(timed_out.values(), default=0) <= 1, (wid, timed_out)
        for wait, allowed in decision_waits(out.events):
            assert wait < allowed, (wid, wait, allowed, timed_out)
    waits = [w for out in found.values() for w, _ in decision_waits(out.events)]
    assert max(waits) < STICKY_TIMEOUT + DECISION_TIMEOUT + SLACK

    # the survivor answered from its own list, naming it for the next task
    sticky = [
        r for r in survivor.records() if r.get("event") == "decision.completed" and r.get("sticky")
    ]
    assert sticky and all(r.get("held") for r in sticky[-5:])
    survivor.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert survivor.stop() == 0 and worker.stop() == 0
