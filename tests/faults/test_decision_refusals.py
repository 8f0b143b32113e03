"""SWF refusing a share of ScheduleActivityTask decisions for its rate and open limits, as SWF
reports them (a ScheduleActivityTaskFailed event and a new decision task): every workflow
completes, and no retry is spent on it. The spec has no retry strategy, so a refusal counted
as a failure would fail its workflow."""

from __future__ import annotations

import json
import signal

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.harness import check_dag_results, dag_spec, outcomes, start_many, wait_all_closed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_transient_refusals_spend_no_retry(make_site: MakeSite) -> None:
    site = make_site(decision_failures=0.3)
    site.register_fault_types(task_timeout=10)
    decider = site.start("decider", site.decider(dag_spec(site.domain)))
    worker = site.start("worker", site.worker())
    for service in (decider, worker):
        service.wait_for("service.ready")
    ids = [f"refused-{i}" for i in range(20)]
    inputs = {wid: i for i, wid in enumerate(ids)}
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
    wait_all_closed(site, runs, timeout=200)
    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    refused = [
        e["scheduleActivityTaskFailedEventAttributes"]["cause"]
        for o in found.values()
        for e in o.events
        if e["eventType"] == "ScheduleActivityTaskFailed"
    ]
    assert refused, "the endpoint refused nothing: the test proves nothing"
    assert set(refused) <= {"ACTIVITY_CREATION_RATE_EXCEEDED", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"}
    # Each activity ran once, as its first attempt: the refusals cost time, not retries.
    counts = site.ledger_counts()
    assert len(counts) == 5 * len(ids) and set(counts.values()) == {1}
    assert all(json.loads(line)["try"] == 1 for line in site.ledger.read_text().splitlines())
    print(f"\n{len(refused)} ScheduleActivityTask decisions refused; every workflow completed")
    for service in (decider, worker):
        service.send(signal.SIGTERM)
    assert decider.stop() == 0 and worker.stop() == 0
