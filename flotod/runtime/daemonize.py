"""``--daemonize --pidfile PATH`` for hosts without systemd, through python-daemon.

Under systemd this is refused: a ``Type=notify`` service that forks away loses its notify
socket and its journal stream, and the start times out. Order in a service's main: parse
args, load the config (so a bad one exits 78 in the foreground), :func:`daemonize`, then
create the Notifier, install the Lifecycle and configure logging (all after the fork).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import daemon
import daemon.pidfile

from flotod.errors import ConfigError


def add_daemon_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running without systemd")
    group.add_argument(
        "--daemonize",
        action="store_true",
        help="detach into the background (not under systemd, which supervises the process)",
    )
    group.add_argument("--pidfile", metavar="PATH", help="write the daemon's pid here")
    group.add_argument(
        "--log-file",
        metavar="PATH",
        help="append log lines here once detached (default: discarded)",
    )


def under_systemd(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("INVOCATION_ID") or env.get("NOTIFY_SOCKET"))


def _running_pid(pidfile: Path) -> int | None:
    """The pid in an existing pidfile if that process is alive; a stale file is removed."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return None
    except PermissionError:
        return pid
    return pid


class Daemon:
    """An open daemon context; :meth:`close` removes the pidfile (also done at exit)."""

    def __init__(self, context: Any, log_stream: IO[str] | None) -> None:
        self.context = context
        self.log_stream = log_stream

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


def daemonize(
    pidfile: str | None,
    log_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Daemon:
    """Fork into the background; returns in the daemon process only.

    Refuses (ConfigError, exit 78) under systemd or when the pidfile names a live process.
    The working directory becomes ``/``, so resolve relative paths before calling.
    """
    if under_systemd(environ):
        raise ConfigError(
            "--daemonize: refused under systemd (INVOCATION_ID or NOTIFY_SOCKET is set); "
            "systemd supervises the process in the foreground, drop --daemonize"
        )
    lock = None
    if pidfile:
        path = Path(pidfile).absolute()
        running = _running_pid(path)
        if running is not None:
            raise ConfigError(f"--pidfile: {path}: already running as pid {running}")
        lock = daemon.pidfile.TimeoutPIDLockFile(str(path), acquire_timeout=0)
    log_stream = Path(log_file).absolute().open("a", buffering=1) if log_file else None
    context = daemon.DaemonContext(
        pidfile=lock,
        umask=0o027,
        stdout=log_stream,
        stderr=log_stream,
        # SIGTERM, SIGINT and SIGHUP are left to the Lifecycle installed after the fork.
        signal_map={signal.SIGTSTP: None, signal.SIGTTIN: None, signal.SIGTTOU: None},
    )
    context.open()
    return Daemon(context, log_stream)
