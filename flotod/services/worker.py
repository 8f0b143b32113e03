"""flotod-worker: flotod.ActivityWorker as a poller of :func:`flotod.services.serve.serve`.

The ActivityWorker's lanes poll and run activities on their own threads; this poller starts
it, restarts it when a poll failure it cannot retry ended it (after a backoff), maps a stop to
``stop()`` / ``stop(now=True)`` and counts what it did for STATUS=.
"""

from __future__ import annotations

import threading
import time

import structlog

from flotod.config import ServiceConfig
from flotod.errors import SwfError
from flotod.services.backoff import Backoff
from flotod.services.process import ServiceProcess
from flotod.services.serve import serve
from flotod.worker import ActivityWorker

log = structlog.get_logger("flotod.worker")


class _Runner:
    """One ActivityWorker on its thread; remembers how it ended."""

    def __init__(self, proc: ServiceProcess) -> None:
        cfg = proc.config.worker
        self.worker = ActivityWorker(
            domain=proc.config.swf.domain,
            task_list=cfg.task_list,
            heartbeat_in_seconds=cfg.heartbeat_seconds,
            concurrency=cfg.concurrency,
            identity=proc.config.swf.resolved_identity(),
            swf=proc.swf,
            executor=cfg.executor,
            payloads=proc.payloads,
        )
        self.worker.metrics = proc.metrics
        self.error: SwfError | None = None
        self.thread = threading.Thread(target=self._run, name="flotod-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except SwfError as exc:
            self.error = exc
        except Exception:
            log.exception("worker.crashed")


class WorkerPoller:
    """A :class:`flotod.services.serve.Poller` over an ActivityWorker."""

    def __init__(self, proc: ServiceProcess) -> None:
        self.task_list = proc.config.worker.task_list
        self.runner: _Runner | None = None
        self.totals = {"finished": 0, "failed": 0, "canceled": 0}
        self.backoff = Backoff()
        self.restart_at = 0.0  # when a worker that ended on its own is started again

    def start(self, proc: ServiceProcess) -> None:
        self.runner = _Runner(proc)
        self.runner.thread.start()

    def check(self, proc: ServiceProcess) -> bool:
        """Alive while the worker runs: its lanes are polling, running activities (however
        long) or backing off. A worker that ended on its own (a poll failure retrying cannot
        fix: the domain deprecated, access denied) is started again after a backoff."""
        runner = self.runner
        if runner is not None and not runner.thread.is_alive():
            self._add(runner)
            self.runner = None
            delay = self.backoff.next_delay()
            self.restart_at = time.monotonic() + delay
            if runner.error is not None:
                proc.report_failure(
                    "worker.poll_failed", runner.error, delay, task_list=self.task_list
                )
        elif runner is None and time.monotonic() >= self.restart_at and not proc.stopping:
            self.start(proc)
        return True

    def reconfigure(self, config: ServiceConfig) -> None:
        """heartbeat_seconds: running and later tasks beat at the new interval at once (a
        worker restarted after a failure is built from the new config anyway)."""
        if self.runner is not None:
            self.runner.worker.set_heartbeat_interval(config.worker.heartbeat_seconds)

    def status(self) -> str:
        stats = self.runner.worker.stats if self.runner is not None else None
        running = stats.running if stats is not None else 0
        finished = self.totals["finished"] + (stats.finished if stats is not None else 0)
        failed = self.totals["failed"] + (stats.failed if stats is not None else 0)
        problem = ""
        if stats is not None and stats.last_error:
            problem = f"; SWF unreachable, retrying: {stats.last_error[:160]}"
        return (
            f"polling {self.task_list}: {running} running, {finished} finished, "
            f"{failed} failed{problem}"
        )

    def stop(self, quick: bool) -> None:
        if self.runner is not None:
            self.runner.worker.stop(now=quick)

    def in_hand(self) -> int:
        return self.runner.worker.stats.running if self.runner is not None else 0

    def counts(self) -> dict[str, int]:
        if self.runner is not None:
            self._add(self.runner)
            self.runner = None
        return dict(self.totals)

    def _add(self, runner: _Runner) -> None:
        stats = runner.worker.stats
        for key in self.totals:
            self.totals[key] += getattr(stats, key)


def run_worker(proc: ServiceProcess) -> int:
    """The worker service until a stop; returns the exit code."""
    return serve(proc, WorkerPoller(proc))
