"""flotod-decider: a decision poller whose handler is the config's spec (or dynamic)."""

from __future__ import annotations

import structlog

from flotod.config import ServiceConfig
from flotod.engine.decisions import MAX_PAYLOAD, payload_limit
from flotod.engine.handlers import DynamicHandler, Handler, SpecHandler
from flotod.services.decisions import DecisionPoller, DecisionSource, sticky_list
from flotod.services.process import ServiceProcess
from flotod.services.serve import serve
from flotod.specs import DeciderSpec

log = structlog.get_logger("flotod.decider")


def decider_handler(config: ServiceConfig, max_payload: int = MAX_PAYLOAD) -> Handler:
    """The handler for a decider config: its spec, keeping replay states when the history
    cache is on (a reload builds a new one: a new spec starts with nothing kept).
    ``max_payload``: the process's bound on inputs and results (payload_limit)."""
    decider = config.decider
    if decider.dynamic:
        return DynamicHandler(
            DeciderSpec(
                domain=config.swf.domain,
                task_list=decider.task_list,
                default_activity_task_list=decider.default_activity_task_list or None,
            ),
            decider.allow,
            max_payload,
        )
    assert decider.spec is not None, "a loaded non-dynamic decider config always has a spec"
    return SpecHandler(
        decider.spec, max_events=decider.history_cache_events, max_payload=max_payload
    )


def decider_poller(proc: ServiceProcess) -> DecisionPoller:
    def source(config: ServiceConfig) -> DecisionSource:
        spec = config.decider.spec
        after_close = None
        if spec is not None and spec.terminate_decider_after_completion:

            def after_close() -> None:
                log.info("decider.terminating", reason="terminate_decider_after_completion")
                proc.lifecycle.request_stop()

        decider = config.decider
        return DecisionSource(
            task_list=decider.task_list,
            handler=decider_handler(config, payload_limit(proc.payloads.enabled)),
            label="",
            after_close=after_close,
            sticky_list=sticky_list(decider.task_list, proc, decider.sticky),
            sticky_timeout=decider.sticky_schedule_to_start_seconds,
        )

    return DecisionPoller(proc, source, proc.config.decider.history_cache_events)


def run_decider(proc: ServiceProcess) -> int:
    """The decider service until a stop; returns the exit code."""
    return serve(proc, decider_poller(proc))
