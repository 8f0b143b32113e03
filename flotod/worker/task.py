"""One task inside a lane: resolve and decode its input, prove it started, run its activity,
log how it ended. The worker around it owns polling, stopping and reporting."""

from __future__ import annotations

import dataclasses
import time

import structlog
from structlog.contextvars import bind_contextvars

from flotod.protocol import HANDED_BACK_REASON, SHUTDOWN_REASON
from flotod.worker.context import TaskInfo
from flotod.worker.execute import Outcome, decode_input, run_activity
from flotod.worker.executors import ProcessExecution
from flotod.worker.heartbeat import Heartbeats
from flotod.worker.offload import Offload
from flotod.worker.registry import Registry
from flotod.worker.running import LocalTask, RunningTask

log = structlog.get_logger("flotod.worker.worker")

TICK = 0.1


def grace_over(task: RunningTask, cancel_grace_seconds: float) -> bool:
    """SWF asked to cancel longer ago than the activity was given to stop on its own."""
    return task.cancel_at is not None and time.monotonic() - task.cancel_at > cancel_grace_seconds


def prepare(
    running: RunningTask, heartbeats: Heartbeats, offload: Offload, wait_seconds: float
) -> Outcome | None:
    """Resolve and decode the input, send the first beat; an outcome when the task must not
    run. A store outage is waited out for ``wait_seconds`` (the task beats meanwhile)."""
    try:
        text = offload.resolve_input(running, wait_seconds)
        if isinstance(text, Outcome):
            return text
        running.argument, attempt = decode_input(text)
    except Exception as exc:  # e.g. RecursionError: the task fails, the lane lives
        return Outcome.failed(
            "activity input cannot be decoded", f"{type(exc).__name__}: {exc}", str(exc)
        )
    if attempt is not None:
        running.info = dataclasses.replace(running.info, attempt=attempt)
        bind_contextvars(attempt=attempt)
    # Before the body runs: a timeout with empty details then proves it never ran.
    heartbeats.beat(running)
    if running.unknown:
        return Outcome("canceled")  # SWF forgot it already: dropped, not reported
    if running.cancel.is_set():
        return Outcome("canceled", details="cancel requested before it started")
    return None


def execute(
    running: RunningTask,
    registry: Registry,
    task_list: str,
    *,
    executor: str,
    start_method: str,
    cancel_grace_seconds: float,
) -> Outcome:
    """Run the activity on this thread, or in a process of its own that a quick stop or an
    ignored cancellation ends; the activity's own failure is an outcome, never raised."""
    info = running.info
    definition = registry.get(info.name, info.version)
    if definition is None:
        return Outcome.failed(
            f"no activity {info.name!r} version {info.version!r} is registered on task "
            f"list {task_list!r}",
            "registered here: " + ", ".join(sorted(f"{d.name}:{d.version}" for d in registry)),
        )
    if running.abort.is_set():
        return Outcome.failed(HANDED_BACK_REASON, "the worker was stopping; it never ran")
    log.info("activity.started")
    if executor == "thread":
        return run_activity(definition, running.argument, LocalTask(running))
    execution = ProcessExecution(definition, running, start_method)
    while True:
        outcome = execution.wait(TICK)
        if outcome is not None:  # a finished activity is reported as such, even when stopping
            return outcome
        if running.abort.is_set():
            # Sends the cancel request first, as the thread path shows cancel_requested.
            late = execution.wait(0)
            if late is not None:
                return late
            execution.kill()
            return Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
        if grace_over(running, cancel_grace_seconds):
            execution.kill()
            return Outcome("canceled", details=running.details or "")


def log_outcome(outcome: Outcome, seconds: float) -> None:
    """One record per task; a failure is a warning carrying its message and traceback."""
    if outcome.status == "failed":
        log.warning(
            "activity.failed",
            reason=outcome.reason,
            error=outcome.message or outcome.details[:1000] or None,
            traceback=outcome.trace or None,
            seconds=round(seconds, 3),
        )
    else:
        log.info("activity." + outcome.status, seconds=round(seconds, 3))


def bind_task(info: TaskInfo, task_list: str) -> None:
    """Every log record about a task carries its ids, whichever thread writes it.

    Callers run this inside a context of the task's own (``contextvars.Context().run``).
    """
    bind_contextvars(
        task_list=task_list,
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        activity_id=info.activity_id,
        attempt=info.attempt,
        activity=f"{info.name}:{info.version}",
    )
