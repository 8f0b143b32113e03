"""Every way a task can end, recorded in SWF's history by a real worker."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog

from flotod.specs import tasks_from_list
from flotod.swf import SwfClient
from flotod.worker import ActivityWorker

from .activities import REGISTRY
from .helpers import WORK, Scheduler, running


def _worker(swf: SwfClient, scheduler: Scheduler, **kwargs: object) -> ActivityWorker:
    return ActivityWorker(
        scheduler.domain,
        WORK,
        swf=swf,
        registry=REGISTRY,
        identity="tester",
        **kwargs,  # type: ignore[arg-type]
    )


def test_results_including_falsy_ones(swf: SwfClient, scheduler: Scheduler) -> None:
    values = [0, "", [], {}, False, None, "text", {"k": [1, 2.5]}]
    scheduler.schedule(
        *[(f"v{i}", "value", "1", {"value": v}) for i, v in enumerate(values)],
        ("nc", "no_context", "1", None),
        ("raw", "echo", "1", "not json {"),
        ("ctx", "echo", "1", {"workflow": {"day": 1}, "__flotod__": {"attempt": 3}}),
        ("who", "whoami", "1", {"__flotod__": {"attempt": 2}}),
    )
    worker = _worker(swf, scheduler, concurrency=4)
    with running(worker):
        closed = scheduler.wait_closed(len(values) + 4)
    assert all(c["type"] == "ActivityTaskCompleted" for c in closed.values()), closed
    for i, v in enumerate(values):
        assert json.loads(closed[f"v{i}"]["result"]) == v
    assert json.loads(closed["nc"]["result"]) == "ran without context"
    assert json.loads(closed["raw"]["result"]) == "not json {"
    assert json.loads(closed["ctx"]["result"]) == {"workflow": {"day": 1}}
    who = json.loads(closed["who"]["result"])
    assert who["workflow_id"] == scheduler.workflow_id
    assert who["run_id"] == scheduler.run_id
    assert (who["activity_id"], who["attempt"]) == ("who", 2)
    stats = worker.stats
    assert (stats.running, stats.finished, stats.failed) == (0, len(values) + 4, 0)


def test_failures_say_why(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(
        ("boom", "boom", "1", {"day": 1}),
        ("unknown", "nosuch", "9", None),
        ("unser", "unserializable", "1", None),
        ("huge", "huge", "1", None),
        ("genbad", "gen_bad", "1", None),
    )
    worker = _worker(swf, scheduler)
    with running(worker):
        closed = scheduler.wait_closed(5)
    assert all(c["type"] == "ActivityTaskFailed" for c in closed.values()), closed
    assert closed["boom"]["reason"] == "KeyError"
    assert "missing {'day': 1}" in closed["boom"]["details"]
    assert "Traceback" in closed["boom"]["details"]
    assert "activities.py" in closed["boom"]["details"]
    assert (
        (closed["unknown"]["reason"])
        == "no activity 'nosuch' version '9' is registered on task list 'work'"
    )
    assert "echo:1" in closed["unknown"]["details"]
    assert closed["unser"]["reason"] == "result is not JSON-serializable"
    assert "object" in closed["unser"]["details"]
    assert closed["huge"]["reason"] == "result too large"
    assert "40002 characters" in closed["huge"]["details"]
    assert closed["genbad"]["reason"] == "generator did not return a list of tasks"
    assert (worker.stats.failed, worker.stats.finished) == (5, 0)


def test_generator_result_is_the_task_json(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(
        ("g", "gen", "1", {"days": ["mon", "tue"]}), ("g0", "gen", "1", {"days": []})
    )
    with running(_worker(swf, scheduler)):
        closed = scheduler.wait_closed(2)
    tasks = tasks_from_list(json.loads(closed["g"]["result"]))
    assert [t.input for t in tasks] == [{"value": "mon"}, {"value": "tue"}]  # type: ignore[attr-defined]
    assert json.loads(closed["g0"]["result"]) == []


def test_each_task_logs_with_its_ids(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(("a1", "boom", "1", {"__flotod__": {"attempt": 4}}))
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        with running(_worker(swf, scheduler)):
            scheduler.wait_closed(1)
    finally:
        structlog.reset_defaults()
    failed = [e for e in capture.entries if e["event"] == "activity.failed"]
    assert len(failed) == 1
    entry = failed[0]
    assert entry["workflow_id"] == scheduler.workflow_id
    assert entry["run_id"] == scheduler.run_id
    assert (entry["activity_id"], entry["attempt"], entry["reason"]) == ("a1", 4, "KeyError")
    started = [e for e in capture.entries if e["event"] == "activity.started"]
    assert started and started[0]["activity_id"] == "a1"


def test_fields_an_activity_binds_end_with_its_task(swf: SwfClient, scheduler: Scheduler) -> None:
    scheduler.schedule(("b1", "binds", "1", {"customer": "acme"}), ("e1", "echo", "1", {"k": 1}))
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        with running(_worker(swf, scheduler)):  # one lane: the two tasks run one after another
            scheduler.wait_closed(2)
    finally:
        structlog.reset_defaults()
    by_activity: dict[str, list[Any]] = {}
    for entry in capture.entries:
        if "activity_id" in entry:
            by_activity.setdefault(str(entry["activity_id"]), []).append(entry)
    note = [e for e in by_activity["b1"] if e["event"] == "activity.note"]
    assert note and note[0]["customer"] == "acme"
    assert any(e["event"] == "activity.completed" for e in by_activity["e1"])
    assert all("customer" not in e for e in by_activity["e1"])
    assert all("activity_id" not in e for e in capture.entries if e["event"] == "worker.stopped")


def test_duplicate_registration_names_both_functions() -> None:
    from flotod.worker import RegistrationError, Registry, activity

    reg = Registry()

    @activity("x", "1", registry=reg)
    def first() -> None:
        return None

    def second() -> None:
        return None

    with pytest.raises(RegistrationError, match=r"first.*second"):
        activity("x", "1", registry=reg)(second)
    assert first() is None  # the decorated function is unchanged and callable
    assert reg.get("x", "1") is not None and reg.get("x", "1").func is first  # type: ignore[union-attr]
