"""flotod-worker: flotod.ActivityWorker on a thread, driven by signals, status and watchdog.

The worker thread polls and runs activities; the main thread only watches: it maps SIGTERM to
``stop()`` and SIGINT (or a second SIGTERM, or the drain deadline) to ``stop(now=True)``,
shows the counts in STATUS= and beats the watchdog while polls return or heartbeats go out.
"""

from __future__ import annotations

import threading
from typing import Literal

import structlog

from flotod.errors import EX_OK, SwfError
from flotod.runtime import DrainOutcome, Progress, drain
from flotod.services.process import ServiceProcess
from flotod.worker import ActivityWorker, default_registry

log = structlog.get_logger("flotod.worker")

_TICK = 1.0


def register_activity_types(proc: ServiceProcess) -> None:
    """Register every served activity type (idempotent); timeouts suit the heartbeat."""
    worker = proc.config.worker
    if not worker.register_activity_types:
        return
    heartbeat = worker.heartbeat_seconds
    for definition in default_registry:
        while not proc.stopping:
            try:
                created = proc.swf.register_activity_type(
                    proc.config.swf.domain,
                    definition.name,
                    definition.version,
                    task_list=worker.task_list,
                    heartbeat=max(300, 3 * heartbeat) if heartbeat else None,
                )
            except SwfError as exc:
                proc.failed("worker.register_failed", exc, activity=definition.name)
                continue
            log.info(
                "worker.activity_type",
                name=definition.name,
                version=definition.version,
                registered=created,
            )
            break


class _Runner:
    """One ActivityWorker on its thread; remembers how it ended."""

    def __init__(self, proc: ServiceProcess) -> None:
        cfg = proc.config.worker
        executor: Literal["thread", "process"] = (
            "process" if cfg.executor == "process" else "thread"
        )
        self.worker = ActivityWorker(
            domain=proc.config.swf.domain,
            task_list=cfg.task_list,
            heartbeat_in_seconds=cfg.heartbeat_seconds,
            concurrency=cfg.concurrency,
            identity=proc.config.swf.resolved_identity(),
            swf=proc.swf,
            executor=executor,
        )
        self.error: SwfError | None = None
        self.thread = threading.Thread(target=self._run, name="flotod-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except SwfError as exc:
            self.error = exc
        except Exception:
            log.exception("worker.crashed")

    def progress_mark(self) -> float:
        """Latest of the last poll return / task end and the last heartbeat sent."""
        beats = [t.last_beat for t in self.worker.running_tasks()]
        return max([self.worker.stats.last_progress, *beats])


class _DrainProgress(Progress):
    """During a drain, progress is the worker's own: activities ending or heartbeating."""

    def __init__(self, runner: _Runner) -> None:
        super().__init__()
        self.runner = runner

    @property
    def last(self) -> float:
        return self.runner.progress_mark()


def run_worker(proc: ServiceProcess) -> int:
    """The worker service until a stop; returns the exit code."""
    task_list = proc.config.worker.task_list
    register_activity_types(proc)
    if not proc.reach_swf(f"polling {task_list}"):
        return EX_OK
    totals = {"finished": 0, "failed": 0, "canceled": 0}
    runner = _Runner(proc)
    runner.thread.start()
    seen = runner.progress_mark()
    while not proc.stopping:
        if proc.tend() is not None:
            log.info("worker.reloaded", note="heartbeat_seconds applies to the next worker start")
        proc.wait(_TICK)
        mark = runner.progress_mark()
        if mark > seen:
            seen = mark
            proc.succeeded()
        if not runner.thread.is_alive() and not proc.stopping:
            _add(totals, runner)
            if runner.error is not None:  # e.g. domain deprecated: back off, then poll again
                proc.failed("worker.poll_failed", runner.error, task_list=task_list)
            runner = _Runner(proc)
            runner.thread.start()
        stats = runner.worker.stats
        problem = (
            f"; SWF unreachable, retrying: {stats.last_error[:160]}" if stats.last_error else ""
        )
        proc.status(
            f"polling {task_list}: {stats.running} running, "
            f"{totals['finished'] + stats.finished} finished, "
            f"{totals['failed'] + stats.failed} failed{problem}"
        )
    quick = proc.lifecycle.quick_stop_requested
    runner.worker.stop(now=quick)
    log.info("worker.stopping", quick=quick, running=runner.worker.stats.running)
    outcome = drain(
        lambda: not runner.thread.is_alive(),
        timeout=proc.config.drain_timeout_seconds,
        lifecycle=proc.lifecycle,
        notifier=proc.notifier,
        progress=_DrainProgress(runner),
    )
    if outcome is not DrainOutcome.DRAINED:
        log.warning("worker.quick_stop", reason=outcome.value)
        runner.worker.stop(now=True)
        runner.thread.join()
    _add(totals, runner)
    log.info("service.stopped", drain=outcome.value, **totals)
    return EX_OK


def _add(totals: dict[str, int], runner: _Runner) -> None:
    stats = runner.worker.stats
    totals["finished"] += stats.finished
    totals["failed"] += stats.failed
    totals["canceled"] += stats.canceled
