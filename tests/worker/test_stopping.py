"""Stopping with SWF's real 60 s long poll in flight: fast, and nothing run or lost for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from flotod.localswf import in_process_client, make_backend
from flotod.protocol import HANDED_BACK_REASON, SHUTDOWN_REASON, STARTED_DETAILS
from flotod.swf import RetryPolicy, SwfClient
from flotod.worker import ActivityWorker

from .activities import REGISTRY, RUNS, SAW_CANCEL
from .helpers import WORK, FaultyClient, Scheduler, running, wait_for, wait_started


def _worker(swf: SwfClient, scheduler: Scheduler, **kwargs: Any) -> ActivityWorker:
    return ActivityWorker(scheduler.domain, WORK, swf=swf, registry=REGISTRY, **kwargs)


@pytest.fixture
def long_poll() -> Iterator[SwfClient]:
    """The embedded SWF holding empty polls for 60 s, as SWF does."""
    backend = make_backend(poll_timeout=60)
    yield SwfClient.from_boto(
        in_process_client(backend), retry=RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
    )
    backend.close()


def _start(worker: ActivityWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def _stop_timed(worker: ActivityWorker, thread: threading.Thread, now: bool = False) -> float:
    begun = time.monotonic()
    worker.stop(now=now)
    thread.join(10)
    assert not thread.is_alive(), "run() did not return"
    return time.monotonic() - begun


def test_an_idle_worker_stops_within_two_seconds(long_poll: SwfClient, unique_domain: str) -> None:
    scheduler = Scheduler(long_poll, unique_domain)
    worker = _worker(long_poll, scheduler, concurrency=3)
    thread = _start(worker)
    time.sleep(0.5)  # every lane is inside its 60 s poll
    assert _stop_timed(worker, thread) < 2.0


def test_a_task_arriving_during_a_stop_is_handed_back_unrun(
    long_poll: SwfClient, unique_domain: str
) -> None:
    scheduler = Scheduler(long_poll, unique_domain)
    RUNS.pop("late", None)
    worker = _worker(long_poll, scheduler)
    thread = _start(worker)
    time.sleep(0.5)
    assert _stop_timed(worker, thread) < 2.0
    scheduler.schedule(("late", "counted", "1", {}))  # the abandoned poll receives it
    closed = scheduler.wait_closed(1, timeout=10)
    assert (closed["late"]["type"], closed["late"]["reason"]) == (
        "ActivityTaskFailed",
        HANDED_BACK_REASON,
    )
    assert "late" not in RUNS


def test_a_warm_stop_finishes_running_work_and_takes_no_new(
    long_poll: SwfClient, unique_domain: str
) -> None:
    scheduler = Scheduler(long_poll, unique_domain)
    for key in ("busy", "new"):
        RUNS.pop(key, None)
    scheduler.schedule(("busy", "counted", "1", {"seconds": 1.5}))
    worker = _worker(long_poll, scheduler, concurrency=2)
    thread = _start(worker)
    wait_started(scheduler)
    wait_for(lambda: worker.stats.running == 1)
    time.sleep(0.2)  # the other lane is inside its 60 s poll
    worker.stop()
    long_poll.signal_workflow_execution(scheduler.domain, scheduler.workflow_id, "more")
    scheduler.schedule(("new", "counted", "1", {}))
    thread.join(10)
    assert not thread.is_alive()
    closed = scheduler.wait_closed(2, timeout=10)
    assert closed["busy"]["type"] == "ActivityTaskCompleted"
    assert (closed["new"]["type"], closed["new"]["reason"]) == (
        "ActivityTaskFailed",
        HANDED_BACK_REASON,
    )
    assert RUNS.get("busy") == 1
    assert "new" not in RUNS


def test_a_quick_stop_requests_cancellation_before_reporting(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    SAW_CANCEL.clear()
    scheduler.schedule(("q", "until_cancel", "1", {"details": "working", "seconds": 30}))
    worker = _worker(swf, scheduler)
    with running(worker, now=True):
        wait_started(scheduler)
        wait_for(lambda: worker.stats.running == 1)
        time.sleep(0.2)
        worker.stop(now=True)
        closed = scheduler.wait_closed(1, timeout=10)
        wait_for(lambda: SAW_CANCEL == ["q"], timeout=5)
    assert (closed["q"]["type"], closed["q"]["reason"]) == ("ActivityTaskFailed", SHUTDOWN_REASON)


def test_a_taken_task_beats_at_once_with_the_started_marker_and_never_empty(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    client = FaultyClient(swf)
    scheduler.schedule(("c", "counted", "1", {"seconds": 0.6}))
    with running(_worker(client, scheduler, heartbeat_in_seconds=0.1)):
        scheduler.wait_closed(1)
    assert client.beats[0] == STARTED_DETAILS
    assert len(client.beats) >= 3
    assert set(client.beats) == {STARTED_DETAILS}  # the activity set no details of its own
