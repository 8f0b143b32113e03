"""flotod-daemon: keep the daemon workflow running and decide for it and for its children.

Decision tasks on the daemon's task list belong either to the daemon workflow (its signals
start children) or to a child (whose spec is in its own input); the workflow type tells them
apart. All state is in SWF's histories, so any number of daemon processes can share the task
list and a restart loses nothing.
"""

from __future__ import annotations

import time

import structlog

from flotod.engine import Decision
from flotod.engine.daemon import DaemonSettings, decide_daemon
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE, decide_child
from flotod.errors import EX_OK, AlreadyExistsError, SwfError
from flotod.runtime import drain
from flotod.services.decider import forget_if_closed, handle_decision_task
from flotod.services.process import ServiceProcess
from flotod.swf import DecisionTask
from flotod.swf.histories import DEFAULT_MAX_EVENTS, HistoryCache

log = structlog.get_logger("flotod.daemon")

# How often the process checks that the daemon workflow is still open (and starts it if not).
ENSURE_EVERY = 300.0
DAEMON_EXECUTION_TIMEOUT = 365 * 24 * 3600


def register_types(proc: ServiceProcess) -> None:
    cfg = proc.config.daemon
    domain = proc.config.swf.domain
    while not proc.stopping:
        try:
            proc.swf.register_workflow_type(
                domain,
                *DAEMON_TYPE,
                task_list=cfg.task_list,
                execution_start_to_close=DAEMON_EXECUTION_TIMEOUT,
                child_policy="ABANDON",
                description="flotod-daemon: starts child workflows on signals",
            )
            proc.swf.register_workflow_type(
                domain,
                *CHILD_TYPE,
                task_list=cfg.task_list,
                execution_start_to_close=cfg.child_execution_timeout_seconds,
                child_policy="TERMINATE",
                description="flotod-daemon child: runs the decider spec in its input",
            )
        except SwfError as exc:
            proc.failed("daemon.register_failed", exc)
            continue
        return


def ensure_daemon_workflow(proc: ServiceProcess) -> bool:
    """Start the daemon workflow unless it runs; False when SWF could not be asked."""
    cfg = proc.config.daemon
    try:
        run_id = proc.swf.start_workflow_execution(
            proc.config.swf.domain,
            cfg.workflow_id,
            *DAEMON_TYPE,
            task_list=cfg.task_list,
            input={"children": [], "pending": []},
            execution_start_to_close=DAEMON_EXECUTION_TIMEOUT,
            child_policy="ABANDON",
        )
    except AlreadyExistsError:
        return True
    except SwfError as exc:
        proc.failed("daemon.start_failed", exc, workflow_id=cfg.workflow_id)
        return False
    log.info("daemon.workflow_started", workflow_id=cfg.workflow_id, run_id=run_id)
    return True


def decide_for(proc: ServiceProcess, task: DecisionTask) -> list[Decision]:
    """Decisions for any task on the daemon's task list, by workflow type."""
    cfg = proc.config.daemon
    kind = (task.workflow_type.get("name"), task.workflow_type.get("version"))
    execution = task.workflow_execution
    if kind == DAEMON_TYPE:
        settings = DaemonSettings(
            domain=proc.config.swf.domain,
            workflow_id=execution.workflow_id,
            run_id=execution.run_id,
            task_list=cfg.task_list,
            max_children=cfg.max_children,
            continue_after_events=cfg.continue_after_events,
            child_timeout_seconds=cfg.child_execution_timeout_seconds,
        )
        outcome = decide_daemon(task.events, settings)
        for note in outcome.notes:
            fields = dict(note)
            event = str(fields.pop("event"))
            getattr(log, str(fields.pop("level", "info")))(event, **fields)
        return outcome.decisions
    if kind == CHILD_TYPE:
        decisions, error = decide_child(task.events, execution.workflow_id, execution.run_id)
        if error is not None:
            log.error("daemon.bad_child_input", error=error)
        return decisions
    log.error("daemon.unknown_workflow_type", workflow_type=f"{kind[0]}:{kind[1]}")
    return []


def run_daemon(proc: ServiceProcess) -> int:
    """The daemon loop until a stop; returns the exit code."""
    task_list = proc.config.daemon.task_list
    register_types(proc)
    if not proc.reach_swf(f"polling {task_list}"):
        return EX_OK
    next_check = 0.0
    counts = {"decided": 0, "errors": 0}
    # The daemon's run grows to continue_after_events events, one signal at a time: held, each
    # signal's task reads a few new events instead of the whole run (bench/histories.py).
    history = HistoryCache(DEFAULT_MAX_EVENTS + proc.config.daemon.continue_after_events)
    while not proc.stopping:
        proc.tend()
        if time.monotonic() >= next_check:
            if not ensure_daemon_workflow(proc):
                continue
            next_check = time.monotonic() + ENSURE_EVERY
        proc.status(
            f"polling {task_list} for {proc.config.daemon.workflow_id}: "
            f"{counts['decided']} decided, {counts['errors']} errors"
        )
        try:
            task = proc.swf.poll_for_decision_task(
                proc.config.swf.domain, task_list, history=history
            )
        except SwfError as exc:
            counts["errors"] += 1
            proc.failed("daemon.poll_failed", exc, task_list=task_list)
            continue
        proc.succeeded()
        if task is None:
            continue
        sent = handle_decision_task(proc, task, lambda t: decide_for(proc, t), task_list)
        proc.progress.beat()
        counts["decided" if sent is not None else "errors"] += 1
        if sent is not None:
            forget_if_closed(history, task, sent)
    drain(
        lambda: True,
        timeout=proc.config.drain_timeout_seconds,
        lifecycle=proc.lifecycle,
        notifier=proc.notifier,
    )
    log.info("daemon.stopped", **counts)
    return EX_OK
