"""The decision poller: one decision task list, polled on a lane, each task answered by a
pure handler (:mod:`flotod.engine.handlers`). The decider and the daemon are this poller with
different handlers.

Each task is decided and answered whole before its lane polls again, so a stop never drops a
task in hand. A reload swaps the handler at once: a task a poll brings after SIGHUP is decided
with the new config even if the poll began before it.

Sticky (``sticky = true``): a second lane polls a list of this process's own, and every answer
names that list for the run's next decision tasks (SWF's task list override), so they come
back here and find the run's events and replay state held. If this process does not start
such a task within ``sticky_schedule_to_start_seconds``, SWF times it out and hands the run back
to the shared list. Each lane holds its own long poll, so neither list waits on the other;
the two lanes share the history cache (locked) and the handler (called under one lock: a
decision is CPU work, which the GIL serializes anyway). During a stop, answers name the shared
list: a run decided then goes back at once; a run held but not in hand comes back after the
timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from structlog.contextvars import bound_contextvars

from flotod.config import ServiceConfig
from flotod.engine import (
    Decision,
    closes_workflow,
    closing_reason,
    decision_rejected,
    ends_workflow,
)
from flotod.engine.failing import failing_run
from flotod.engine.handlers import Answer, Handler
from flotod.errors import (
    IncompleteHistoryError,
    SwfError,
    UnknownResourceError,
    UnservedVersionError,
    ValidationError,
)
from flotod.metrics.base import DecisionOutcome
from flotod.payloads import PayloadUnavailable
from flotod.payloads.history import EventPayloadError, encode_decisions, resolve_counted
from flotod.services.lanes import Lane
from flotod.services.process import ServiceProcess
from flotod.swf import DecisionTask, RetryPolicy
from flotod.swf.histories import HistoryCache
from flotod.swf.names import sticky_task_list

log = structlog.get_logger("flotod.decisions")

# Decisions dropped after the service's few quick retries would cost the workflow a whole
# decision-task timeout; the task token stays valid until then, so keep trying for ~15 s.
RESPOND_RETRY = RetryPolicy(max_attempts=8, base_seconds=0.2, cap_seconds=4.0)


@dataclass
class Counts:
    decided: int = 0
    closed: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"decided": self.decided, "closed": self.closed, "errors": self.errors}


@dataclass
class DecisionSource:
    """What a decision poller serves, derived from the config (again on every reload)."""

    task_list: str
    handler: Handler
    label: str  # STATUS= text after the task list, e.g. "for flotod_daemon"
    # Called before each poll (the daemon makes sure its workflow runs); may raise SwfError.
    before_poll: Callable[[], None] | None = None
    # Called after our decisions ended a workflow: completed, failed or cancelled it, not
    # continued it as new, whose next run still needs deciding
    # (terminate_decider_after_completion).
    after_close: Callable[[], None] | None = None
    # This process's own list (sticky deciders) and how long a task may wait there.
    sticky_list: str | None = None
    sticky_timeout: int = 5


class Serialized:
    """A handler shared by the poller's lanes: one task at a time, since the replay states it
    keeps belong to one thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._lock = threading.Lock()

    def __call__(self, task: DecisionTask) -> Answer:
        with self._lock:
            return self.handler(task)

    def forget(self, workflow_id: str, run_id: str) -> None:
        with self._lock:
            self.handler.forget(workflow_id, run_id)


