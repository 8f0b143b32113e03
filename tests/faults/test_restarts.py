"""Restarts cost nothing: 200 single-activity workflows, no retry strategy, while the worker
and the decider are restarted every 2 s against SWF's real 60 s long poll. Every workflow
completes, none fails, no activity body runs twice, and no attempt is spent by a restart.

Each stop abandons the idle long poll. What SWF still hands to such a poll comes back: a
decision task after its decision task timeout, an activity task after its heartbeat timeout
(with no heartbeat recorded, so the decider knows it never ran and schedules it again as the
same attempt), or at once when the stopping worker itself gets it and hands it back.
"""

from __future__ import annotations

import collections
import signal
import threading
import time

import pytest

from flotod.specs import ActivityTask, DeciderSpec
from tests.faults.conftest import MakeSite
from tests.faults.harness import ACTIVITIES, DECISIONS, outcomes, start_many, wait_all_closed
from tests.services.conftest import Service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

WORKFLOWS = 200
EVERY = 2.0


def test_workflows_lose_nothing_while_services_restart_every_2s(make_site: MakeSite) -> None:
    site = make_site(poll_timeout=60.0)
    # Short timeouts bound what an abandoned poll costs: 5 s for a decision task, 10 s for an
    # activity task a stopped worker's poll received.
    site.register_fault_types(task_timeout=5, start_to_close=120, heartbeat=10)
    spec = DeciderSpec(
        domain=site.domain,
        task_list=DECISIONS,
        default_activity_task_list=ACTIVITIES,
        activity_tasks=[ActivityTask("fault_a", "v1", activity_id="a", input={"pause": 0.2})],
    )
    decider_config = site.decider(spec)
    worker_config = site.worker(heartbeat_seconds=3)
    current: dict[str, Service] = {
        "decider": site.start("decider", decider_config),
        "worker": site.start("worker", worker_config),
    }
    for service in current.values():
        service.wait_for("service.ready")
    stop = threading.Event()
    restarts: collections.Counter[str] = collections.Counter()
    exits: list[tuple[str, int]] = []

    def restart_forever() -> None:
        kinds = ["worker", "decider"]
        while not stop.wait(EVERY):
            kind = kinds[sum(restarts.values()) % 2]
            old = current[kind]
            old.send(signal.SIGTERM)
            exits.append((kind, old.stop(timeout=60)))
            config = decider_config if kind == "decider" else worker_config
            current[kind] = site.start(kind, config)
            restarts[kind] += 1

    restarter = threading.Thread(target=restart_forever, daemon=True)
    restarter.start()
    try:
        # Ten workflows every 2 s: the work spans twenty restarts of each kind.
        runs: dict[str, str] = {}
        for batch in range(0, WORKFLOWS, 10):
            ids = [f"r-{i}" for i in range(batch, batch + 10)]
            runs.update(start_many(site, ids, [{"n": int(wid[2:])} for wid in ids]))
            time.sleep(2.0)
        waited = wait_all_closed(site, runs, timeout=400)
    finally:
        stop.set()
        restarter.join(90)
    print(f"\n{WORKFLOWS} closed in {waited:.0f} s across {dict(restarts)} restarts")
    assert restarts["worker"] >= 8 and restarts["decider"] >= 8, restarts
    assert all(code == 0 for _, code in exits), exits
    found = outcomes(site, runs)
    failed = {wid: o.closing["eventType"] for wid, o in found.items()
              if o.closing["eventType"] != "WorkflowExecutionCompleted"}  # fmt: skip
    assert not failed, f"{len(failed)} did not complete: {dict(list(failed.items())[:5])}"
    assert all(o.result() == {"a": 2 * int(wid[2:])} for wid, o in found.items())
    counts = site.ledger_counts()
    twice = {key: n for key, n in counts.items() if n > 1}
    assert not twice, f"activity bodies that ran more than once: {twice}"
    assert len(counts) == WORKFLOWS
    # No restart spent an attempt: every body ran as attempt 1.
    tries = {entry for entry in site.ledger.read_text().splitlines() if '"try": 1' not in entry}
    assert not tries, f"runs past the first attempt: {list(tries)[:3]}"
    for service in current.values():
        service.send(signal.SIGTERM)
        assert service.stop(timeout=60) == 0
