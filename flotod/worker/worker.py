"""The activity worker: poll, run up to ``concurrency`` activities, heartbeat, report.

The worker has ``concurrency`` lanes: threads that each poll, run the task they receive and
report it, then poll again. A lane polls only when it is free, so the worker never receives a
task it cannot start, and a task passes between no threads on its way.

Every received task is reported exactly once (completed, failed or canceled) unless SWF has
already forgotten it; a finished result is retried until SWF takes it, and its task keeps
heartbeating meanwhile. A stopping worker runs no new task: one its poll returns after
``stop()`` is handed back (failed as ``flotod.handed_back``, never run). A graceful stop
finishes in-flight work; a quick stop asks running activities to cancel and reports them
failed as ``worker shutdown`` so that the decider can run them again at once.

Stopping does not wait for idle long polls: ``run()`` returns as soon as every lane is idle
or done. The abandoned polls' threads are daemon threads; a task one of them still receives
is handed back while the process lives, and otherwise times out with empty heartbeat details,
which tells the decider it never ran.
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
from flotod.metrics import NO_METRICS, Metrics
from flotod.payloads import Payloads
from flotod.protocol import HANDED_BACK_REASON, SHUTDOWN_REASON
from flotod.swf.client import SwfClient
from flotod.swf.retry import RetryPolicy
from flotod.swf.types import ActivityTask
from flotod.worker.context import TaskInfo
from flotod.worker.execute import Outcome
from flotod.worker.heartbeat import Heartbeats
from flotod.worker.offload import Offload, input_wait_seconds
from flotod.worker.registry import Registry, default_registry
from flotod.worker.report import report
from flotod.worker.running import RunningTask
from flotod.worker.task import bind_task, execute, grace_over, log_outcome, prepare

log = structlog.get_logger(__name__)

__all__ = ["SHUTDOWN_REASON", "ActivityWorker", "WorkerStats"]

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
    ``report_retry`` is the backoff of a report SWF did not take (it is retried until SWF
    does, or forgets the task); ``quick_stop_report_seconds`` bounds that after a quick stop.
    """

    metrics: Metrics = NO_METRICS  # the service sets its own before run()

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
        quick_stop_report_seconds: float = 10.0,
        payloads: Payloads | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if executor not in ("thread", "process"):
            raise ValueError(f"executor must be 'thread' or 'process', not {executor!r}")
        self.domain = domain
        self.task_list = task_list
        self.concurrency = concurrency
        self.executor = executor
        self.identity = identity
        self.registry = default_registry if registry is None else registry
        self.cancel_grace_seconds = cancel_grace_seconds
        self.report_retry = report_retry or RetryPolicy(base_seconds=1.0, cap_seconds=30.0)
        self.quick_stop_report_seconds = quick_stop_report_seconds
        self.start_method = start_method
        self.payloads = payloads or Payloads.off()
        self._offload = Offload(self.payloads, self.report_retry, self._pause)
        self.swf = swf or SwfClient(identity=identity, max_pool_connections=concurrency + 2)
        self._heartbeats = Heartbeats(self.swf, heartbeat_in_seconds, lanes=concurrency)
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._report_deadline: float | None = None  # set by a quick stop
        self._lock = threading.Condition()
        self._running: dict[str, RunningTask] = {}
        self._abandoned: set[RunningTask] = set()  # settled for a thread that still runs it
        self._polling: set[str] = set()  # lanes inside a poll: nothing to wait for at a stop
        self._counts = {"finished": 0, "failed": 0, "canceled": 0}
        self._last_progress = time.monotonic()
        self._last_error: str | None = None
        self._started = False

    # -- control -----------------------------------------------------------------------------

    def stop(self, now: bool = False) -> None:
        """Ask the worker to stop; safe from any thread (not a signal handler's job: it locks).

        Graceful: no new polls, and a task a poll in flight returns is handed back; running
        tasks finish. ``now=True``: running activities see ``cancel_requested`` and are
        reported failed ("worker shutdown"); reports still pending get
        ``quick_stop_report_seconds`` more, then are logged as lost.
        """
        with self._lock:
            self._stop.set()
            if now and not self._abort.is_set():
                self._report_deadline = time.monotonic() + self.quick_stop_report_seconds
                self._abort.set()
        if now:
            for task in self.running_tasks():
                task.abort.set()

    def set_heartbeat_interval(self, seconds: float) -> None:
        """Beat every ``seconds`` from now on, running tasks included; 0 turns beats off.

        The first beat a lane sends when it takes a task is sent whatever the interval.
        """
        self._heartbeats.set_interval(seconds)
        log.info("worker.heartbeat_interval", seconds=seconds)

    @property
    def heartbeat_interval(self) -> float:
        return self._heartbeats.interval

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
        """Tasks taken and not yet reported, including those whose report is still pending."""
        with self._lock:
            return list(self._running.values())

    def _touch(self, error: str | None = None) -> None:
        """The loop is alive: a poll returned, or failed and is being retried."""
        with self._lock:
            self._last_progress = time.monotonic()
            self._last_error = error

    # -- loops -------------------------------------------------------------------------------

    def run(self) -> None:
        """Poll and run tasks until :meth:`stop`; return when every taken task is settled.

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
            self._heartbeats.close()
            log.info("worker.stopped", **self._counts)

    def _lanes_done(self, lanes: list[threading.Thread]) -> bool:
        """After a stop: every lane has ended, waits in an idle poll, or (after a quick stop)
        is stuck in an abandoned activity."""
        with self._lock:
            if not self._stop.is_set():
                return all(not thread.is_alive() for thread in lanes)
            abandoned = {t.lane for t in self._abandoned}
            return all(
                not thread.is_alive()
                or thread.name in self._polling
                or (self._abort.is_set() and thread.name in abandoned)
                for thread in lanes
            )

    def _lane(self, errors: list[BaseException]) -> None:
        """Poll, run, report, until stopped; a poll that cannot succeed stops the worker."""
        name = threading.current_thread().name
        failures = 0
        while not self._stop.is_set():
            with self._lock:
                self._polling.add(name)
            try:
                task = self.swf.poll_for_activity_task(
                    self.domain, self.task_list, identity=self.identity
                )
            except TransientSwfError as exc:
                self._left_poll(name)
                if self._stop.is_set():
                    return
                failures += 1
                delay = self.swf.retry.delay(failures)
                log.warning("worker.poll_failed", error=str(exc), retry_in=round(delay, 2))
                # Backing off is progress for the watchdog: a restart would not bring SWF back.
                self._touch(error=str(exc))
                self._stop.wait(delay)
                continue
            except BaseException as exc:
                self._left_poll(name)
                if not self._stop.is_set():  # after a stop, nobody waits for this poll
                    errors.append(exc)
                    self._stop.set()
                return
            failures = 0
            self._touch()
            if task is None:
                self._left_poll(name)
                continue
            self._serve(task, name)

    def _left_poll(self, lane: str) -> None:
        with self._lock:
            self._polling.discard(lane)

    def _serve(self, task: ActivityTask, lane: str) -> None:
        """Run one received task, or hand it back if the worker is stopping; never raises.

        Whatever goes wrong, the lane lives on to poll again, and the task is reported.
        """
        running = None
        try:
            running = self._take(task, lane)
            # A fresh context per task: its log fields, and anything the activity binds,
            # end with it, with nothing to clear (and records merge only these fields).
            if running is None:
                contextvars.Context().run(self._hand_back, task)
            else:
                contextvars.Context().run(self._run_task, running)
        except BaseException:
            log.exception("worker.lane_error", activity_id=task.activity_id)
            if running is not None:
                with self._lock:
                    self._running.pop(running.token, None)
                    self._lock.notify_all()

    def _take(self, task: ActivityTask, lane: str) -> RunningTask | None:
        """Register the task as running, or None when the worker is stopping.

        Decided under the lock that ``_lanes_done`` takes: either the task is registered and
        ``run()`` waits for it, or ``run()`` may already be gone and the task goes back.
        """
        info = TaskInfo(
            workflow_id=task.workflow_execution.workflow_id,
            run_id=task.workflow_execution.run_id,
            activity_id=task.activity_id,
            name=task.name,
            version=task.version,
            attempt=None,
            task_list=self.task_list,
        )
        with self._lock:
            self._polling.discard(lane)
            if self._stop.is_set():
                return None
            running = RunningTask(task, info, None)
            running.lane = lane
            self._running[task.task_token] = running
            return running

    def _hand_back(self, task: ActivityTask) -> None:
        """Report a task the worker will not run, so SWF's decider can schedule it at once."""
        bind_contextvars(
            task_list=self.task_list,
            workflow_id=task.workflow_execution.workflow_id,
            run_id=task.workflow_execution.run_id,
            activity_id=task.activity_id,
            activity=f"{task.name}:{task.version}",
        )
        until = time.monotonic() + self.quick_stop_report_seconds
        outcome = Outcome.failed(HANDED_BACK_REASON, "the worker was stopping; it never ran")
        if report(self.swf, task.task_token, outcome, self.report_retry, deadline=lambda: until):
            log.info("activity.handed_back")

    def _monitor(self, stop: threading.Event) -> None:
        """Starts heartbeats, and settles thread-run tasks a quick stop or cancel gave up on."""
        while not stop.wait(_TICK):
            try:
                self._monitor_tick()
            except Exception:  # the monitor must outlive any one bad tick
                log.exception("worker.monitor_error")

    def _monitor_tick(self) -> None:
        tasks = self.running_tasks()
        self._heartbeats.beat_due(tasks)
        if self.executor != "thread":  # a process task's lane ends its process and settles it
            return
        for task in tasks:
            outcome = None
            if task.abort.is_set():
                outcome = Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
            elif grace_over(task, self.cancel_grace_seconds):
                outcome = Outcome("canceled", details=task.details or "")
            if outcome is None or not task.claim():
                continue
            with self._lock:
                self._abandoned.add(task)
            # Reported on a thread of its own: no settlement waits on a beat or on another.
            context = contextvars.Context()
            threading.Thread(
                target=context.run,
                args=(self._settle_bound, task, outcome),
                name="flotod-settle",
                daemon=True,
            ).start()

    def _settle_bound(self, running: RunningTask, outcome: Outcome) -> None:
        bind_task(running.info, self.task_list)
        self._settle(running, outcome, claimed=True)

    # -- one task ----------------------------------------------------------------------------

    def _run_task(self, running: RunningTask) -> None:
        bind_task(running.info, self.task_list)
        try:
            definition = self.registry.get(running.info.name, running.info.version)
            outcome = prepare(
                running, self._heartbeats, self._offload, input_wait_seconds(definition)
            )
            if outcome is None:
                outcome = execute(
                    running,
                    self.registry,
                    self.task_list,
                    executor=self.executor,
                    start_method=self.start_method,
                    cancel_grace_seconds=self.cancel_grace_seconds,
                )
                if running.abort.is_set():  # whatever it returned, it was asked to stop
                    outcome = Outcome.failed(SHUTDOWN_REASON, "stopped mid-activity; safe to retry")
                elif running.cancel.is_set():
                    outcome = Outcome("canceled", details=running.details or "")
        except BaseException as exc:  # a bug here must still fail the task, not hang it
            log.exception("worker.internal_error")
            outcome = Outcome.failed(
                "worker internal error", f"{type(exc).__name__}: {exc}", message=str(exc)
            )
        try:
            if not self._settle(running, outcome):
                log.warning("activity.result_discarded", note="already reported by the worker")
        finally:
            with self._lock:
                self._abandoned.discard(running)

    def _settle(self, running: RunningTask, outcome: Outcome, claimed: bool = False) -> bool:
        """Report ``outcome`` unless someone already did; False if someone did.

        A result is first stored by the payload rules. The task stays in ``running_tasks()``
        (and keeps heartbeating) until SWF takes the report, says it no longer knows the task,
        or a quick stop's deadline passes.
        """
        if not claimed and not running.claim():
            return False
        try:
            if outcome.status == "canceled" and running.unknown:
                log.warning("activity.dropped", note="SWF no longer knows this task")
            else:
                # Retried like the report: a store outage delays a result, never drops it.
                stored = self._offload.store_result(
                    running, outcome, deadline=lambda: self._report_deadline
                )
                if stored is not None:
                    outcome = stored
                    report(
                        self.swf,
                        running.token,
                        outcome,
                        self.report_retry,
                        deadline=lambda: self._report_deadline,
                        pause=self._pause,
                    )
        finally:
            running.done.set()
            with self._lock:
                self._running.pop(running.token, None)
                self._counts[_COUNTED_AS[outcome.status]] += 1
                self._last_progress = time.monotonic()
                self._lock.notify_all()
            self.metrics.activity_done(self.task_list, running, outcome.status, self.registry)
            log_outcome(outcome, time.monotonic() - running.started)
        return True

    def _pause(self, seconds: float) -> None:
        """Wait between report attempts; a quick stop cuts the wait short (its deadline then
        bounds the attempts left)."""
        if not self._abort.is_set():
            self._abort.wait(seconds)
        else:
            time.sleep(seconds)
