"""What every service loop shares: signals, reloads, systemd status, backoff, reaching SWF.

Each service owns one :class:`ServiceProcess` and calls it from its loop; the process never
calls back into the service, so the services stay plain loops (no subclassing).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import structlog

from flotod.config import ServiceConfig, reload_config
from flotod.config.checks import secret_file_warnings
from flotod.config.reload import Reload
from flotod.errors import ConfigError, FlotodError, SwfError, TransientSwfError
from flotod.metrics import NO_METRICS, Metrics
from flotod.metrics.opening import open_metrics
from flotod.payloads import Payloads
from flotod.runtime import Lifecycle, Notifier, Progress, Watchdog, configure_logging
from flotod.services.backoff import Backoff
from flotod.swf import RetryPolicy, SwfClient


def make_client(config: ServiceConfig, quick: bool = False) -> SwfClient:
    """The SWF client a service uses: few retries inside a call, the loop backs off itself.

    ``quick``: one attempt and a short connect timeout, for a command that must answer soon
    whatever SWF does (``--check-config`` under ``systemctl reload``).

    Credentials are found by the same rule as the ``flotod`` command's
    (:func:`flotod.swf.credentials.resolve_credentials`), so a config that works for one
    works for the other; against a loopback endpoint none are needed.
    """
    swf = config.swf
    credentials = swf.credentials(config.path)
    return SwfClient(
        endpoint_url=swf.endpoint_url or None,
        region=swf.region,
        identity=swf.resolved_identity(),
        retry=RetryPolicy(max_attempts=1 if quick else 3, base_seconds=0.2, cap_seconds=2.0),
        max_pool_connections=pool_size(config),
        **({"connect_timeout": QUICK_CONNECT_TIMEOUT} if quick else {}),
        **credentials.client_arguments(),
    )


QUICK_CONNECT_TIMEOUT = 3.0


def pool_size(config: ServiceConfig) -> int:
    """Connections the process can use at once: one per concurrent poll or report, plus a few
    for heartbeats and registration, so no call ever waits for a free connection."""
    if config.kind == "worker":
        return config.worker.concurrency * 2 + 4
    return 10


class ServiceProcess:
    """The process around one service loop.

    ``configure_logs`` is called with the config on start and on every reload that changes
    ``[logging]``; the command-line entry point decides the stream and journal socket.
    """

    def __init__(
        self,
        config: ServiceConfig,
        swf: SwfClient,
        configure_logs: Callable[[ServiceConfig], None] | None = None,
        payloads: Payloads | None = None,
    ) -> None:
        self.config = config
        self.swf = swf
        # How values past SWF's 32,768 characters travel ([payloads]); off unless configured.
        self.payloads = payloads or Payloads.off()
        self.configure_logs = configure_logs or _default_logs
        self.lifecycle = Lifecycle()
        self.notifier = Notifier()
        self.progress = Progress()
        self.watchdog: Watchdog | None = None
        self.backoff = Backoff()
        self.last_error: str | None = None
        self.metrics: Metrics = NO_METRICS
        self._status = ""
        self._status_at = 0.0
        self.log = self._logger()
        # What a reload must pass besides the config checks (a decider's specs against its
        # open runs): the reload with whatever it refuses kept as it was.
        self.vet_reload: Callable[[ServiceConfig, Reload], Reload] | None = None

    def _logger(self) -> Any:
        """A bound logger made after (re)configuring: binding freezes the processors."""
        return structlog.get_logger("flotod.services").bind(
            service=self.config.kind, instance=self.config.instance
        )

    # -- start and stop --------------------------------------------------------------------
    def start(self) -> None:
        """Install signal handlers and the watchdog; call once, in the main thread."""
        self.configure_logs(self.config)
        self.log = self._logger()
        self.lifecycle.install()
        self.watchdog = Watchdog.from_environment(self.notifier, self.progress)
        self.log.info(
            "service.starting",
            domain=self.config.swf.domain,
            table=self.config.table,
            payloads=self.payloads_where(),
        )
        for warning in secret_file_warnings(self.config):
            self.log.warning("config.secret_readable", problem=warning)

    def payloads_where(self) -> str:
        """Where values past the threshold go, for the start record: "off" or the S3 URI
        prefix, so a process that cannot read its peers' references is found in its log."""
        if not self.payloads.enabled:
            return "off"
        return f"s3://{self.payloads.bucket}/{self.payloads.prefix}"

    def close(self) -> None:
        """Stop the watchdog and the metrics server. The signal handlers stay: a late second
        SIGTERM while the process exits must not kill it with the default action (exit
        status -15)."""
        if self.watchdog is not None:
            self.watchdog.stop()
        self.metrics.close()

    def open_metrics(self) -> bool:
        """Serve metrics_listen (if set) and count this process's SWF calls; False (logged)
        when the address cannot be bound: a config problem, not worth retrying."""
        try:
            self.metrics = open_metrics(self.config)
        except ConfigError as exc:
            self.log.error("metrics.listen_failed", error=str(exc))
            return False
        self.swf.metrics = self.metrics
        return True

    @property
    def stopping(self) -> bool:
        return self.lifecycle.stop_requested

    def reach_swf(self, status: str) -> bool:
        """Describe the domain until it works (READY=1 then) or a stop is requested.

        Unreachable endpoints, throttling, expired credentials and even an unknown domain
        are retried with backoff: an operator can fix them without restarting us.
        """
        domain = self.config.swf.domain
        while not self.stopping:
            self.log_signals()
            try:
                self.swf.describe_domain(domain)
            except SwfError as exc:
                self.failed("swf.unreachable", exc, domain=domain)
                continue
            self.succeeded()
            problem = self.payloads.check()
            if problem is not None:  # small values still flow: warn, do not wait for S3
                self.log.warning("payloads.bucket_unreachable", problem=problem)
            self.log.info("service.ready", domain=domain)
            self.notifier.ready(status)
            return True
        return False

    # -- per iteration ---------------------------------------------------------------------
    def log_signals(self) -> None:
        for name in self.lifecycle.take_signals():
            self.log.info("signal.received", signal=name, stopping=self.stopping)

    def tend(self) -> ServiceConfig | None:
        """Log received signals and apply a pending reload; the new config if one was taken.

        Only the serve loop calls this once the poller exists: the poller must see every
        config the process takes (:meth:`Poller.reconfigure`).
        """
        self.log_signals()
        if not self.lifecycle.take_reload_request():
            return None
        return self.reload()

    def reload(self) -> ServiceConfig | None:
        self.notifier.reloading()
        try:
            result = reload_config(self.config)
            if self.vet_reload is not None:
                result = self.vet_reload(self.config, result)
        except ConfigError as exc:
            for problem in exc.problems:
                self.log.error("config.reload_rejected", problem=problem)
            self.notifier.ready()
            return None
        except Exception:  # a reload never takes the service down
            self.log.exception("config.reload_failed")
            self.notifier.ready()
            return None
        for change in result.needs_restart:
            self.log.warning("config.needs_restart", key=change.key, kept=_shown(change.old))
        for change in result.applied:
            self.log.info(
                "config.applied",
                key=change.key,
                old=_masked(change.old, change.secret),
                new=_masked(change.new, change.secret),
            )
        previous = self.config
        self.config = result.effective(previous)
        if self.config.logging != previous.logging:
            self.configure_logs(self.config)
            self.log = self._logger()
        self.log.info("config.reloaded", changes=len(result.changes))
        self.notifier.ready()
        return self.config

    def failed(self, event: str, exc: FlotodError, **fields: object) -> None:
        """Log a failed SWF call, show it in STATUS= and sleep the backoff (signals wake us).

        For the main thread; a lane reports with :meth:`report_failure` and sleeps itself.
        Backing off is progress for the watchdog: a restart would not bring SWF back.
        """
        delay = self.backoff.next_delay()
        self.report_failure(event, exc, delay, **fields)
        self.progress.beat()
        self.lifecycle.wait(delay)

    def report_failure(self, event: str, exc: FlotodError, delay: float, **fields: object) -> None:
        """Log a failed SWF call that will be retried in ``delay`` seconds; show it in STATUS=."""
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        level = "warning" if isinstance(exc, TransientSwfError) else "error"
        getattr(self.log, level)(
            event, error=str(exc), code=getattr(exc, "code", None), retry_in=round(delay, 2),
            **fields,
        )  # fmt: skip
        self.notifier.status(f"retrying in {delay:.1f}s after: {self.last_error}")

    def succeeded(self) -> None:
        self.backoff.reset()
        self.progress.beat()

    def status(self, text: str) -> None:
        """STATUS= when it changed: a notify socket is a small queue, not a log.

        A change of counts only goes out at most every STATUS_EVERY seconds (a busy decider
        would otherwise send a datagram per decision, ~2 % of its CPU); any other change (an
        error appearing or clearing, a new state) goes out at once. The loops call this before
        every poll, so a held-back count is sent by the next call after the interval.
        """
        suffix = f"; last error: {self.last_error}" if self.last_error else ""
        full = text + suffix
        if full == self._status:
            return
        now = monotonic()
        counts_only = _DIGITS.sub("#", full) == _DIGITS.sub("#", self._status)
        if counts_only and now - self._status_at < STATUS_EVERY:
            return
        self._status, self._status_at = full, now
        self.notifier.status(full)

    def wait(self, seconds: float) -> None:
        self.lifecycle.wait(seconds)


STATUS_EVERY = 1.0
_DIGITS = re.compile(r"\d+")


def _default_logs(config: ServiceConfig) -> None:
    configure_logging(config.logging.level, config.logging.format)


def _shown(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) else str(value)


def _masked(value: object, secret: bool) -> object:
    return "********" if secret and value else _shown(value)


def monotonic() -> float:
    return time.monotonic()
