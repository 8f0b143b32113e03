"""``kill -9`` of a worker in the middle of activities and of deciders in the middle of a run:
SWF's timeouts hand the work back and every workflow still completes with its own result."""

from __future__ import annotations

import collections
import signal

import pytest

from flotod.specs import InstantRetry
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


def test_killed_worker_tasks_time_out_and_are_retried(make_site: MakeSite) -> None:
    site = make_site()
    # heartbeat timeout 3 s: a task on a dead worker comes back within seconds
    site.register_fault_types(task_timeout=10, start_to_close=20, heartbeat=3)
    spec = dag_spec(site.domain, retry=InstantRetry(3), pause=0.6)
    decider = site.start("decider", site.decider(spec))
    doomed, survivor = (
        site.start("worker", site.worker(f"w{i}", concurrency=6, heartbeat_seconds=1))
        for i in range(2)
    )
    for service in (decider, doomed, survivor):
        service.wait_for("service.ready")
    ids = [f"wk-{i:02d}" for i in range(24)]
    inputs = {wid: 100 + i for i, wid in enumerate(ids)}
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])

    def doomed_is_busy() -> bool:
        pids = [e for e in site.ledger.read_text().splitlines() if f'"pid": {doomed.proc.pid}' in e]
        return len(pids) >= 4

    eventually(doomed_is_busy, timeout=20, what="the first worker to be running activities")
    doomed.kill()  # SIGKILL with activities running: their tasks are lost with it
    wait_all_closed(site, runs, timeout=90)

    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    timed_out = [
        e["activityTaskTimedOutEventAttributes"]
        for out in found.values()
        for e in out.events
        if e["eventType"] == "ActivityTaskTimedOut"
    ]
    assert timed_out, "no task of the killed worker timed out"
    assert {t["timeoutType"] for t in timed_out} <= {"HEARTBEAT", "START_TO_CLOSE"}
    retried = 0
    for out in found.values():
        scheduled = out.scheduled()
        lost = out.kinds.count("ActivityTaskTimedOut")
        # each timed-out attempt was scheduled again, nothing else was
        assert sum(scheduled.values()) == len(DAG_IDS) + lost, (out.workflow_id, scheduled)
        retried += lost
    assert retried == len(timed_out)
    ledger = site.ledger_counts()
    twice = {key for key, count in ledger.items() if count > 1}
    assert len(twice) <= len(timed_out)  # only lost attempts ran again (some never started)
    assert survivor.proc.poll() is None
    decider.send(signal.SIGTERM)
    survivor.send(signal.SIGTERM)
    assert decider.stop() == 0 and survivor.stop() == 0


def test_killed_deciders_are_replaced_and_finish_every_workflow(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=3, start_to_close=30)  # a dead decider's task: 3 s
    spec = dag_spec(site.domain, pause=0.3)
    first, second = (site.start("decider", site.decider(spec, f"d{i}")) for i in range(2))
    worker = site.start("worker", site.worker(concurrency=8))
    for service in (first, second, worker):
        service.wait_for("service.ready")
    ids = [f"dk-{i:02d}" for i in range(40)]
    inputs = {wid: 500 + i for i, wid in enumerate(ids)}
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])

    first.wait_for("decision.completed", timeout=20)
    first.kill()  # SIGKILL, mid-run: the other decider carries on alone
    eventually(lambda: len(site.ledger_counts()) >= 60, timeout=30, what="progress after kill")
    second.kill()  # now nobody decides
    assert len(site.ledger_counts()) < len(ids) * len(DAG_IDS), "finished before the kill"
    replacement = site.start("decider", site.decider(spec, "d2"))
    wait_all_closed(site, runs, timeout=90)

    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    for wid, out in found.items():
        # whatever the dead deciders had sent counts once; nothing was decided twice
        assert out.scheduled() == dict.fromkeys(DAG_IDS, 1), (wid, out.scheduled())
    assert collections.Counter(site.ledger_counts().values()) == {1: len(ids) * len(DAG_IDS)}
    assert any(r.get("event") == "decision.completed" for r in replacement.records())
    replacement.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert replacement.stop() == 0 and worker.stop() == 0
