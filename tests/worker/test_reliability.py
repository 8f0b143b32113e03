"""Nothing lost, nothing wedged: reports outlive outages, lanes outlive bad tasks, heartbeats
outlive a black-holed network, and the heartbeat interval changes while tasks run."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import structlog.testing

from flotod.errors import AccessDeniedError, TransientSwfError
from flotod.localswf import make_server
from flotod.localswf.backend import LocalSWFBackend
from flotod.protocol import SHUTDOWN_REASON
from flotod.swf import NO_RETRY, RetryPolicy, SwfClient
from flotod.worker import ActivityWorker
from tests.conftest import endpoint_client
from tests.services.proxy import TcpProxy

from .activities import REGISTRY, RUNS
from .helpers import (
    WORK,
    BlackHole,
    FaultyClient,
    Scheduler,
    running,
    started_but_open,
    wait_for,
    wait_started,
)

FAST = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)


def _worker(swf: SwfClient, scheduler: Scheduler, **kwargs: Any) -> ActivityWorker:
    return ActivityWorker(scheduler.domain, WORK, swf=swf, registry=REGISTRY, **kwargs)


@pytest.fixture
def served(swf_backend: LocalSWFBackend) -> Iterator[str]:
    """The embedded SWF over HTTP, for tests that put a proxy between it and the worker."""
    server = make_server(swf_backend)
    server.start_in_thread()
    yield server.url
    server.stop()


def _client_via(url: str) -> SwfClient:
    """A worker's own client, built as the services build it, through ``url``."""
    return SwfClient(
        endpoint_url=url,
        region="us-east-1",
        access_key_id="local",
        secret_access_key="local",
        retry=FAST,
    )


def test_a_result_outlives_an_outage_longer_than_the_report_budget(
    served: str, unique_domain: str
) -> None:
    scheduler = Scheduler(SwfClient.from_boto(endpoint_client(served), retry=FAST), unique_domain)
    port = int(served.rsplit(":", 1)[1])
    proxy = TcpProxy(port, lifetime=60)
    RUNS.pop("r", None)
    scheduler.schedule(("r", "counted", "1", {"seconds": 1.0}))
    # Five report attempts of this policy take well under a second: the old budget.
    worker = _worker(
        _client_via(proxy.url),
        scheduler,
        heartbeat_in_seconds=0.2,
        report_retry=RetryPolicy(max_attempts=5, base_seconds=0.05, cap_seconds=0.2),
    )
    try:
        with running(worker):
            wait_for(lambda: RUNS.get("r") == 1)  # the body runs: the task reached the worker
            proxy.cut()
            time.sleep(5.0)  # the body ends after 1 s; the old budget ran out well before 5 s
            assert worker.stats.running == 1, "the finished result was given up"
            assert [t.info.activity_id for t in worker.running_tasks()] == ["r"]
            assert scheduler.closed() == {}
            proxy.restore()
            closed = scheduler.wait_closed(1)
    finally:
        proxy.close()
    assert closed["r"]["type"] == "ActivityTaskCompleted"
    assert RUNS["r"] == 1
    assert worker.stats.finished == 1


