"""Activities the fault tests' worker processes serve (``modules = ["tests.faults.acts"]``).

The five-task DAG computes from the workflow's input ``n`` (a, b from n; c from a and b; d and
e from c), so a result handed to the wrong workflow shows in the final result. Every run is
appended to the ledger file named by FLOTOD_FAULTS_LEDGER (one short JSON line, written with a
single O_APPEND write, so lines from many processes never interleave): the tests count
executions per workflow and activity from it.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from flotod.worker import activity, current_task, generator

LEDGER_ENV = "FLOTOD_FAULTS_LEDGER"


def _record() -> None:
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    task = current_task()
    line = json.dumps(
        {"wf": task.workflow_id, "act": task.activity_id, "try": task.attempt, "pid": os.getpid()}
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _pause(context: Any) -> None:
    """Sleep ``pause`` seconds (the task's own input), heartbeating: kill tests need time."""
    args = context.get("activity_task") or {}
    left = float(args.get("pause", 0))
    while left > 0:
        step = min(left, 0.25)
        time.sleep(step)
        left -= step
        current_task().heartbeat()


def expected_result(n: int) -> dict[str, int]:
    """What a workflow with input ``{"n": n}`` must return."""
    c = (2 * n) * (n + 7)
    return {"d": c + 1, "e": c - 1}


@activity("fault_a", "v1")
def fault_a(context: Any) -> int:
    _record()
    _pause(context)
    return 2 * int(context["workflow"]["n"])


@activity("fault_b", "v1")
def fault_b(context: Any) -> int:
    _record()
    _pause(context)
    return int(context["workflow"]["n"]) + 7


@activity("fault_c", "v1")
def fault_c(context: Any) -> int:
    _record()
    _pause(context)
    return int(context["a"]) * int(context["b"])


@activity("fault_d", "v1")
def fault_d(context: Any) -> int:
    _record()
    _pause(context)
    return int(context["c"]) + 1


@activity("fault_e", "v1")
def fault_e(context: Any) -> int:
    _record()
    _pause(context)
    return int(context["c"]) - 1


@activity("fault_huge", "v1")
def fault_huge(context: Any) -> str:
    """A result over SWF's 32,768 characters."""
    _record()
    return "x" * 40_000


@generator("fault_garbage", "v1")
def fault_garbage(context: Any) -> Any:
    """A generator that returns something that is not a list of tasks."""
    _record()
    return {"not": "a list of tasks"}


ACTIVITY_TYPES = [
    ("fault_a", "v1"),
    ("fault_b", "v1"),
    ("fault_c", "v1"),
    ("fault_d", "v1"),
    ("fault_e", "v1"),
    ("fault_huge", "v1"),
    ("fault_garbage", "v1"),
]
