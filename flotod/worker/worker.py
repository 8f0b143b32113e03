"""The activity worker: poll, run up to ``concurrency`` activities, heartbeat, report.

A slot is taken before each poll, so the worker never receives a task it cannot start. Every
received task is reported exactly once (completed, failed or canceled) unless SWF has already
forgotten it; a graceful stop finishes in-flight work, a forced stop fails it as
``worker shutdown`` so SWF's retry logic can hand it to another worker at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars

from flotod.errors import SwfError, TransientSwfError, UnknownResourceError, ValidationError
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.swf.types import ActivityTask
from flotod.worker.context import TaskInfo
from flotod.worker.execute import Outcome, decode_input
from flotod.worker.executors import Execution, ProcessExecution, ThreadExecution
from flotod.worker.heartbeat import HeartbeatLoop
from flotod.worker.registry import Registry, default_registry
from flotod.worker.running import RunningTask

log = structlog.get_logger(__name__)

SHUTDOWN_REASON = "worker shutdown"
_TICK = 0.1


@dataclass(frozen=True)
class WorkerStats:
    """A snapshot for status lines and the watchdog; ``last_progress`` is time.monotonic()."""

    running: int
    finished: int
    failed: int
    canceled: int
    last_progress: float


class ActivityWorker:
    """Serve the activities of ``registry`` from one SWF task list.

    ``pollers`` threads long-poll at once (default ``1 + concurrency // 5``), each holding a
    free slot while it polls: one poller could hand out at most one task per round trip.
    """

    def __init__(
        self,
        domain: str,
        task_list: str,
        heartbeat_in_seconds: float = 90,
        concurrency: int = 1,
        identity: str | None = None,
        registry: Registry | None = None,
        swf: SwfClient | None = None,
        executor: Literal["thread", "process"] = "thread",
        cancel_grace_seconds: float = 10.0,
        report_retry: RetryPolicy | None = None,
        start_method: str = "forkserver",
        pollers: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if heartbeat_in_seconds < 0:
            raise ValueError("heartbeat_in_seconds must be >= 0 (0 = no heartbeats)")
        if executor not in ("thread", "process"):
            raise ValueError(f"executor must be 'thread' or 'process', not {executor!r}")
        self.domain = domain
        self.task_list = task_list
        self.concurrency = concurrency
        self.executor = executor
        self.identity = identity
        self.registry = default_registry if registry is None else registry
        self.cancel_grace_seconds = cancel_grace_seconds
        self.report_retry = report_retry or RetryPolicy(max_attempts=5, base_seconds=1.0)
        self.start_method = start_method
        # One poller dispatches at most one task per poll round trip; more slots need more.
        self.pollers = max(1, min(concurrency, pollers or 1 + concurrency // 5))
        self.swf = swf or SwfClient(
            identity=identity, max_pool_connections=concurrency + self.pollers + 2
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._lock = threading.Condition()
        self._running: dict[str, RunningTask] = {}
        self._counts = {"finished": 0, "failed": 0, "canceled": 0}
        self._last_progress = time.monotonic()
        self._started = False
        self._heartbeats = (
            HeartbeatLoop(self.swf, heartbeat_in_seconds, self.running_tasks)
            if heartbeat_in_seconds > 0
            else None
        )

    # -- control -----------------------------------------------------------------------------

    def stop(self, now: bool = False) -> None:
        """Ask the worker to stop; safe from any thread, returns at once.

        Graceful: no new polls; the poll in flight may return and its task is run; running
        tasks finish. ``now=True``: running tasks are reported failed ("worker shutdown").
        """
        self._stop.set()
        if now:
            self._abort.set()
            for task in self.running_tasks():
                task.abort.set()

    @property
    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(
                running=len(self._running), last_progress=self._last_progress, **self._counts
            )

    def running_tasks(self) -> list[RunningTask]:
        with self._lock:
            return list(self._running.values())

    def _touch(self) -> None:
        with self._lock:
            self._last_progress = time.monotonic()

    # -- the poll loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Poll and run tasks until :meth:`stop`; returns when every received task is settled.

        Raises the SwfError of a poll that cannot succeed by retrying (unknown domain, access
        denied), after settling the tasks already running.
        """
        if self._started:
            raise RuntimeError("an ActivityWorker runs once; create a new one")
        self._started = True
        log.info(
            "worker.started",
            domain=self.domain,
            task_list=self.task_list,
            concurrency=self.concurrency,
            executor=self.executor,
        )
        if self._heartbeats:
            self._heartbeats.start()
        errors: list[BaseException] = []
        helpers = [
            threading.Thread(
                target=self._poll_guarded, args=(errors,), name=f"flotod-poller-{n}", daemon=True
            )
            for n in range(1, self.pollers)
        ]
        try:
            for thread in helpers:
                thread.start()
            self._poll_guarded(errors)
            for thread in helpers:
                thread.join()
            if errors:
                raise errors[0]
        finally:
            self._drain()
            if self._heartbeats:
                self._heartbeats.stop()
            log.info("worker.stopped", **self._counts)

    def _poll_guarded(self, errors: list[BaseException]) -> None:
        """One poller; a poll that cannot succeed stops the whole worker (gracefully)."""
        try:
            self._poll_loop()
        except BaseException as exc:
            errors.append(exc)
            self._stop.set()

    def _poll_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=_TICK):
                continue
            if self._stop.is_set():
                self._slots.release()
                break
            try:
                task = self.swf.poll_for_activity_task(
                    self.domain, self.task_list, identity=self.identity
                )
            except TransientSwfError as exc:
                self._slots.release()
                failures += 1
                delay = self.swf.retry.delay(failures)
                log.warning("worker.poll_failed", error=str(exc), retry_in=round(delay, 2))
                self._stop.wait(delay)
                continue
            except BaseException:
                self._slots.release()
                raise
            failures = 0
            self._touch()
            if task is None:
                self._slots.release()
                continue
            self._start(task)

    def _drain(self) -> None:
        """Wait for every task in flight to be settled (failed at once after a forced stop)."""
        with self._lock:
            while self._running:
                self._lock.wait(_TICK)

    # -- one task ----------------------------------------------------------------------------

    def _start(self, task: ActivityTask) -> None:
        argument, attempt = decode_input(task.input)
        info = TaskInfo(
            workflow_id=task.workflow_execution.workflow_id,
            run_id=task.workflow_execution.run_id,
            activity_id=task.activity_id,
            name=task.name,
            version=task.version,
            attempt=attempt,
            task_list=self.task_list,
        )
        running = RunningTask(task, info, argument)
        with self._lock:
            self._running[task.task_token] = running
        # After registering: a forced stop either sees this task or has set _abort already.
        if self._abort.is_set():
            running.abort.set()
        threading.Thread(
            target=self._control, args=(running,), name="flotod-task-control", daemon=True
        ).start()

    def _control(self, running: RunningTask) -> None:
        info = running.info
        clear_contextvars()
        bind_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            activity_id=info.activity_id,
            attempt=info.attempt,
            activity=f"{info.name}:{info.version}",
        )
        try:
            outcome = self._execute(running)
        except BaseException as exc:  # a bug here must still fail the task, not hang it
            log.exception("worker.internal_error")
            outcome = Outcome.failed("worker internal error", f"{type(exc).__name__}: {exc}")
        self._settle(running, outcome)

    def _execute(self, running: RunningTask) -> Outcome:
        info = running.info
        definition = self.registry.get(info.name, info.version)
        if definition is None:
            return Outcome.failed(
                f"no activity {info.name!r} version {info.version!r} is registered on task "
                f"list {self.task_list!r}",
                "registered here: "
                + ", ".join(sorted(f"{d.name}:{d.version}" for d in self.registry)),
            )
        if running.abort.is_set():
            return Outcome.failed(SHUTDOWN_REASON, "the worker was stopping when it arrived")
        log.info("activity.started")
        execution: Execution = (
            ProcessExecution(definition, running, self.start_method)
            if self.executor == "process"
            else ThreadExecution(definition, running)
        )
        while True:
            outcome = execution.wait(_TICK)
            if outcome is not None:  # a finished activity is reported as such, even when stopping
                if running.cancel.is_set():
                    return Outcome("canceled", details=running.details or "")
                return outcome
            if running.abort.is_set():
                execution.kill()
                return Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
            if running.cancel_at is not None and (
                time.monotonic() - running.cancel_at > self.cancel_grace_seconds
            ):
                execution.kill()
                return Outcome("canceled", details=running.details or "")

    def _settle(self, running: RunningTask, outcome: Outcome) -> None:
        if not running.claim():
            return
        try:
            if outcome.status == "canceled" and running.unknown:
                log.warning("activity.dropped", note="SWF no longer knows this task")
            else:
                self._report(running, outcome)
        finally:
            key = {"completed": "finished", "failed": "failed", "canceled": "canceled"}
            with self._lock:
                self._running.pop(running.token, None)
                self._counts[key[outcome.status]] += 1
                self._last_progress = time.monotonic()
                self._lock.notify_all()
            self._slots.release()
            log.info(
                "activity." + outcome.status,
                reason=outcome.reason or None,
                seconds=round(time.monotonic() - running.started, 3),
            )

    def _report(self, running: RunningTask, outcome: Outcome) -> None:
        """Tell SWF how the task ended, retrying transient failures with backoff."""
        attempt = 0
        while True:
            attempt += 1
            try:
                if outcome.status == "completed":
                    self.swf.respond_activity_task_completed(running.token, outcome.result)
                elif outcome.status == "failed":
                    self.swf.respond_activity_task_failed(
                        running.token, outcome.reason, outcome.details
                    )
                else:
                    self.swf.respond_activity_task_canceled(running.token, outcome.details)
                return
            except UnknownResourceError:
                log.warning("activity.report_too_late", note="the task timed out or was closed")
                return
            except ValidationError as exc:
                if outcome.status != "completed":
                    log.error("activity.report_rejected", error=str(exc))
                    return
                outcome = Outcome.failed("result rejected by SWF", str(exc))
            except TransientSwfError as exc:
                if attempt >= self.report_retry.max_attempts:
                    log.error("activity.report_failed", error=str(exc), attempts=attempt)
                    return
                delay = self.report_retry.delay(attempt)
                log.warning("activity.report_retry", error=str(exc), retry_in=round(delay, 2))
                self.report_retry.sleep(delay)
            except SwfError as exc:
                log.error("activity.report_failed", error=str(exc))
                return
