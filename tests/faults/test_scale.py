"""1,000 workflows of the five-task DAG through two deciders and two workers, nothing failing:
every result right, every activity run once, every task scheduled once, no decision refused."""

from __future__ import annotations

import collections
import signal
import time

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

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

WORKFLOWS = 1000


def test_a_thousand_workflows_each_right_once(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=20, start_to_close=60)
    spec = dag_spec(site.domain)
    deciders = [site.start("decider", site.decider(spec, f"d{i}")) for i in range(2)]
    workers = [site.start("worker", site.worker(f"w{i}")) for i in range(2)]
    for service in deciders + workers:
        service.wait_for("service.ready")

    ids = [f"wf-{i:04d}" for i in range(WORKFLOWS)]
    inputs = {wid: i * 37 % 1009 for i, wid in enumerate(ids)}  # distinct per workflow
    began = time.monotonic()
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
    started_in = time.monotonic() - began
    waited = wait_all_closed(site, runs, timeout=330)
    print(f"\n{WORKFLOWS} workflows: started in {started_in:.1f} s, all closed after "
          f"{time.monotonic() - began:.1f} s ({waited:.1f} s after the last start)")  # fmt: skip

    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    reverted = 0
    for wid, out in found.items():
        assert out.scheduled() == dict.fromkeys(DAG_IDS, 1), (wid, out.scheduled())
        assert out.kinds.count("ActivityTaskCompleted") == 5, (wid, out.kinds)
        # A sticky task not started in time on its decider's own list (SCHEDULE_TO_START) is
        # SWF handing the run back to the shared list, not a lost task; nothing else timed out.
        sticky_reverts = [
            e
            for e in out.events
            if e["eventType"] == "DecisionTaskTimedOut"
            and e["decisionTaskTimedOutEventAttributes"]["timeoutType"] == "SCHEDULE_TO_START"
        ]
        reverted += bool(sticky_reverts)
        # no decision task lost or refused: none timed out, none failed, none unhandled
        lost = [k for k in out.kinds if k.endswith(("Failed", "TimedOut"))]
        assert len(lost) == len(sticky_reverts), (wid, out.kinds)
        assert out.kinds.count("DecisionTaskCompleted") == out.kinds.count("DecisionTaskStarted")
    print(f"{reverted} runs had a sticky task handed back to the shared list")
    assert reverted <= WORKFLOWS // 10
    ledger = site.ledger_counts()
    assert set(ledger) == {(wid, task) for wid in ids for task in DAG_IDS}
    assert collections.Counter(ledger.values()) == {1: WORKFLOWS * 5}  # no activity ran twice
    # both deciders and both workers took part
    for service in deciders:
        assert any(r.get("event") == "decision.completed" for r in service.records())
    for service in [*deciders, *workers]:
        service.send(signal.SIGTERM)
    assert [s.stop() for s in deciders + workers] == [0, 0, 0, 0]
