"""Results that finish while SWF is unreachable for longer than the old report budget
(5 attempts, 15-36 s) are delivered once it is back: no activity runs twice, none fails."""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.harness import check_dag_results, dag_spec, outcomes, start_many, wait_all_closed
from tests.services.conftest import eventually
from tests.services.proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OUTAGE = 45.0


def test_results_finished_during_an_outage_are_delivered_after_it(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=5, start_to_close=900)
    proxy = TcpProxy(site.endpoint.port, lifetime=250)
    site.url = proxy.url  # the services go through the proxy; the test's own client does not
    try:
        # No retry strategy: a task given up on would fail its workflow, not be run again.
        decider = site.start("decider", site.decider(dag_spec(site.domain, pause=3.0)))
        worker = site.start("worker", site.worker(heartbeat_seconds=1))
        for service in (decider, worker):
            service.wait_for("service.ready")
        ids = [f"w-{i}" for i in range(4)]
        inputs = {wid: i for i, wid in enumerate(ids)}
        runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
        # a and b of every workflow: eight tasks on the worker's eight lanes
        eventually(lambda: len(site.ledger_counts()) >= 8, timeout=30, what="8 tasks running")
        proxy.cut()  # they finish 3 s into the outage, with nowhere to report
        time.sleep(OUTAGE)
        assert worker.proc.poll() is None and decider.proc.poll() is None
        assert "activity.report_retry" in worker.events()
        proxy.restore()
        wait_all_closed(site, runs, timeout=150)
        check_dag_results(outcomes(site, runs), inputs)
        counts = site.ledger_counts()
        assert len(counts) == 5 * len(ids)
        assert set(counts.values()) == {1}, counts
        for service in (decider, worker):
            service.send(signal.SIGTERM)
        assert decider.stop() == 0 and worker.stop() == 0
    finally:
        proxy.close()
