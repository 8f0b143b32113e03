"""flotod-decider: poll a decision task list, run the engine, answer SWF. Nothing else.

Each decision task is handled whole (its history pages already joined by the client) and
answered before the loop looks at its stop flag again, so a warm stop never drops a task.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from structlog.contextvars import bound_contextvars

from flotod.config import ServiceConfig
from flotod.engine import (
    Decision,
    Replays,
    closes_workflow,
    closing_reason,
    decide,
    decide_dynamic,
)
from flotod.errors import EX_OK, SwfError, UnknownResourceError
from flotod.runtime import drain
from flotod.services.process import ServiceProcess
from flotod.specs import DeciderSpec
from flotod.swf import DecisionTask, RetryPolicy
from flotod.swf.histories import HistoryCache

log = structlog.get_logger("flotod.decider")

Decide = Callable[[DecisionTask], list[Decision]]

# Decisions dropped after the service's few quick retries would cost the workflow a whole
# decision-task timeout; the task token stays valid until then, so keep trying for ~15 s.
RESPOND_RETRY = RetryPolicy(max_attempts=8, base_seconds=0.2, cap_seconds=4.0)


def decision_types(decisions: list[Decision]) -> list[str]:
    return [str(x.get("decisionType")) for x in decisions]


def respond(proc: ServiceProcess, task: DecisionTask, decisions: list[Decision]) -> bool:
    """Send the decisions; False when SWF refused them (logged, never raised)."""
    try:
        proc.swf.respond_decision_task_completed(task.task_token, decisions, retry=RESPOND_RETRY)
    except UnknownResourceError as exc:
        log.warning("decision.too_late", error=str(exc), note="the task timed out meanwhile")
        return False
    except SwfError as exc:
        log.error("decision.respond_failed", error=str(exc), code=exc.code)
        return False
    return True


def handle_decision_task(
    proc: ServiceProcess, task: DecisionTask, decide_task: Decide, task_list: str
) -> list[Decision] | None:
    """Decide and respond for one task with its ids bound to every record; never raises.

    Returns the decisions sent, or None when none were (the engine crashed: a bug, logged
    with its traceback; SWF times the task out and hands it out again).
    """
    execution = task.workflow_execution
    with bound_contextvars(
        workflow_id=execution.workflow_id, run_id=execution.run_id, task_list=task_list
    ):
        try:
            decisions = decide_task(task)
        except Exception:
            log.exception("decision.crashed", events=len(task.events))
            return None
        sent = respond(proc, task, decisions)
        log.info(
            "decision.completed" if sent else "decision.not_sent",
            workflow_type=f"{task.workflow_type.get('name')}:{task.workflow_type.get('version')}",
            events=len(task.events),
            decisions=decision_types(decisions),
            closing=closes_workflow(decisions),
            closing_reason=closing_reason(decisions),
        )
        return decisions if sent else None


def forget_if_closed(
    history: HistoryCache | None,
    task: DecisionTask,
    decisions: list[Decision],
    replays: Replays | None = None,
) -> None:
    """A run closed by these decisions gets no more decision tasks: what was kept can go."""
    if not closes_workflow(decisions):
        return
    execution = task.workflow_execution
    if history is not None:
        history.drop(execution.workflow_id, execution.run_id)
    if replays is not None:
        replays.drop((execution.workflow_id, execution.run_id))


def spec_decider(
    config: ServiceConfig,
) -> tuple[Decide, DeciderSpec | None, Replays | None]:
    """The function from a task to decisions for this config, the static spec if any, and
    the replay states it keeps between a run's tasks (static specs, with
    ``history_cache_events`` > 0, which also bounds them)."""
    decider = config.decider
    if decider.dynamic:
        defaults = DeciderSpec(
            domain=config.swf.domain,
            task_list=decider.task_list,
            default_activity_task_list=decider.default_activity_task_list or None,
        )

        def dynamic(task: DecisionTask) -> list[Decision]:
            return decide_dynamic(task.events, defaults, task.workflow_execution.workflow_id)

        return dynamic, None, None
    spec = decider.spec
    assert spec is not None, "a loaded non-dynamic decider config always has a spec"
    if decider.history_cache_events:  # a new spec (a reload) starts with nothing kept
        replays = Replays(spec, max_events=decider.history_cache_events)

        def continued(task: DecisionTask) -> list[Decision]:
            execution = task.workflow_execution
            key = (execution.workflow_id, execution.run_id)
            return replays.decide(key, task.events, execution.workflow_id)

        return continued, spec, replays

    def static(task: DecisionTask) -> list[Decision]:
        return decide(task.events, spec, task.workflow_execution.workflow_id)

    return static, spec, None


def register_workflow_type(proc: ServiceProcess) -> None:
    decider = proc.config.decider
    if not decider.workflow_type_name:
        return
    while not proc.stopping:
        try:
            created = proc.swf.register_workflow_type(
                proc.config.swf.domain,
                decider.workflow_type_name,
                decider.workflow_type_version,
                task_list=decider.task_list,
            )
        except SwfError as exc:
            proc.failed("decider.register_failed", exc)
            continue
        log.info(
            "decider.workflow_type",
            name=decider.workflow_type_name,
            version=decider.workflow_type_version,
            registered=created,
        )
        return


def run_decider(proc: ServiceProcess) -> int:
    """The decider loop until a stop; returns the exit code."""
    task_list = proc.config.decider.task_list
    # history_cache_events = 0 keeps nothing between tasks: no events, no replay states.
    cached = proc.config.decider.history_cache_events
    history = HistoryCache(cached) if cached else None
    decide_task, spec, replays = spec_decider(proc.config)
    counts = {"decided": 0, "closed": 0, "errors": 0}
    register_workflow_type(proc)
    if not proc.reach_swf(f"polling {task_list}"):
        return EX_OK
    while not proc.stopping:
        if proc.tend() is not None:
            decide_task, spec, replays = spec_decider(proc.config)
        proc.status(
            f"polling {task_list}: {counts['decided']} decided, {counts['closed']} closed, "
            f"{counts['errors']} errors"
        )
        try:
            task = proc.swf.poll_for_decision_task(
                proc.config.swf.domain, task_list, history=history
            )
        except SwfError as exc:
            counts["errors"] += 1
            proc.failed("decider.poll_failed", exc, task_list=task_list)
            continue
        proc.succeeded()
        if task is None:
            continue
        decisions = handle_decision_task(proc, task, decide_task, task_list)
        proc.progress.beat()
        if decisions is None:
            counts["errors"] += 1
            continue
        counts["decided"] += 1
        forget_if_closed(history, task, decisions, replays)
        if closes_workflow(decisions):
            counts["closed"] += 1
            if spec is not None and spec.terminate_decider_after_completion:
                log.info("decider.terminating", reason="terminate_decider_after_completion")
                proc.lifecycle.request_stop()
    drain(
        lambda: True,
        timeout=proc.config.drain_timeout_seconds,
        lifecycle=proc.lifecycle,
        notifier=proc.notifier,
    )
    log.info("decider.stopped", **counts)
    return EX_OK
