"""The process around a service loop: logging, systemd notification, signals, daemonizing.

Public API: :func:`configure_logging`; :class:`Notifier`, :class:`Progress`,
:class:`Watchdog`; :class:`Lifecycle`, :func:`drain`, :class:`DrainOutcome`;
:func:`add_daemon_arguments`, :func:`daemonize`; and, tying them together in the order that
works, :func:`start_process` and :func:`apply_reload` (see :mod:`flotod.runtime.process`).
"""

from __future__ import annotations

from flotod.runtime.daemonize import add_daemon_arguments, daemonize, under_systemd
from flotod.runtime.lifecycle import DrainOutcome, Lifecycle, drain
from flotod.runtime.logging import configure_logging
from flotod.runtime.notify import Notifier, Progress, Watchdog
from flotod.runtime.process import ServiceProcess, apply_reload, start_process

__all__ = [
    "DrainOutcome",
    "Lifecycle",
    "Notifier",
    "Progress",
    "ServiceProcess",
    "Watchdog",
    "add_daemon_arguments",
    "apply_reload",
    "configure_logging",
    "daemonize",
    "drain",
    "start_process",
    "under_systemd",
]
