"""The process around a service loop: logging, systemd notification, signals, daemonizing.

Public API: :func:`configure_logging`; :class:`Notifier`, :class:`Progress`,
:class:`Watchdog`; :class:`Lifecycle`, :func:`drain`, :class:`DrainOutcome`;
:func:`add_daemon_arguments`, :func:`daemonize`. The service loop that ties them together is
:func:`flotod.services.serve.serve`.
"""

from __future__ import annotations

from flotod.runtime.daemonize import add_daemon_arguments, daemonize, under_systemd
from flotod.runtime.lifecycle import DrainOutcome, Lifecycle, drain
from flotod.runtime.logging import configure_logging
from flotod.runtime.notify import Notifier, Progress, Watchdog

__all__ = [
    "DrainOutcome",
    "Lifecycle",
    "Notifier",
    "Progress",
    "Watchdog",
    "add_daemon_arguments",
    "configure_logging",
    "daemonize",
    "drain",
    "under_systemd",
]