class DecisionPoller:
    """A :class:`flotod.services.serve.Poller` for a decision task list."""

    def __init__(
        self,
        proc: ServiceProcess,
        source: Callable[[ServiceConfig], DecisionSource],
        history_events: int,
    ) -> None:
        self._source_of = source
        self.source = self._serialized(source(proc.config))
        self.history = HistoryCache(history_events) if history_events else None
        self.counts_ = Counts()
        self._lock = threading.Lock()
        self._proc = proc
        self._stopping = False
        # The sticky list is fixed at start: a reload that turns sticky off keeps polling it
        # (answers then name the shared list), so no run is left waiting on a list nobody polls.
        self.sticky_list = self.source.sticky_list
        # How long the latest task from the sticky list waited there (see route()).
        self.sticky_wait = 0.0
        self.lane: Lane[DecisionTask] | None = None
        self.sticky_lane: Lane[DecisionTask] | None = None

    @staticmethod
    def _serialized(source: DecisionSource) -> DecisionSource:
        source.handler = Serialized(source.handler)
        return source

    def _lanes(self) -> list[Lane[DecisionTask]]:
        return [lane for lane in (self.lane, self.sticky_lane) if lane is not None]

    # -- Poller --------------------------------------------------------------------------------
    def start(self, proc: ServiceProcess) -> None:
        def crashed(exc: BaseException) -> None:
            log.error("decision.lane_crashed", error=repr(exc), exc_info=exc)

        proc.metrics.watch_history(self.history)
        self.lane = Lane(
            "flotod-poll",
            lambda: self._poll(sticky=False),
            lambda task: self._handle(task, sticky=False),
            failed=lambda exc, delay: self._failed(exc, delay, sticky=False),
            crashed=crashed,
        )
        if self.sticky_list is not None:
            self.sticky_lane = Lane(
                "flotod-sticky",
                lambda: self._poll(sticky=True),
                lambda task: self._handle(task, sticky=True),
                failed=lambda exc, delay: self._failed(exc, delay, sticky=True),
                crashed=crashed,
            )
        for lane in self._lanes():
            lane.start()

    def check(self, proc: ServiceProcess) -> bool:  # noqa: ARG002 (Poller protocol)
        return all(lane.alive() for lane in self._lanes())

    def reconfigure(self, config: ServiceConfig) -> None:
        self.source = self._serialized(self._source_of(config))

    def status(self) -> str:
        c = self.counts_
        return (
            f"polling {self.source.task_list}{self.source.label}: {c.decided} decided, "
            f"{c.closed} closed, {c.errors} errors"
        )

    def stop(self, quick: bool) -> None:  # noqa: ARG002 (decisions are never cut short)
        self._stopping = True
        for lane in self._lanes():
            lane.stop()

    def in_hand(self) -> int:
        return sum(1 for lane in self._lanes() if lane.handling)

    def counts(self) -> dict[str, int]:
        return self.counts_.as_dict()

    # -- the lanes' work -----------------------------------------------------------------------
    def _poll(self, sticky: bool) -> DecisionTask | None:
        source = self.source
        if source.before_poll is not None and not sticky:
            source.before_poll()
        task_list = self.sticky_list if sticky and self.sticky_list else source.task_list
        task = self._proc.swf.poll_for_decision_task(
            self._proc.config.swf.domain,
            task_list,
            history=self.history,
            since_previous=sticky,
        )
        self._proc.backoff.reset()
        return task

    def _failed(self, exc: SwfError, delay: float, sticky: bool) -> None:
        with self._lock:
            self.counts_.errors += 1
        self._proc.report_failure(
            "decision.poll_failed", exc, delay, task_list=self.source.task_list, sticky=sticky
        )

    def route(self, source: DecisionSource) -> Route | None:
        """Where the run's next decision tasks go: here while sticky and running; the shared
        list during a stop, once sticky is off (if the run was routed here before), and while
        this process is the bottleneck: when tasks on its own list wait more than half the
        schedule-to-start timeout, more would time out there, so runs go back to the list
        every decider serves until the wait is short again."""
        busy = self.sticky_wait > source.sticky_timeout / 2
        if source.sticky_list and self.sticky_list and not self._stopping and not busy:
            return Route(self.sticky_list, source.sticky_timeout)
        if self.sticky_list is not None:
            return Route(source.task_list, None)
        return None

    def _handle(self, task: DecisionTask, sticky: bool) -> None:
        source = self.source  # one config for the whole task, even if a reload comes meanwhile
        if sticky:
            self.sticky_wait = queued_seconds(task)
        decisions = handle_decision_task(
            self._proc,
            task,
            source.handler,
            source.task_list,
            lambda: self.route(source),
            sticky,
            self.history,
        )
        with self._lock:
            if decisions is None:
                self.counts_.errors += 1
        if decisions is None:
            # Nothing was sent: whatever is kept for the run may be what went wrong, and the
            # task comes back whole after its timeout.
            execution = task.workflow_execution
            if self.history is not None:
                self.history.drop(execution.workflow_id, execution.run_id)
            source.handler.forget(execution.workflow_id, execution.run_id)
            return
        with self._lock:
            self.counts_.decided += 1
        if forget_if_closed(self.history, task, decisions, source.handler):
            with self._lock:
                self.counts_.closed += 1
            if source.after_close is not None and ends_workflow(decisions):
                source.after_close()