def test_expired_credentials_delay_a_report_but_do_not_drop_it(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    client = FaultyClient(swf)
    expired = AccessDeniedError(
        "respond_activity_task_completed: ExpiredTokenException: expired",
        code="ExpiredTokenException",
    )
    client.errors["respond_activity_task_completed"] = [expired, expired, expired]
    scheduler.schedule(("e", "echo", "1", {"x": 1}))
    worker = _worker(client, scheduler, report_retry=FAST)
    with running(worker):
        closed = scheduler.wait_closed(1, timeout=10)
    assert closed["e"]["type"] == "ActivityTaskCompleted"
    assert client.errors["respond_activity_task_completed"] == []


def test_a_lane_survives_a_task_whose_input_breaks_decoding(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    # 3,000 nested brackets make json.loads raise RecursionError, not ValueError.
    scheduler.schedule(("deep", "echo", "1", "[" * 3000))
    worker = _worker(swf, scheduler, concurrency=1)
    with running(worker):
        first = scheduler.wait_closed(1, timeout=10)
        assert first["deep"]["type"] in ("ActivityTaskFailed", "ActivityTaskCompleted")
        scheduler.swf.signal_workflow_execution(scheduler.domain, scheduler.workflow_id, "more")
        scheduler.schedule(("after", "echo", "1", {"x": 1}))
        closed = scheduler.wait_closed(2, timeout=10)
    assert closed["after"]["type"] == "ActivityTaskCompleted"
    assert started_but_open(scheduler) == []
    assert worker.stats.running == 0


def test_a_black_holed_heartbeat_stalls_no_other_beat_or_settlement(
    served: str, unique_domain: str
) -> None:
    scheduler = Scheduler(SwfClient.from_boto(endpoint_client(served), retry=FAST), unique_domain)
    hole = BlackHole(served, holes=("black-hole",), watch=("steady",))
    scheduler.schedule(
        ("h", "until_cancel", "1", {"details": "black-hole"}),
        ("s", "until_cancel", "1", {"details": "steady"}),
    )
    worker = _worker(_client_via(hole.url), scheduler, concurrency=2, heartbeat_in_seconds=0.2)
    with running(worker, now=True):
        try:
            wait_started(scheduler, 2)
            wait_for(lambda: hole.held >= 1, timeout=10)
            before = hole.seen["steady"]
            time.sleep(2.0)
            assert hole.seen["steady"] - before >= 4, "the held beat stalled the other task's"
            begun = time.monotonic()
            worker.stop(now=True)
            closed = scheduler.wait_closed(2, timeout=10)
            assert time.monotonic() - begun < 3, "quick-stop settlements waited on a beat"
        finally:
            hole.close()
    assert {k: (v["type"], v["reason"]) for k, v in closed.items()} == {
        "h": ("ActivityTaskFailed", SHUTDOWN_REASON),
        "s": ("ActivityTaskFailed", SHUTDOWN_REASON),
    }


def test_the_heartbeat_interval_changes_for_running_tasks(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    client = FaultyClient(swf)
    scheduler.schedule(("p", "until_cancel", "1", {"details": "tick", "seconds": 30}))
    worker = _worker(client, scheduler, heartbeat_in_seconds=0)
    with running(worker, now=True):
        wait_started(scheduler)
        time.sleep(0.5)
        assert "tick" not in client.beats
        worker.set_heartbeat_interval(0.1)
        wait_for(lambda: client.beats.count("tick") >= 3, timeout=5)
        worker.set_heartbeat_interval(0)
        time.sleep(0.3)  # a beat already in flight may still land
        count = client.beats.count("tick")
        time.sleep(0.6)
        assert client.beats.count("tick") == count
        worker.set_heartbeat_interval(0.1)
        wait_for(lambda: client.beats.count("tick") >= count + 2, timeout=5)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="heartbeat"):
            worker.set_heartbeat_interval(bad)


def test_a_quick_stop_gives_a_pending_report_a_deadline_then_says_it_is_lost(
    served: str, unique_domain: str
) -> None:
    scheduler = Scheduler(SwfClient.from_boto(endpoint_client(served), retry=FAST), unique_domain)
    proxy = TcpProxy(int(served.rsplit(":", 1)[1]), lifetime=60)
    RUNS.pop("q", None)
    scheduler.schedule(("q", "counted", "1", {"seconds": 0.5}))
    worker = _worker(
        _client_via(proxy.url), scheduler, report_retry=FAST, quick_stop_report_seconds=1.0
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        with structlog.testing.capture_logs() as records:
            thread.start()
            wait_for(lambda: RUNS.get("q") == 1)
            proxy.cut()
            wait_for(lambda: any(r["event"] == "activity.report_retry" for r in records))
            begun = time.monotonic()
            worker.stop(now=True)
            thread.join(10)
            assert not thread.is_alive()
            assert time.monotonic() - begun < 3
    finally:
        proxy.close()
    [lost] = [r for r in records if r["event"] == "activity.report_lost"]
    assert lost["log_level"] == "error"
    assert lost["status"] == "completed"
    assert worker.stats.running == 0


def test_a_held_heartbeat_fails_in_seconds_not_minutes(served: str) -> None:
    hole = BlackHole(served, holes=("held",))
    try:
        client = _client_via(hole.url)
        begun = time.monotonic()
        with pytest.raises(TransientSwfError, match="timeout"):
            client.record_activity_task_heartbeat("token", "held", retry=NO_RETRY)
        took = time.monotonic() - begun
    finally:
        hole.close()
    assert 9 < took < 15, took  # the short client's 10 s read timeout, not the poll's 75 s
