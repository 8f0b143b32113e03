"""The decision poller: one decision task list, polled on a lane, each task answered by a
pure handler (:mod:`flotod.engine.handlers`). The decider and the daemon are this poller with
different handlers.

Each task is decided and answered whole before its lane polls again, so a stop never drops a
task in hand. A reload swaps the handler at once: a task a poll brings after SIGHUP is decided
with the new config even if the poll began before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from structlog.contextvars import bound_contextvars

from flotod.config import ServiceConfig
from flotod.engine import Decision, closes_workflow, closing_reason, decision_rejected
from flotod.engine.handlers import Answer, Handler
from flotod.errors import IncompleteHistoryError, SwfError, UnknownResourceError, ValidationError
from flotod.services.lanes import Lane
from flotod.services.process import ServiceProcess
from flotod.swf import DecisionTask, RetryPolicy
from flotod.swf.histories import HistoryCache

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
    # Called after a run was closed by our decisions (terminate_decider_after_completion).
    after_close: Callable[[], None] | None = None


class DecisionPoller:
    """A :class:`flotod.services.serve.Poller` for a decision task list."""

    def __init__(
        self,
        proc: ServiceProcess,
        source: Callable[[ServiceConfig], DecisionSource],
        history_events: int,
    ) -> None:
        self._source_of = source
        self.source = source(proc.config)
        self.history = HistoryCache(history_events) if history_events else None
        self.counts_ = Counts()
        self._lock = threading.Lock()
        self._proc = proc
        self.lane: Lane[DecisionTask] | None = None

    # -- Poller --------------------------------------------------------------------------------
    def start(self, proc: ServiceProcess) -> None:
        self.lane = Lane(
            "flotod-poll",
            self._poll,
            self._handle,
            failed=self._failed,
            crashed=lambda exc: log.error("decision.lane_crashed", error=repr(exc), exc_info=exc),
        )
        self.lane.start()

    def check(self, proc: ServiceProcess) -> bool:
        return self.lane is None or self.lane.alive()

    def reconfigure(self, config: ServiceConfig) -> None:
        self.source = self._source_of(config)

    def status(self) -> str:
        c = self.counts_
        return (
            f"polling {self.source.task_list}{self.source.label}: {c.decided} decided, "
            f"{c.closed} closed, {c.errors} errors"
        )

    def stop(self, quick: bool) -> None:
        if self.lane is not None:
            self.lane.stop()

    def in_hand(self) -> int:
        return 1 if self.lane is not None and self.lane.handling else 0

    def counts(self) -> dict[str, int]:
        return self.counts_.as_dict()

    # -- the lane's work -----------------------------------------------------------------------
    def _poll(self) -> DecisionTask | None:
        source = self.source
        if source.before_poll is not None:
            source.before_poll()
        task = self._proc.swf.poll_for_decision_task(
            self._proc.config.swf.domain, source.task_list, history=self.history
        )
        self._proc.backoff.reset()
        return task

    def _failed(self, exc: SwfError, delay: float) -> None:
        with self._lock:
            self.counts_.errors += 1
        self._proc.report_failure(
            "decision.poll_failed", exc, delay, task_list=self.source.task_list
        )

    def _handle(self, task: DecisionTask) -> None:
        source = self.source  # one config for the whole task, even if a reload comes meanwhile
        decisions = handle_decision_task(self._proc, task, source.handler, source.task_list)
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
            if source.after_close is not None:
                source.after_close()


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


def respond(
    proc: ServiceProcess, task: DecisionTask, decisions: list[Decision]
) -> list[Decision] | None:
    """Send the decisions; the decisions SWF took, or None (logged, never raised).

    Decisions SWF refuses as invalid (ValidationException: a value over one of its limits)
    would be refused again at every decision task timeout until the run reaches 25,000 events,
    so the task is answered instead with a failure of the run carrying SWF's message.
    """
    try:
        proc.swf.respond_decision_task_completed(task.task_token, decisions, retry=RESPOND_RETRY)
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


def handle_decision_task(
    proc: ServiceProcess, task: DecisionTask, handler: Handler, task_list: str
) -> list[Decision] | None:
    """Decide and respond for one task with its ids bound to every record; never raises.

    Returns the decisions sent, or None when none were (the handler crashed: a bug, logged
    with its traceback; SWF times the task out and hands it out again).
    """
    execution = task.workflow_execution
    with bound_contextvars(
        workflow_id=execution.workflow_id, run_id=execution.run_id, task_list=task_list
    ):
        try:
            answer: Answer = handler(task)
        except IncompleteHistoryError as exc:
            # Not answered: SWF hands the task out again after its timeout, and the history
            # is then read whole (what was kept for the run is dropped by the caller).
            log.warning("decision.history_incomplete", error=str(exc), events=len(task.events))
            return None
        except Exception:
            log.exception("decision.crashed", events=len(task.events))
            return None
        for note in answer.notes:
            fields = dict(note)
            event = str(fields.pop("event"))
            getattr(log, str(fields.pop("level", "info")))(event, **fields)
        sent = respond(proc, task, answer.decisions)
        decisions = answer.decisions if sent is None else sent
        log.info(
            "decision.completed" if sent is not None else "decision.not_sent",
            workflow_type=f"{task.workflow_type.get('name')}:{task.workflow_type.get('version')}",
            events=len(task.events),
            decisions=decision_types(decisions),
            closing=closes_workflow(decisions),
            closing_reason=closing_reason(decisions),
        )
        return sent