def _seconds(event: dict[str, object]) -> float:
    stamp = event.get("eventTimestamp")
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    return float(stamp) if isinstance(stamp, int | float | str) else 0.0


def queued_seconds(task: DecisionTask) -> float:
    """How long the task waited on its list before a decider took it: from its
    DecisionTaskScheduled to its DecisionTaskStarted, both stamped by SWF (0 if unknown)."""
    events = task.events
    if not events or events[-1].get("eventType") != "DecisionTaskStarted":
        return 0.0
    started = events[-1]
    scheduled_id = int(
        started.get("decisionTaskStartedEventAttributes", {}).get("scheduledEventId", 0)
    )
    if not 0 < scheduled_id <= len(events):
        return 0.0
    return max(0.0, _seconds(started) - _seconds(events[scheduled_id - 1]))


def sticky_list(task_list: str, proc: ServiceProcess, wanted: bool) -> str | None:
    """This process's own decision task list, named after the shared one and the identity it
    polls with (flotod.swf.names); None when sticky is off, or when this botocore cannot send
    the task list override (Debian 12's SWF model predates it): then every task is decided
    from the shared list, as without sticky."""
    if not wanted:
        return None
    if not proc.swf.supports_sticky:
        log.warning(
            "decision.sticky_unavailable",
            note="this botocore's SWF model has no decision task list override; sticky is off",
        )
        return None
    return sticky_task_list(task_list, proc.swf.identity)


def forget_if_closed(
    history: HistoryCache | None,
    task: DecisionTask,
    decisions: list[Decision],
    handler: Handler | None = None,
) -> bool:
    """A run closed by these decisions gets no more decision tasks: what was kept for it
    (its events, its replay state) can go. True when the decisions close the run."""
    if not closes_workflow(decisions):
        return False
    execution = task.workflow_execution
    if history is not None:
        history.drop(execution.workflow_id, execution.run_id)
    if handler is not None:
        handler.forget(execution.workflow_id, execution.run_id)
    return True


def decision_types(decisions: list[Decision]) -> list[str]:
    return [str(x.get("decisionType")) for x in decisions]


@dataclass(frozen=True)
class Route:
    """The task list override an answer names: ``timeout`` None makes it permanent."""

    task_list: str
    timeout: int | None


def respond(
    proc: ServiceProcess, task: DecisionTask, decisions: list[Decision], route: Route | None = None
) -> list[Decision] | None:
    """Send the decisions; the decisions SWF took, or None (logged, never raised).

    Decisions SWF refuses as invalid (ValidationException: a value over one of its limits)
    would be refused again at every decision task timeout until the run reaches 25,000 events,
    so the task is answered instead with a failure of the run carrying SWF's message.
    ``route``: where the run's next decision tasks go (sticky deciders).
    """
    try:
        proc.swf.respond_decision_task_completed(
            task.task_token,
            decisions,
            retry=RESPOND_RETRY,
            task_list=route.task_list if route else None,
            schedule_to_start=route.timeout if route else None,
        )
    except UnknownResourceError as exc:
        log.warning("decision.too_late", error=str(exc), note="the task timed out meanwhile")
        return None
    except ValidationError as exc:
        log.error("decision.rejected", error=str(exc), decisions=decision_types(decisions))
        failing = decision_rejected(str(exc), decisions)
        if failing == decisions or not _send_once(proc, task, failing):
            return None
        return failing
    except SwfError as exc:
        log.error("decision.respond_failed", error=str(exc), code=exc.code)
        return None
    return decisions


def _send_once(proc: ServiceProcess, task: DecisionTask, decisions: list[Decision]) -> bool:
    try:
        proc.swf.respond_decision_task_completed(task.task_token, decisions, retry=RESPOND_RETRY)
    except SwfError as exc:
        log.error("decision.respond_failed", error=str(exc), code=exc.code)
        return False
    return True


