"""What an operator reads about tasks: failures at warning with message and traceback, and an
activity's own records carrying the task's fields under either executor."""

from __future__ import annotations

import io
from typing import Any

import pytest

from flotod.runtime.logging import configure_logging
from flotod.swf import SwfClient
from flotod.worker import ActivityWorker
from tests.runtime.conftest import Datagrams
from tests.runtime.test_logging import parse_journal

from .activities import REGISTRY
from .helpers import WORK, Scheduler, running

pytestmark = pytest.mark.usefixtures("reset_logging")


def _worker(swf: SwfClient, scheduler: Scheduler, **kwargs: Any) -> ActivityWorker:
    return ActivityWorker(scheduler.domain, WORK, swf=swf, registry=REGISTRY, **kwargs)


def _entries(datagrams: Datagrams) -> list[dict[str, bytes]]:
    return [parse_journal(d) for d in datagrams.all()]


def _one(entries: list[dict[str, bytes]], event: str) -> dict[str, bytes]:
    found = [e for e in entries if e.get("EVENT") == event.encode()]
    assert len(found) == 1, [e.get("EVENT") for e in entries]
    return found[0]


def test_a_failure_is_a_warning_with_its_message_and_traceback(
    swf: SwfClient, scheduler: Scheduler, datagrams: Datagrams
) -> None:
    configure_logging("info", "journal", io.StringIO(), journal_socket=datagrams.path)
    scheduler.schedule(("o", "oserror", "1", None), ("e", "echo", "1", {"x": 1}))
    with running(_worker(swf, scheduler, concurrency=2)):
        scheduler.wait_closed(2)
    entries = _entries(datagrams)
    failed = _one(entries, "activity.failed")
    assert failed["PRIORITY"] == b"4"
    assert b"No space left on device" in failed["MESSAGE"]
    assert b"Traceback" not in failed["MESSAGE"]  # one line for journalctl; the rest below
    assert failed["TRACEBACK"].startswith(b"Traceback (most recent call last)")
    assert b"in oserror" in failed["TRACEBACK"]
    assert failed["ACTIVITY_ID"] == b"o"
    completed = _one(entries, "activity.completed")
    assert completed["PRIORITY"] == b"6"
    assert not [k for k, v in completed.items() if v == b"null"], completed
    assert "REASON" not in completed


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_an_activitys_own_records_carry_the_task_and_its_priority(
    swf: SwfClient, scheduler: Scheduler, datagrams: Datagrams, executor: str
) -> None:
    configure_logging("info", "journal", io.StringIO(), journal_socket=datagrams.path)
    scheduler.schedule(("talk", "chatty", "1", None))
    with running(_worker(swf, scheduler, executor=executor)):
        closed = scheduler.wait_closed(1, timeout=15)
    assert closed["talk"]["type"] == "ActivityTaskCompleted"
    entries = _entries(datagrams)
    ids = {
        "WORKFLOW_ID": scheduler.workflow_id.encode(),
        "RUN_ID": scheduler.run_id.encode(),
        "ACTIVITY_ID": b"talk",
    }
    stdlib = _one(entries, "disk sda almost full")
    assert stdlib["PRIORITY"] == b"4"
    assert stdlib["LOGGER"] == b"tests.chatty"
    structured = _one(entries, "chatty.structlog")
    assert structured["PRIORITY"] == b"3"
    assert structured["SIZE"] == b"3"
    checked = [stdlib, structured]
    if executor == "process":  # a thread's print is the process's stdout, not a record
        printed = _one(entries, "printed line")
        assert printed["PRIORITY"] == b"6"
        checked.append(printed)
    for entry in checked:
        assert {k: entry.get(k) for k in ids} == ids, entry
