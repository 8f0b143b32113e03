"""Heartbeats, cancellation, stopping and the process executor, on the embedded SWF."""

from __future__ import annotations

import json
import os
import time

import pytest

from flotod.protocol import HANDED_BACK_REASON, STARTED_DETAILS
from flotod.swf import RetryPolicy, SwfClient
from flotod.worker import SHUTDOWN_REASON, ActivityWorker

from .activities import REGISTRY
from .helpers import (
    WORK,
    FaultyClient,
    Scheduler,
    running,
    started_but_open,
    wait_for,
    wait_started,
)


def _worker(swf: SwfClient, scheduler: Scheduler, **kwargs: object) -> ActivityWorker:
    return ActivityWorker(scheduler.domain, WORK, swf=swf, registry=REGISTRY, **kwargs)  # type: ignore[arg-type]


def _request_cancel(scheduler: Scheduler, activity_id: str) -> None:
    """As a decider would: wake the workflow with a signal, answer RequestCancelActivityTask."""
    scheduler.swf.signal_workflow_execution(scheduler.domain, scheduler.workflow_id, "cancel")
    decision = scheduler.swf.poll_for_decision_task(scheduler.domain, "decide")
    assert decision is not None
    scheduler.swf.respond_decision_task_completed(
        decision.task_token,
        [
            {
                "decisionType": "RequestCancelActivityTask",
                "requestCancelActivityTaskDecisionAttributes": {"activityId": activity_id},
            }
        ],
    )


