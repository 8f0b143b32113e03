"""serve(): the one loop every flotod service runs, whatever it polls.

The decider, the daemon and the worker differ only in what they poll and how they handle a
task; that is their :class:`Poller`. Everything else is here, once: registering the types the
config serves, waiting for SWF, applying reloads, STATUS=, the watchdog's beat, the stop and
the drain. The main thread runs this loop and never blocks on SWF: pollers poll on threads
of their own (:mod:`flotod.services.lanes`, or the worker's lanes), so a signal is acted on
within one tick even while a 60 s long poll is in flight.

Stopping: SIGTERM asks the poller to take no new work and waits (``drain_timeout_seconds``)
until nothing is in hand; polls that are only waiting are not waited for. SIGINT, a second
SIGTERM or the drain deadline make it a quick stop.
"""

from __future__ import annotations

import time
from typing import Protocol

from flotod.config import ServiceConfig
from flotod.errors import EX_CONFIG, EX_OK, SwfError
from flotod.runtime import DrainOutcome, drain
from flotod.services.process import ServiceProcess
from flotod.services.registration import TypeState, register_one, types_for

# How often the loop looks at signals, status and liveness: a reload is applied and STATUS=
# refreshed within this (plus the status coalescing in ServiceProcess.status).
TICK = 0.5
# After a drain that timed out or was cut short: how long a quick stop may take to settle.
QUICK_STOP_GRACE = 10.0


class Poller(Protocol):
    """What a service polls and how it handles it; :func:`serve` does the rest."""

    def start(self, proc: ServiceProcess) -> None:
        """Begin polling, on threads of its own."""

    def check(self, proc: ServiceProcess) -> bool:
        """Called every tick: restart what ended, and say whether every loop is alive
        (polling, handling or backing off, none wedged). Only a wedged loop stops the
        watchdog."""

    def reconfigure(self, config: ServiceConfig) -> None:
        """Apply a reloaded config: the one place reloadable settings take effect."""

    def status(self) -> str:
        """One line for STATUS=: what it polls and its counts."""

    def stop(self, quick: bool) -> None:
        """Take no new work; ``quick``: also give up on the work in hand (reported so that
        SWF hands it out again)."""

    def in_hand(self) -> int:
        """Tasks being handled now; a drain waits until this is 0."""

    def counts(self) -> dict[str, int]:
        """Totals for the ``service.stopped`` record."""


def serve(proc: ServiceProcess, poller: Poller) -> int:
    """Run ``poller`` as a service until a stop; returns the exit code."""
    if not proc.open_metrics():
        return EX_CONFIG
    proc.metrics.watch_poller(poller.in_hand)
    if not register_types(proc):
        return EX_OK
    if not proc.reach_swf(poller.status()):
        return EX_OK
    poller.start(proc)
    while not proc.stopping:
        config = proc.tend()
        if config is not None:
            poller.reconfigure(config)
        if poller.check(proc):
            proc.progress.beat()
        proc.status(poller.status())
        proc.wait(TICK)
    return _stop(proc, poller)


def _stop(proc: ServiceProcess, poller: Poller) -> int:
    for name in proc.lifecycle.take_signals():
        proc.log.info("signal.received", signal=name, stopping=True)
    quick = proc.lifecycle.quick_stop_requested
    timeout = proc.config.drain_timeout_seconds
    poller.stop(quick)
    proc.log.info("service.stopping", quick=quick, in_hand=poller.in_hand(), drain_timeout=timeout)
    outcome = drain(
        lambda: poller.in_hand() == 0,
        timeout=timeout,
        lifecycle=proc.lifecycle,
        notifier=proc.notifier,
        progress=proc.progress,
        alive=lambda: poller.check(proc),
        status=lambda: f"stopping: draining {poller.in_hand()} in hand",
    )
    if outcome is not DrainOutcome.DRAINED:
        proc.log.warning("service.quick_stop", reason=outcome.value, in_hand=poller.in_hand())
        poller.stop(quick=True)
        deadline = time.monotonic() + QUICK_STOP_GRACE
        while poller.in_hand() and time.monotonic() < deadline:
            time.sleep(0.05)
    proc.log.info("service.stopped", drain=outcome.value, **poller.counts())
    return EX_OK


def register_types(proc: ServiceProcess) -> bool:
    """Register what the config serves, retrying SWF's failures; False when a stop came first.

    A type SWF already holds with other defaults is reported (a warning per type, naming each
    difference and the remedy) and served as SWF holds it.
    """
    domain = proc.config.swf.domain
    for item in types_for(proc.config):
        while True:
            if proc.stopping:
                return False
            try:
                state = register_one(proc.swf, domain, item)
            except SwfError as exc:
                proc.failed("registration.failed", exc, type=item.label)
                continue
            log_registration(proc, state)
            break
    return True


def log_registration(proc: ServiceProcess, state: TypeState) -> None:
    item = state.type
    proc.log.info(
        "registration.type",
        kind=item.kind,
        name=item.name,
        version=item.version,
        registered=state.created,
        task_list=state.task_list,
    )
    if state.differences:
        proc.log.warning(
            "registration.defaults_differ",
            type=item.label,
            differences=[str(d) for d in state.differences],
            remedy=state.remedy(),
        )
