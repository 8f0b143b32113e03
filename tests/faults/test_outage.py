"""The SWF endpoint unreachable for 30 s under running services: they stay up, say so in
STATUS= and their logs, back off, and finish every workflow once it is back."""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from functools import partial
from pathlib import Path

import pytest

from flotod.specs import InstantRetry
from tests.faults.conftest import MakeSite
from tests.faults.harness import check_dag_results, dag_spec, outcomes, start_many, wait_all_closed
from tests.services.conftest import NotifySocket, eventually
from tests.services.proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OUTAGE = 30.0


def _reports_outage(sock: NotifySocket) -> bool:
    """The decider shows "retrying in N s after: <error>", the worker its counts and
    "SWF unreachable, retrying: <error>"."""
    return any(m.startswith("STATUS=") and "retrying" in m for m in sock.messages)


def _polling_again(sock: NotifySocket) -> bool:
    last = [m for m in sock.messages if m.startswith("STATUS=")][-1:]
    return bool(last) and last[0].startswith("STATUS=polling fault_") and "retrying" not in last[0]


def test_services_ride_out_a_30_second_outage(make_site: MakeSite) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=5, start_to_close=15)
    proxy = TcpProxy(site.endpoint.port, lifetime=200)
    site.url = proxy.url  # the services' configs go through the proxy; the test's client not
    sockets = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))
    notify = {kind: NotifySocket(str(sockets / kind)) for kind in ("decider", "worker")}
    try:
        spec = dag_spec(site.domain, retry=InstantRetry(5))
        decider = site.start(
            "decider", site.decider(spec), env={"NOTIFY_SOCKET": notify["decider"].path}
        )
        worker = site.start("worker", site.worker(), env={"NOTIFY_SOCKET": notify["worker"].path})
        for service in (decider, worker):
            service.wait_for("service.ready")
        ids = [f"before-{i}" for i in range(10)]
        inputs = {wid: i for i, wid in enumerate(ids)}
        runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
        wait_all_closed(site, runs, timeout=30)

        proxy.cut()
        cut_at = time.monotonic()
        during = [f"during-{i}" for i in range(20)]
        inputs.update({wid: 1000 + i for i, wid in enumerate(during)})
        runs.update(start_many(site, during, [{"n": inputs[wid]} for wid in during]))
        for kind, sock in notify.items():
            eventually(
                partial(_reports_outage, sock),
                timeout=15,
                what=f"the {kind} to report the outage in STATUS=",
            )
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
        assert decider.proc.poll() is None and worker.proc.poll() is None
        failed = decider.wait_for("decision.poll_failed")
        assert failed["retry_in"] > 0 and failed["task_list"] == "fault_dt" and failed["error"]
        worker.wait_for("worker.poll_failed")
        # backing off: a handful of attempts in 30 s, not a tight loop
        attempts = decider.events().count("decision.poll_failed")
        assert 3 <= attempts <= 20, attempts
        assert proxy.refused > 0
        assert all(site.history(wid, runs[wid])[-1]["eventType"].startswith("Decision")
                   or len(site.history(wid, runs[wid])) <= 3 for wid in during)  # fmt: skip

        proxy.restore()
        restored_at = time.monotonic()
        waited = wait_all_closed(site, runs, timeout=120)
        print(f"\nall {len(runs)} closed {time.monotonic() - restored_at:.1f} s after the "
              f"endpoint returned ({waited:.1f} s of waiting)")  # fmt: skip
        check_dag_results(outcomes(site, runs), inputs)
        for kind, sock in notify.items():
            eventually(
                partial(_polling_again, sock),
                timeout=20,
                what=f"the {kind}'s STATUS= to show it polling again",
            )
        for service in (decider, worker):
            service.send(signal.SIGTERM)
        assert decider.stop() == 0 and worker.stop() == 0
    finally:
        proxy.close()
        for sock in notify.values():
            sock.close()
        shutil.rmtree(sockets, ignore_errors=True)