def resolved_task(
    proc: ServiceProcess, task: DecisionTask, history: HistoryCache | None = None
) -> DecisionTask:
    """``task`` with the large payloads in its events resolved (``proc.payloads``), and the
    resolved events held in ``history`` in place of the ones polled, so that a run's next
    task resolves only its new events. Raises what :func:`resolve_counted` raises."""
    execution = task.workflow_execution
    wid, rid = execution.workflow_id, execution.run_id
    start = history.resolved(wid, rid, task.events) if history is not None else 0
    events, chars = resolve_counted(task.events, proc.payloads, start)
    if history is not None:
        history.settle(wid, rid, task.events, events, chars)
    return task if events is task.events else replace(task, events=events)


def _decide(
    proc: ServiceProcess, task: DecisionTask, handler: Handler, history: HistoryCache | None
) -> Answer:
    """The handler's answer for the task's resolved history; a reference that can never
    resolve fails the run instead (with its children asked to cancel, as the engine does)."""
    try:
        ready = resolved_task(proc, task, history)
    except EventPayloadError as exc:
        details = exc.details()
        fields = {("in_event" if k == "event" else k): v for k, v in details.items()}
        note = {"event": "decision.payload_unresolved", "level": "error", **fields}
        return Answer(failing_run(task.events, exc.reason, details), [note])
    return handler(ready)


def handle_decision_task(
    proc: ServiceProcess,
    task: DecisionTask,
    handler: Handler,
    task_list: str,
    route: Callable[[], Route | None] = lambda: None,
    sticky: bool = False,
    history: HistoryCache | None = None,
) -> list[Decision] | None:
    """Decide and respond for one task with its ids bound to every record; never raises.

    ``route`` is asked just before answering (a stop that began while deciding counts);
    ``sticky``: the task came from this process's own list (logged).
    Large payloads (``proc.payloads``) are resolved in the events before the handler reads
    them (and held resolved in ``history``, the poller's cache), and encoded in the
    decisions after it.
    Returns the decisions sent, or None when none were (the handler crashed: a bug, logged
    with its traceback; or a payload's store could not be reached: SWF times the task out
    and hands it out again).
    """
    execution = task.workflow_execution
    received = time.monotonic()
    with bound_contextvars(
        workflow_id=execution.workflow_id, run_id=execution.run_id, task_list=task_list
    ):
        try:
            answer: Answer = _decide(proc, task, handler, history)
            answer.decisions = encode_decisions(
                answer.decisions, proc.payloads, execution.workflow_id, execution.run_id
            )
        except PayloadUnavailable as exc:
            # Not answered: the store may be back when SWF hands the task out again.
            log.warning("decision.payload_unavailable", uri=exc.uri, error=str(exc))
            waited = time.monotonic() - received
            proc.metrics.decision_done(task_list, "payload_unavailable", waited)
            return None
        except IncompleteHistoryError as exc:
            # Not answered: SWF hands the task out again after its timeout, and the history
            # is then read whole (what was kept for the run is dropped by the caller).
            log.warning("decision.history_incomplete", error=str(exc), events=len(task.events))
            proc.metrics.decision_done(task_list, "history_incomplete", time.monotonic() - received)
            return None
        except UnservedVersionError as exc:
            log.error("decision.unserved_version", error=str(exc), note="left unanswered")
            proc.metrics.decision_done(task_list, "unserved_version", time.monotonic() - received)
            return None
        except Exception:
            log.exception("decision.crashed", events=len(task.events))
            proc.metrics.decision_done(task_list, "crashed", time.monotonic() - received)
            return None
        for note in answer.notes:
            fields = dict(note)
            event = str(fields.pop("event"))
            getattr(log, str(fields.pop("level", "info")))(event, **fields)
        proc.metrics.daemon_notes(answer.notes)
        routed = route()
        sent = respond(proc, task, answer.decisions, routed)
        decisions = answer.decisions if sent is None else sent
        outcome: DecisionOutcome = (
            "not_sent" if sent is None else "completed" if sent is answer.decisions else "rejected"
        )
        proc.metrics.decision_done(task_list, outcome, time.monotonic() - received)
        log.info(
            "decision.completed" if sent is not None else "decision.not_sent",
            workflow_type=f"{task.workflow_type.get('name')}:{task.workflow_type.get('version')}",
            events=len(task.events),
            sticky=sticky,
            held=answer.held,
            next_task_list=routed.task_list if routed else None,
            decisions=decision_types(decisions),
            closing=closes_workflow(decisions),
            closing_reason=closing_reason(decisions),
        )
        return sent