def test_heartbeats_carry_latest_details_and_survive_throttling(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    client = FaultyClient(swf)
    client.faults["record_activity_task_heartbeat"] = 2
    client.faults["respond_activity_task_completed"] = 2
    scheduler.schedule(("p", "progress", "1", {"steps": 30, "pause": 0.05}))
    worker = _worker(
        client,
        scheduler,
        heartbeat_in_seconds=0.2,
        report_retry=RetryPolicy(max_attempts=5, sleep=lambda _s: None),
    )
    with running(worker):
        closed = scheduler.wait_closed(1)
    assert closed["p"]["type"] == "ActivityTaskCompleted"
    assert json.loads(closed["p"]["result"]) == "all done"
    steps = [json.loads(b)["step"] for b in client.beats if b]
    assert len(steps) >= 2, client.beats
    assert steps == sorted(steps) and steps[-1] > steps[0]
    assert client.faults == {
        "record_activity_task_heartbeat": 0,
        "respond_activity_task_completed": 0,
    }


def test_no_heartbeats_when_disabled(swf: SwfClient, scheduler: Scheduler) -> None:
    """Only the started marker, which proves to the decider that the task ran."""
    client = FaultyClient(swf)
    scheduler.schedule(("p", "progress", "1", {"steps": 10, "pause": 0.05}))
    with running(_worker(client, scheduler, heartbeat_in_seconds=0)):
        assert scheduler.wait_closed(1)["p"]["type"] == "ActivityTaskCompleted"
    assert client.beats == [STARTED_DETAILS]


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_cancellation_mid_activity(swf: SwfClient, scheduler: Scheduler, executor: str) -> None:
    scheduler.schedule(("p", "progress", "1", {"steps": 2000, "pause": 0.02}))
    worker = _worker(swf, scheduler, heartbeat_in_seconds=0.2, executor=executor)
    with running(worker):
        wait_started(scheduler)
        # Mid-activity: once it reported progress (an activity process may take a while to start).
        wait_for(lambda: any(json.loads(t.details or "{}").get("step", 0) > 0
                             for t in worker.running_tasks()))  # fmt: skip
        time.sleep(0.1)
        _request_cancel(scheduler, "p")
        closed = scheduler.wait_closed(1, timeout=15)
    assert closed["p"]["type"] == "ActivityTaskCanceled"
    details = json.loads(closed["p"]["details"])
    assert details["step"] > 0
    assert (details["pid"] == os.getpid()) == (executor == "thread")
    assert worker.stats.canceled == 1


def test_process_ignoring_cancel_is_ended_after_grace(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(("s", "stubborn", "1", {"seconds": 60}))
    worker = _worker(
        swf, scheduler, heartbeat_in_seconds=0.2, executor="process", cancel_grace_seconds=0.5
    )
    with running(worker):
        wait_started(scheduler)
        begun = time.monotonic()
        _request_cancel(scheduler, "s")
        closed = scheduler.wait_closed(1, timeout=15)
        assert time.monotonic() - begun < 10
    assert closed["s"]["type"] == "ActivityTaskCanceled"
    assert closed["s"]["details"] == "working"


def test_task_unknown_to_swf_is_stopped_and_not_reported(
    swf: SwfClient, scheduler: Scheduler
) -> None:
    scheduler.schedule(("p", "progress", "1", {"steps": 2000, "pause": 0.02}))
    worker = _worker(swf, scheduler, heartbeat_in_seconds=0.2)
    with running(worker):
        wait_started(scheduler)
        swf.terminate_workflow_execution(scheduler.domain, scheduler.workflow_id, reason="test")
        deadline = time.monotonic() + 10
        while worker.stats.canceled == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert worker.stats.canceled == 1
    assert worker.stats.running == 0


def test_graceful_stop_finishes_running_tasks(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(("a", "sleep", "1", {"seconds": 1.0}), ("b", "sleep", "1", {"seconds": 1.0}))
    worker = _worker(swf, scheduler, concurrency=2)
    with running(worker) as thread:
        wait_started(scheduler, 2)
        # Both taken by the worker, not just started in SWF: one still on its way back from
        # the poll when stop() comes would rightly be handed back.
        wait_for(lambda: worker.stats.running == 2)
        worker.stop()
        thread.join(15)
        assert not thread.is_alive()
    closed = scheduler.closed()
    assert {k: v["type"] for k, v in closed.items()} == {
        "a": "ActivityTaskCompleted",
        "b": "ActivityTaskCompleted",
    }
    assert worker.stats.finished == 2


def test_graceful_stop_during_poll_loses_nothing(swf: SwfClient, scheduler: Scheduler) -> None:
    worker = _worker(swf, scheduler)
    with running(worker):
        time.sleep(0.3)  # the worker is now inside a long poll
        worker.stop()
        scheduler.schedule(("late", "echo", "1", {"x": 1}))
    # Either the abandoned poll took the task and handed it back unrun, or it is still scheduled.
    wait_for(lambda: started_but_open(scheduler) == [], timeout=5)
    closed = scheduler.closed()
    if "late" in closed:
        assert (closed["late"]["type"], closed["late"]["reason"]) == (
            "ActivityTaskFailed",
            HANDED_BACK_REASON,
        )


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_forced_stop_fails_running_tasks_for_retry(
    swf: SwfClient, scheduler: Scheduler, executor: str
) -> None:
    scheduler.schedule(
        ("s", "stubborn", "1", {"seconds": 60}), ("t", "sleep", "1", {"seconds": 60})
    )
    worker = _worker(swf, scheduler, concurrency=2, executor=executor)
    with running(worker, now=True) as thread:
        wait_started(scheduler, 2)
        wait_for(lambda: worker.stats.running == 2)  # taken, not only started in SWF
        begun = time.monotonic()
        worker.stop(now=True)
        thread.join(15)
        assert time.monotonic() - begun < 5
    closed = scheduler.closed()
    assert {k: (v["type"], v["reason"]) for k, v in closed.items()} == {
        "s": ("ActivityTaskFailed", SHUTDOWN_REASON),
        "t": ("ActivityTaskFailed", SHUTDOWN_REASON),
    }
    assert started_but_open(scheduler) == []
    assert worker.stats.failed == 2


def test_process_executor_runs_elsewhere(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(
        ("w", "whoami", "1", {"__flotod__": {"attempt": 1}}),
        ("boom", "boom", "1", "raw"),
        ("v", "value", "1", {"value": 0}),
    )
    worker = _worker(swf, scheduler, executor="process", concurrency=3)
    with running(worker):
        closed = scheduler.wait_closed(3)
    who = json.loads(closed["w"]["result"])
    assert who["pid"] != os.getpid()
    assert (who["activity_id"], who["attempt"]) == ("w", 1)
    assert closed["boom"]["reason"] == "KeyError"
    assert json.loads(closed["v"]["result"]) == 0


def test_concurrency_is_used_and_never_exceeded(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(*[(f"s{i}", "sleep", "1", {"seconds": 0.4}) for i in range(8)])
    worker = _worker(swf, scheduler, concurrency=3)
    peak = 0
    with running(worker):
        while worker.stats.finished < 8:
            peak = max(peak, worker.stats.running)
            time.sleep(0.01)
    assert 2 <= peak <= 3
    assert started_but_open(scheduler) == []


def test_a_poll_that_cannot_succeed_ends_run(swf: SwfClient) -> None:
    from flotod.errors import UnknownResourceError

    worker = ActivityWorker("no-such-domain", WORK, swf=swf, registry=REGISTRY, concurrency=3)
    with pytest.raises(UnknownResourceError):
        worker.run()
    assert worker.stats.running == 0
