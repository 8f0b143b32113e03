"""Activities the worker tests run; module-level so the process executor can import them."""

from __future__ import annotations

import os
import time
from typing import Any

from flotod.specs import ActivityTask
from flotod.worker import Registry, activity, current_task, generator

REGISTRY = Registry()


@activity("echo", "1", registry=REGISTRY)
def echo(context: Any) -> Any:
    return context


@activity("value", "1", registry=REGISTRY)
def value(context: Any) -> Any:
    return context["value"]


@activity("no_context", "1", registry=REGISTRY)
def no_context() -> str:
    return "ran without context"


@activity("boom", "1", registry=REGISTRY)
def boom(context: Any) -> None:
    raise KeyError(f"missing {context!r}")


@activity("unserializable", "1", registry=REGISTRY)
def unserializable() -> object:
    return {"when": object()}


@activity("huge", "1", registry=REGISTRY)
def huge() -> str:
    return "x" * 40_000


@generator("gen", "1", registry=REGISTRY)
def gen(context: Any) -> list[ActivityTask]:
    return [ActivityTask("value", "1", input={"value": d}) for d in context["days"]]


@generator("gen_bad", "1", registry=REGISTRY)
def gen_bad() -> str:
    return "not tasks"


@activity("whoami", "1", registry=REGISTRY)
def whoami() -> dict[str, Any]:
    task = current_task()
    return {
        "workflow_id": task.workflow_id,
        "run_id": task.run_id,
        "activity_id": task.activity_id,
        "attempt": task.attempt,
        "pid": os.getpid(),
    }


@activity("sleep", "1", registry=REGISTRY)
def sleep(context: Any) -> str:
    time.sleep(context["seconds"])
    return "slept"


@activity("progress", "1", registry=REGISTRY)
def progress(context: Any) -> str:
    """Reports progress until cancelled (or ``steps`` are done); stops promptly on cancel."""
    task = current_task()
    for step in range(context["steps"]):
        task.heartbeat({"step": step, "pid": os.getpid()})
        if task.cancel_requested:
            return f"stopped at {step}"
        time.sleep(context.get("pause", 0.05))
    return "all done"


@activity("stubborn", "1", registry=REGISTRY)
def stubborn(context: Any) -> str:
    """Ignores cancellation: only the process executor can end it early."""
    current_task().heartbeat("working")
    time.sleep(context["seconds"])
    return "finished anyway"


@activity("binds", "1", registry=REGISTRY)
def binds(context: Any) -> str:
    """Binds a log field of its own, as activity code may; it must end with the task."""
    import structlog

    structlog.contextvars.bind_contextvars(customer=context["customer"])
    structlog.get_logger("activity").info("activity.note")
    return "ok"


# Runs per activity id, for tests that prove a body ran once, or never (thread executor only).
RUNS: dict[str, int] = {}
# Activity ids whose body saw cancel_requested before it returned.
SAW_CANCEL: list[str] = []


@activity("counted", "1", registry=REGISTRY)
def counted(context: Any) -> str:
    """Counts its runs, then sleeps ``seconds``."""
    activity_id = current_task().activity_id
    RUNS[activity_id] = RUNS.get(activity_id, 0) + 1
    time.sleep(context.get("seconds", 0))
    return "counted"


@activity("until_cancel", "1", registry=REGISTRY)
def until_cancel(context: Any) -> str:
    """Heartbeats ``details`` until cancellation is requested, then says it saw it."""
    task = current_task()
    deadline = time.monotonic() + context.get("seconds", 60)
    while time.monotonic() < deadline:
        task.heartbeat(context["details"])
        if task.cancel_requested:
            SAW_CANCEL.append(task.activity_id)
            return "saw cancel"
        time.sleep(0.02)
    return "never cancelled"


@activity("chatty", "1", registry=REGISTRY)
def chatty() -> str:
    """Logs through stdlib logging, structlog and print, as activity code does."""
    import logging

    import structlog

    logging.getLogger("tests.chatty").warning("disk %s almost full", "sda")
    structlog.get_logger("chatty").error("chatty.structlog", size=3)
    print("printed line")
    return "ok"


@activity("oserror", "1", registry=REGISTRY)
def oserror() -> None:
    raise OSError(28, "No space left on device")


@activity("measure", "1", registry=REGISTRY)
def measure(context: Any) -> dict[str, Any]:
    """Says what input it saw, small: for tests of large inputs resolved before the body."""
    RUNS[current_task().activity_id] = RUNS.get(current_task().activity_id, 0) + 1
    files = context["files"]
    return {"count": len(files), "first": files[0], "last": files[-1]}


@activity("manifest", "1", registry=REGISTRY)
def manifest(context: Any) -> dict[str, Any]:
    """A result of about ``bytes`` bytes, as a data pipeline's file list would be."""
    count = context["bytes"] // 32
    return {"files": [f"s3://data/part-{i:08d}.csv.gz" for i in range(count)]}


@activity("short_lived", "1", registry=REGISTRY, start_to_close_timeout=4)
def short_lived(context: Any) -> str:
    """Registered with a 4 s start-to-close: a store outage may hold its input for 2 s."""
    RUNS[current_task().activity_id] = RUNS.get(current_task().activity_id, 0) + 1
    return "ran"
