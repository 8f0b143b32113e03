"""Start-up and reload in the one order that works, for the three service loops to share.

The traps this module keeps in one place: daemonize before anything holds a socket or a
signal handler (sdnotify connects once; python-daemon closes files), configure logging after
the fork, start the watchdog only once the notifier exists, and on SIGHUP tell systemd
RELOADING=1 ... READY=1 around the re-read, applying only the settings declared reloadable.

A service's main::

    config = resolve_config(args, "worker")          # exits 78 on a bad config
    if isinstance(config, int):
        return config
    proc = start_process(config, daemon=args.daemonize, pidfile=args.pidfile,
                         log_file=args.log_file)
    try:
        proc.notifier.ready(status="polling")
        while not proc.lifecycle.stop_requested:
            if proc.lifecycle.take_reload_request():
                apply_reload(proc)                    # proc.config is now the new config
            ...poll once...; proc.progress.beat()
        drain(..., timeout=proc.config.drain_timeout_seconds, lifecycle=proc.lifecycle,
              notifier=proc.notifier, progress=proc.progress)
    finally:
        proc.close()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

import structlog

from flotod.config import Change, ServiceConfig, reload_config
from flotod.errors import ConfigError
from flotod.runtime.daemonize import Daemon, daemonize
from flotod.runtime.lifecycle import Lifecycle
from flotod.runtime.logging import configure_logging
from flotod.runtime.notify import DEFAULT_STALE_AFTER, Notifier, Progress, Watchdog

_MASK = "********"


@dataclass
class ServiceProcess:
    """The running process's pieces; ``config`` is replaced by :func:`apply_reload`."""

    config: ServiceConfig
    lifecycle: Lifecycle
    notifier: Notifier
    progress: Progress
    watchdog: Watchdog | None = None
    daemon: Daemon | None = None
    log_stream: TextIO | None = None
    identifier: str | None = None
    log: Any = field(default_factory=lambda: structlog.get_logger("flotod.runtime"))

    def close(self) -> None:
        """Stop the watchdog, restore signal handlers, release the pidfile."""
        if self.watchdog is not None:
            self.watchdog.stop()
        self.lifecycle.close()
        if self.daemon is not None:
            self.daemon.close()


def start_process(
    config: ServiceConfig,
    *,
    daemon: bool = False,
    pidfile: str | None = None,
    log_file: str | None = None,
    identifier: str | None = None,
    log_stream: TextIO | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> ServiceProcess:
    """Daemonize if asked, then logging, notifier, signal handling and watchdog, in order.

    Raises ConfigError (exit 78) when ``daemon`` is asked for under systemd.
    """
    if (pidfile or log_file) and not daemon:
        raise ConfigError("--pidfile and --log-file only apply with --daemonize")
    handle = daemonize(pidfile, log_file) if daemon else None
    configure_logging(
        config.logging.level, config.logging.format, log_stream, identifier=identifier
    )
    notifier = Notifier()
    lifecycle = Lifecycle()
    lifecycle.install()
    progress = Progress()
    watchdog = Watchdog.from_environment(notifier, progress, stale_after=stale_after)
    proc = ServiceProcess(
        config=config,
        lifecycle=lifecycle,
        notifier=notifier,
        progress=progress,
        watchdog=watchdog,
        daemon=handle,
        log_stream=log_stream,
        identifier=identifier,
    )
    proc.log.info(
        "process.started",
        service=config.table,
        config_files=[str(f) for f in config.files],
        watchdog_interval=watchdog.interval if watchdog is not None else None,
    )
    return proc


def _shown(change: Change, value: Any) -> Any:
    if change.secret and value:
        return _MASK
    return list(value) if isinstance(value, tuple) else value


def apply_reload(proc: ServiceProcess) -> bool:
    """Re-read the config after SIGHUP; returns whether a new config was taken.

    A config that no longer validates is logged problem by problem and the process keeps
    running on the old one. Changes that need a restart are logged and not applied.
    """
    proc.notifier.reloading()
    try:
        try:
            result = reload_config(proc.config)
        except ConfigError as exc:
            proc.log.error("config.reload_failed", problems=exc.problems)
            return False
        new = result.effective(proc.config)
        if new.logging != proc.config.logging:
            configure_logging(
                new.logging.level,
                new.logging.format,
                proc.log_stream,
                identifier=proc.identifier,
            )
        for change in result.applied:
            proc.log.info(
                "config.changed",
                key=change.key,
                old=_shown(change, change.old),
                new=_shown(change, change.new),
            )
        for change in result.needs_restart:
            proc.log.warning(
                "config.needs_restart",
                key=change.key,
                old=_shown(change, change.old),
                new=_shown(change, change.new),
            )
        proc.config = new
        return True
    finally:
        proc.notifier.ready()
