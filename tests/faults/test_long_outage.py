"""Five minutes without SWF while every worker lane is busy: every finished result is
delivered once SWF is back, no activity runs twice, no workflow fails, and no service gives
systemd a reason to restart it (WATCHDOG=1 keeps coming throughout).

The services reach the endpoint through a proxy the test cuts; the endpoint itself (and so
SWF's clocks) runs on, as SWF does while a host has lost its network. The endpoint holds
polls for SWF's real 60 s.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.harness import check_dag_results, dag_spec, outcomes, start_many, wait_all_closed
from tests.services.conftest import NotifySocket, eventually
from tests.services.proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

OUTAGE = 300.0
WATCHDOG_SEC = 120  # the units' WatchdogSec=
PAUSE = 15.0  # each activity's run time: the outage begins while they all run


def watchdog_gaps(sock: NotifySocket, since: float, until: float) -> list[float]:
    beats = [t for t, m in sock.stamped if "WATCHDOG=1" in m.split("\n") and since <= t <= until]
    return [b - a for a, b in zip([since, *beats], [*beats, until], strict=True)]


def test_a_five_minute_outage_with_every_lane_busy(make_site: MakeSite) -> None:
    site = make_site(poll_timeout=60.0)
    # Timeouts longer than the outage: SWF itself must not give up on the tasks meanwhile.
    site.register_fault_types(task_timeout=30, start_to_close=1800, heartbeat=900)
    proxy = TcpProxy(site.endpoint.port, lifetime=1200)
    site.url = proxy.url  # the services go through the proxy; the test's own client does not
    kinds = ("decider", "worker-hb0", "worker-hb30", "daemon")
    sockets = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))
    notify = {kind: NotifySocket(str(sockets / kind)) for kind in kinds}
    try:
        env = {
            kind: {"NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": str(WATCHDOG_SEC * 1_000_000)}
            for kind, sock in notify.items()
        }
        services = {
            "decider": site.start(
                "decider", site.decider(dag_spec(site.domain, pause=PAUSE)), env["decider"]
            ),
            "worker-hb0": site.start(
                "worker", site.worker("hb0", concurrency=2, heartbeat_seconds=0), env["worker-hb0"]
            ),
            "worker-hb30": site.start(
                "worker",
                site.worker("hb30", concurrency=2, heartbeat_seconds=30),
                env["worker-hb30"],
            ),
            "daemon": site.start("daemon", site.config("daemon"), env["daemon"]),
        }
        for service in services.values():
            service.wait_for("service.ready")
        began = time.monotonic()
        ids = ["busy-0", "busy-1"]
        inputs = {wid: i + 3 for i, wid in enumerate(ids)}
        runs = start_many(site, ids, [{"n": inputs[wid]} for wid in ids])
        # a and b of both workflows: four activities on four lanes, all running.
        eventually(lambda: len(site.ledger_counts()) == 4, timeout=60, what="every lane busy")

        proxy.cut()
        cut_at = time.monotonic()
        time.sleep(OUTAGE)
        for kind, service in services.items():
            assert service.proc.poll() is None, f"{kind} exited during the outage"
        proxy.restore()
        restored_at = time.monotonic()

        wait_all_closed(site, runs, timeout=240)
        check_dag_results(outcomes(site, runs), inputs)
        twice = {key: n for key, n in site.ledger_counts().items() if n != 1}
        assert not twice, f"activities that ran more than once: {twice}"
        assert len(site.ledger_counts()) == 10  # a..e of both workflows, once each
        for kind, sock in notify.items():
            gaps = watchdog_gaps(sock, began, time.monotonic())
            print(f"\n{kind}: longest gap between WATCHDOG=1: {max(gaps):.1f} s")
            assert max(gaps) <= WATCHDOG_SEC / 2 + 5, (kind, max(gaps), cut_at, restored_at)
        for service in services.values():
            service.send(signal.SIGTERM)
        assert all(service.stop(timeout=60) == 0 for service in services.values())
    finally:
        proxy.close()
        for sock in notify.values():
            sock.close()
        shutil.rmtree(sockets, ignore_errors=True)
