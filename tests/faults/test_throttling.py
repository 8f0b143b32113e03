"""20 % of every SWF call throttled (the embedded SWF's fault injection): the services do not
crash, back off and retry visibly (``swf.retry`` records), and every workflow completes."""

from __future__ import annotations

import signal

import pytest

from flotod.specs import InstantRetry
from tests.faults.conftest import MakeSite
from tests.faults.harness import (
    check_dag_results,
    dag_spec,
    outcomes,
    start_many,
    swf_retries,
    wait_all_closed,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_services_ride_out_throttling(make_site: MakeSite) -> None:
    site = make_site(throttling=0.2)
    # A response lost to throttling after the client's own retries times the task out:
    # short timeouts and a retry strategy bring it back.
    site.register_fault_types(task_timeout=5, start_to_close=10)
    spec = dag_spec(site.domain, retry=InstantRetry(5))
    deciders = [site.start("decider", site.decider(spec, f"d{i}")) for i in range(2)]
    workers = [site.start("worker", site.worker(f"w{i}")) for i in range(2)]
    services = deciders + workers
    for service in services:
        service.wait_for("service.ready", timeout=30)
    ids = [f"th-{i:03d}" for i in range(150)]
    inputs = {wid: 7 * i for i, wid in enumerate(ids)}
    runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
    waited = wait_all_closed(site, runs, timeout=150)
    print(f"\n{len(ids)} throttled workflows closed in {waited:.1f} s")

    found = outcomes(site, runs)
    check_dag_results(found, inputs)
    ledger = site.ledger_counts()
    for wid, out in found.items():
        # an activity ran again only when SWF handed it out again after a lost attempt
        ran = sum(count for (workflow, _), count in ledger.items() if workflow == wid)
        assert ran == out.kinds.count("ActivityTaskStarted"), (wid, out.kinds)
        lost = out.kinds.count("ActivityTaskTimedOut")
        assert sum(out.scheduled().values()) == 5 + lost, (wid, out.scheduled())
    retries = swf_retries(services)
    assert retries, "no swf.retry record: throttling was not retried visibly"
    assert {r["code"] for r in retries} == {"ThrottlingException"}
    assert all(r["level"] == "warning" and r["delay_seconds"] >= 0 for r in retries)
    for kind in ("decider", "worker"):
        assert any(r in retries for s in services if s.kind == kind for r in s.records())
    for service in services:
        assert service.proc.poll() is None, f"{service.kind} exited"
        assert not [e for e in service.events() if e.endswith("crashed")]
        service.send(signal.SIGTERM)
    assert [s.stop() for s in services] == [0, 0, 0, 0]
