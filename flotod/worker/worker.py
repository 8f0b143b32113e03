"""The activity worker: poll, run up to ``concurrency`` activities, heartbeat, report.

The worker has ``concurrency`` lanes: threads that each poll, run the task they receive and
report it, then poll again. A lane polls only when it is free, so the worker never receives a
task it cannot start, and a task passes between no threads on its way.

Every received task is reported exactly once (completed, failed or canceled) unless SWF has
already forgotten it. A graceful stop finishes in-flight work; a forced stop fails it as
``worker shutdown`` so that SWF's retry logic can hand it to another worker at once.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass
from typing import Literal

import structlog
from structlog.contextvars import bind_contextvars

from flotod.errors import TransientSwfError
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.swf.types import ActivityTask
from flotod.worker.context import TaskInfo
from flotod.worker.execute import Outcome, decode_input, run_activity
from flotod.worker.executors import ProcessExecution
from flotod.worker.heartbeat import Heartbeats
from flotod.worker.registry import Registry, default_registry
from flotod.worker.report import report
from flotod.worker.running import LocalTask, RunningTask

log = structlog.get_logger(__name__)

SHUTDOWN_REASON = "worker shutdown"
_TICK = 0.1
_COUNTED_AS = {"completed": "finished", "failed": "failed", "canceled": "canceled"}


@dataclass(frozen=True)
class WorkerStats:
    """A snapshot for status lines and the watchdog; ``last_progress`` is time.monotonic()."""

    running: int
    finished: int
    failed: int
    canceled: int
    last_progress: float
    last_error: str | None = None  # the last failed poll's error, until a poll succeeds


class ActivityWorker:
    """Serve the activities of ``registry`` from one SWF task list.

    Idle lanes each hold one long poll open, as SWF expects of a worker with free capacity.
    With ``executor="process"`` each activity runs in a process of its own, which a forced
    stop or an ignored cancellation can end; threads can only be abandoned.
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
        self.swf = swf or SwfClient(identity=identity, max_pool_connections=concurrency + 2)
        self._heartbeats = (
            Heartbeats(self.swf, heartbeat_in_seconds) if heartbeat_in_seconds > 0 else None
        )
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._lock = threading.Condition()
        self._running: dict[str, RunningTask] = {}
        self._abandoned: set[RunningTask] = set()  # settled for a thread that still runs it
        self._counts = {"finished": 0, "failed": 0, "canceled": 0}
        self._last_progress = time.monotonic()
        self._last_error: str | None = None
        self._started = False

    # -- control -----------------------------------------------------------------------------

    def stop(self, now: bool = False) -> None:
        """Ask the worker to stop; safe from any thread (not a signal handler's job: it locks).

        Graceful: no new polls; polls in flight may return and their tasks are run; running
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
                running=len(self._running),
                last_progress=self._last_progress,
                last_error=self._last_error,
                **self._counts,
            )

    def running_tasks(self) -> list[RunningTask]:
        with self._lock:
            return list(self._running.values())

    def _touch(self, error: str | None = None) -> None:
        """The loop is alive: a poll returned, or failed and is being retried."""
        with self._lock:
            self._last_progress = time.monotonic()
            self._last_error = error

    # -- loops -------------------------------------------------------------------------------

    def run(self) -> None:
        """Poll and run tasks until :meth:`stop`; return when every received task is settled.

        Raises the SwfError of a poll that retrying cannot fix (unknown domain, access denied)
        after the tasks already running have been settled.
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
        monitor_stop = threading.Event()
        monitor = threading.Thread(
            target=self._monitor, args=(monitor_stop,), name="flotod-monitor", daemon=True
        )
        monitor.start()
        errors: list[BaseException] = []
        lanes = [
            threading.Thread(
                target=self._lane, args=(errors,), name=f"flotod-lane-{n}", daemon=True
            )
            for n in range(self.concurrency)
        ]
        try:
            for thread in lanes:
                thread.start()
            while not self._lanes_done(lanes):
                time.sleep(_TICK)
            if errors:
                raise errors[0]
        finally:
            with self._lock:
                while self._running:
                    self._lock.wait(_TICK)
            monitor_stop.set()
            monitor.join()
            log.info("worker.stopped", **self._counts)

    def _lanes_done(self, lanes: list[threading.Thread]) -> bool:
        """Every lane has ended, or (after a forced stop) is stuck in an abandoned activity.

        Lanes that are polling are always waited for: a task their poll returns is then
        reported instead of being lost until its timeout.
        """
        with self._lock:
            abandoned = {t.lane for t in self._abandoned}
        return all(
            not thread.is_alive() or (self._abort.is_set() and thread.name in abandoned)
            for thread in lanes
        )

    def _lane(self, errors: list[BaseException]) -> None:
        """Poll, run, report, until stopped; a poll that cannot succeed stops the worker."""
        failures = 0
        while not self._stop.is_set():
            try:
                task = self.swf.poll_for_activity_task(
                    self.domain, self.task_list, identity=self.identity
                )
            except TransientSwfError as exc:
                failures += 1
                delay = self.swf.retry.delay(failures)
                log.warning("worker.poll_failed", error=str(exc), retry_in=round(delay, 2))
                # Backing off is progress for the watchdog: a restart would not bring SWF back.
                self._touch(error=str(exc))
                self._stop.wait(delay)
                continue
            except BaseException as exc:
                errors.append(exc)
                self._stop.set()
                return
            failures = 0
            self._touch()
            if task is not None:
                # A fresh context per task: its log fields, and anything the activity binds,
                # end with it, with nothing to clear (and records merge only these fields).
                contextvars.Context().run(self._run_task, task)

    def _monitor(self, stop: threading.Event) -> None:
        """Heartbeats, and settling thread-run tasks that a forced stop or cancel gave up on."""
        while not stop.wait(_TICK):
            try:
                self._monitor_tick()
            except Exception:  # the monitor must outlive any one bad tick
                log.exception("worker.monitor_error")

    def _monitor_tick(self) -> None:
        tasks = self.running_tasks()
        if self._heartbeats:
            self._heartbeats.beat_due(tasks)
        if self.executor == "thread":  # a process task's lane ends its process and settles it
            for task in tasks:
                outcome = None
                if task.abort.is_set():
                    outcome = Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
                elif self._grace_over(task):
                    outcome = Outcome("canceled", details=task.details or "")
                if outcome is not None:
                    with self._lock:
                        self._abandoned.add(task)
                    contextvars.Context().run(self._settle_bound, task, outcome)

    def _settle_bound(self, running: RunningTask, outcome: Outcome) -> None:
        _bind(running.info, self.task_list)
        self._settle(running, outcome)

    def _grace_over(self, task: RunningTask) -> bool:
        return (
            task.cancel_at is not None
            and time.monotonic() - task.cancel_at > self.cancel_grace_seconds
        )

    # -- one task ----------------------------------------------------------------------------

    def _run_task(self, task: ActivityTask) -> None:
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
        running.lane = threading.current_thread().name
        with self._lock:
            self._running[task.task_token] = running
        # After registering: a forced stop either sees this task or has set _abort already.
        if self._abort.is_set():
            running.abort.set()
        _bind(info, self.task_list)
        try:
            outcome = self._execute(running)
            if running.cancel.is_set() and not running.abort.is_set():
                outcome = Outcome("canceled", details=running.details or "")
        except BaseException as exc:  # a bug here must still fail the task, not hang it
            log.exception("worker.internal_error")
            outcome = Outcome.failed("worker internal error", f"{type(exc).__name__}: {exc}")
        try:
            if not self._settle(running, outcome):
                log.warning("activity.result_discarded", note="already reported by the worker")
        finally:
            with self._lock:
                self._abandoned.discard(running)

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
        if self.executor == "thread":
            return run_activity(definition, running.argument, LocalTask(running))
        execution = ProcessExecution(definition, running, self.start_method)
        while True:
            outcome = execution.wait(_TICK)
            if outcome is not None:  # a finished activity is reported as such, even when stopping
                return outcome
            if running.abort.is_set():
                execution.kill()
                return Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
            if self._grace_over(running):
                execution.kill()
                return Outcome("canceled", details=running.details or "")

    def _settle(self, running: RunningTask, outcome: Outcome) -> bool:
        """Report ``outcome`` unless someone already did; False if someone did."""
        if not running.claim():
            return False
        try:
            if outcome.status == "canceled" and running.unknown:
                log.warning("activity.dropped", note="SWF no longer knows this task")
            else:
                report(self.swf, running.token, outcome, self.report_retry)
        finally:
            with self._lock:
                self._running.pop(running.token, None)
                self._counts[_COUNTED_AS[outcome.status]] += 1
                self._last_progress = time.monotonic()
                self._lock.notify_all()
            log.info(
                "activity." + outcome.status,
                reason=outcome.reason or None,
                seconds=round(time.monotonic() - running.started, 3),
            )
        return True


def _bind(info: TaskInfo, task_list: str) -> None:
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
