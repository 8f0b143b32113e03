"""The embedded SWF endpoint: moto's SWF backend extended to behave as SWF does for flotod.

A development and test tool: all state lives in memory and is gone when the process stops.
It adds to moto child workflows, external signals and cancellations, continue-as-new, long
polls, one lock (no task handed out twice), indexes (cost per call independent of history
size), every SWF timeout on one deadline thread, paginated histories, SWF's list filters, the
request constraints of SWF's API model, and the 25,000-event history limit.

Use :func:`make_backend` then :func:`in_process_client` (tests, no sockets) or
:class:`LocalSWFServer` (any boto3 client or flotod service via ``endpoint_url``); both call
:func:`install`, which checks moto's internals first and fails loudly if they changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flotod.localswf.compat import LocalSwfIncompatible, install

if TYPE_CHECKING:
    from flotod.localswf.backend import LocalSWFBackend
    from flotod.localswf.transport import LocalSWFServer

__all__ = [
    "LocalSwfIncompatible",
    "in_process_client",
    "in_process_s3_client",
    "install",
    "make_backend",
    "make_server",
]


def make_backend(
    poll_timeout: float = 60.0,
    region_name: str = "us-east-1",
    throttle_share: float = 0.0,
    throttle_seed: int = 0,
    decision_failure_share: float = 0.0,
    decision_failure_seed: int = 0,
    manual_deadlines: bool = False,
) -> LocalSWFBackend:
    """A fresh, empty backend; polls wait up to ``poll_timeout`` seconds like SWF's 60.

    ``throttle_share`` > 0 injects faults for tests: that share of calls (a random draw seeded
    with ``throttle_seed``) is answered with SWF's ThrottlingException instead of being served.
    ``decision_failure_share`` > 0 refuses that share of ScheduleActivityTask, StartTimer and
    StartChildWorkflowExecution decisions for a rate or limit cause (see faults.py).
    ``manual_deadlines`` makes timers and timeouts fire only when a test fires them
    (``backend.scheduler.fire``), never by the clock.
    """
    install()
    # After install(): moto's modules must be patched before flotod's subclasses load them.
    from flotod.localswf.backend import LocalSWFBackend  # noqa: PLC0415
    from flotod.localswf.faults import DecisionFaults, Throttle  # noqa: PLC0415

    backend = LocalSWFBackend(
        region_name=region_name, poll_timeout=poll_timeout, manual_deadlines=manual_deadlines
    )
    if throttle_share > 0:
        backend.throttle = Throttle(throttle_share, throttle_seed)
    if decision_failure_share > 0:
        backend.decision_faults = DecisionFaults(decision_failure_share, decision_failure_seed)
    return backend


def in_process_client(backend: LocalSWFBackend, region_name: str = "us-east-1") -> Any:
    """A boto3 SWF client answered by ``backend`` inside this process."""
    install()
    from flotod.localswf.transport import client  # noqa: PLC0415 (after install(), as above)

    return client(backend, region_name)


def in_process_s3_client(backend: LocalSWFBackend, region_name: str = "us-east-1") -> Any:
    """A boto3 S3 client answered by ``backend``'s embedded S3 inside this process."""
    install()
    from flotod.localswf.transport import s3_client  # noqa: PLC0415 (after install(), as above)

    return s3_client(backend, region_name)


def make_server(backend: LocalSWFBackend, host: str = "127.0.0.1", port: int = 0) -> LocalSWFServer:
    """A bound (not yet serving) threaded HTTP server for ``backend``; port 0 picks a free one."""
    install()
    from flotod.localswf.transport import LocalSWFServer  # noqa: PLC0415 (after install())

    return LocalSWFServer(backend, host, port)
