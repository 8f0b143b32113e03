"""flotod-daemon: keep the daemon workflow running and decide for it and for its children.

Decision tasks on the daemon's task list belong either to the daemon workflow (its signals
start children) or to a child (whose spec is in its own input): the handler tells them apart
by workflow type. All state is in SWF's histories, so any number of daemon processes can share
the task list and a restart loses nothing.
"""

from __future__ import annotations

import time

import structlog

from flotod.config import ServiceConfig
from flotod.engine.daemon_requests import DAEMON_TYPE
from flotod.engine.decisions import payload_limit
from flotod.engine.handlers import DaemonHandler
from flotod.errors import AlreadyExistsError
from flotod.services.decisions import DecisionPoller, DecisionSource, sticky_list
from flotod.services.process import ServiceProcess
from flotod.services.registration import DAEMON_EXECUTION_TIMEOUT
from flotod.services.serve import serve
from flotod.swf.histories import DEFAULT_MAX_EVENTS

log = structlog.get_logger("flotod.daemon")

# How often the process checks that the daemon workflow is still open (and starts it if not).
ENSURE_EVERY = 300.0


class DaemonWorkflow:
    """Starts the daemon workflow unless it runs, at most every ENSURE_EVERY seconds."""

    def __init__(self, proc: ServiceProcess) -> None:
        self.proc = proc
        self.next_check = 0.0

    def ensure(self) -> None:
        """Raises SwfError when SWF could not be asked (the lane backs off and asks again)."""
        if time.monotonic() < self.next_check:
            return
        cfg = self.proc.config.daemon
        try:
            run_id = self.proc.swf.start_workflow_execution(
                self.proc.config.swf.domain,
                cfg.workflow_id,
                *DAEMON_TYPE,
                task_list=cfg.task_list,
                input={"children": [], "pending": []},
                execution_start_to_close=DAEMON_EXECUTION_TIMEOUT,
                child_policy="ABANDON",
            )
        except AlreadyExistsError:
            pass
        else:
            log.info("daemon.workflow_started", workflow_id=cfg.workflow_id, run_id=run_id)
        self.next_check = time.monotonic() + ENSURE_EVERY


def daemon_poller(proc: ServiceProcess) -> DecisionPoller:
    workflow = DaemonWorkflow(proc)

    def source(config: ServiceConfig) -> DecisionSource:
        cfg = config.daemon
        return DecisionSource(
            task_list=cfg.task_list,
            handler=DaemonHandler(
                domain=config.swf.domain,
                task_list=cfg.task_list,
                max_children=cfg.max_children,
                continue_after_events=cfg.continue_after_events,
                child_timeout_seconds=cfg.child_execution_timeout_seconds,
                allow=cfg.allow,
                max_payload=payload_limit(proc.payloads.enabled),
            ),
            label=f" for {cfg.workflow_id}",
            before_poll=workflow.ensure,
            sticky_list=sticky_list(cfg.task_list, proc, cfg.sticky),
            sticky_timeout=cfg.sticky_schedule_to_start_seconds,
        )

    # The daemon's run grows to continue_after_events events, one signal at a time: held, each
    # signal's task reads a few new events instead of the whole run (bench/histories.py).
    events = DEFAULT_MAX_EVENTS + proc.config.daemon.continue_after_events
    return DecisionPoller(proc, source, events)


def run_daemon(proc: ServiceProcess) -> int:
    """The daemon service until a stop; returns the exit code."""
    return serve(proc, daemon_poller(proc))
