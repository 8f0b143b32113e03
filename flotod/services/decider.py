"""flotod-decider: a decision poller whose handler is the config's spec (or dynamic)."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from flotod.config import ServiceConfig
from flotod.config.reload import Reload
from flotod.engine.decisions import MAX_PAYLOAD, payload_limit
from flotod.engine.handlers import DynamicHandler, Handler, SpecHandler
from flotod.engine.versions import VersionedHandler
from flotod.errors import FlotodError, SwfError
from flotod.payloads.configured import payloads_from_config
from flotod.services.decisions import DecisionPoller, DecisionSource, sticky_list
from flotod.services.process import ServiceProcess, make_client
from flotod.services.registration import register_one, types_for
from flotod.services.serve import log_registration, serve
from flotod.services.spec_check import refusals, vet_reload
from flotod.specs import DeciderSpec

log = structlog.get_logger("flotod.decider")


def decider_handler(config: ServiceConfig, max_payload: int = MAX_PAYLOAD) -> Handler:
    """The handler for a decider config: its spec (or one per version with ``specs``), keeping
    replay states when the history cache is on (a reload builds a new one: a new spec starts
    with nothing kept). ``max_payload``: the process's bound on inputs and results
    (payload_limit)."""
    decider = config.decider
    if decider.versions:
        return VersionedHandler(
            decider.workflow_type_name,
            decider.versions,
            max_events=decider.history_cache_events,
            max_payload=max_payload,
        )
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
    """The decider service until a stop; returns the exit code. A reload's new specs must
    agree with the open runs they would decide (:mod:`flotod.services.spec_check`)."""

    def vet(current: ServiceConfig, result: Reload) -> Reload:
        vetted = vet_reload(
            proc.swf, current, result, proc.log, proc.progress.beat, lambda: proc.payloads
        )
        register_new_types(proc, current, vetted.effective(current))
        return vetted

    proc.vet_reload = vet
    return serve(proc, decider_poller(proc))


def register_new_types(proc: ServiceProcess, current: ServiceConfig, new: ServiceConfig) -> None:
    """Register the types a reload adds (a new version): once each, since a reload must not
    wait on SWF; a failure is logged and the type is registered at the next start."""
    known = set(types_for(current))
    for item in types_for(new):
        if item in known:
            continue
        try:
            state = register_one(proc.swf, new.swf.domain, item)
        except SwfError as exc:
            proc.log.error("registration.failed", type=item.label, error=str(exc))
            continue
        log_registration(proc, state)


def check_open_runs(config: ServiceConfig, warn: Callable[[str], None]) -> list[str]:
    """``--check-config`` of a decider: one line per version whose spec an open run refuses.

    When SWF cannot be asked, each line is a warning instead and the check passes: refusing
    every ``systemctl reload`` while SWF is down would block a log level change too, and the
    running decider refuses the unchecked versions itself (logging why).
    """
    try:
        swf = make_client(config, quick=True)
    except FlotodError as exc:
        warn(f"open runs not checked: {exc}")
        return []
    problems = []
    for refusal in refusals(swf, None, config, payloads=lambda: payloads_from_config(config)):
        if refusal.unchecked:
            warn(f"{refusal.line()} (a running decider keeps its old spec until it can)")
        else:
            problems.append(refusal.line())
    return problems
