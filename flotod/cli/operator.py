"""What every operator command shares: where SWF is, which domain, how to print.

The operator commands read the ``[swf]`` table of the very TOML the services use, so an
operator never repeats the endpoint or the domain; ``--endpoint-url`` and ``--domain``
override it for one call. Only ``[swf]`` is validated here: a broken worker table must not
stop an operator from looking at workflows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import structlog

from flotod.config import DEFAULT_CONFIG_PATH, PayloadsConfig, SwfConfig
from flotod.config.checks import check_credentials
from flotod.config.files import read_config
from flotod.config.loader import convert_table
from flotod.errors import ConfigError
from flotod.payloads import Payloads
from flotod.payloads.configured import payloads_for
from flotod.swf import RetryPolicy, SwfClient

# An operator waits for an answer: retry briefly, then say what is wrong.
OPERATOR_RETRY = RetryPolicy(max_attempts=3, base_seconds=0.2, cap_seconds=1.0)
CONNECT_TIMEOUT = 5.0


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where SWF is (default: the services' config)")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help=f"a TOML file or a directory of them (default: {DEFAULT_CONFIG_PATH}, if present)",
    )
    group.add_argument("--endpoint-url", metavar="URL", help="override [swf].endpoint_url")
    group.add_argument("--domain", help="override [swf].domain")
    group.add_argument("--region", help="override [swf].region")
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say on stderr which endpoint, domain and credentials (by source) are used",
    )


@dataclass(frozen=True)
class Target:
    """The SWF settings in effect, a client for them, and the ``[payloads]`` codec that
    writes and resolves values kept in S3 (off when the config sets no bucket)."""

    settings: SwfConfig
    swf: SwfClient
    payloads: Payloads = field(default_factory=Payloads.off)

    @property
    def domain(self) -> str:
        return self.settings.domain


def swf_settings(config: str | None) -> SwfConfig:
    """The ``[swf]`` table of ``config``; defaults when no path was given and
    /etc/flotod does not exist (a development machine)."""
    return shared_settings(config)[0]


def shared_settings(config: str | None) -> tuple[SwfConfig, PayloadsConfig]:
    """The ``[swf]`` and ``[payloads]`` tables of ``config`` (what reaching SWF and the
    values kept in S3 takes); defaults when no path was given and /etc/flotod does not exist."""
    if config is None and not DEFAULT_CONFIG_PATH.exists():
        return SwfConfig(), PayloadsConfig()
    raw = read_config(Path(config) if config is not None else DEFAULT_CONFIG_PATH)
    problems = list(raw.problems)
    entries = raw.shared.get("swf", {})
    values = convert_table("swf", entries, None, problems)
    check_credentials(values, entries, problems)
    payloads = convert_table("payloads", raw.shared.get("payloads", {}), None, problems)
    if problems:
        raise ConfigError(problems)
    return SwfConfig(**values), PayloadsConfig(**payloads)


def quiet_logs() -> None:
    """The client logs each retry as a warning: right for a service's journal, noise on an
    operator's terminal, where the final error is printed as one line anyway."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def resolve_target(args: argparse.Namespace) -> Target:
    quiet_logs()
    settings, payload_settings = shared_settings(args.config)
    overrides = {
        "endpoint_url": args.endpoint_url,
        "domain": args.domain,
        "region": args.region,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    config_path = Path(args.config) if args.config is not None else DEFAULT_CONFIG_PATH
    credentials = settings.credentials(config_path)
    if getattr(args, "verbose", False):
        say = "flotod:"
        endpoint = settings.endpoint_url or f"AWS's SWF endpoint in {settings.region}"
        print(f"{say} config: {config_path}", file=sys.stderr)
        print(f"{say} endpoint: {endpoint}, domain {settings.domain}", file=sys.stderr)
        for note in credentials.notes:
            print(f"{say} {note}", file=sys.stderr)
        print(f"{say} credentials: {credentials.source}", file=sys.stderr)
        if payload_settings.enabled:
            where = f"s3://{payload_settings.s3_bucket}/{payload_settings.s3_prefix}"
            print(f"{say} large payloads: {where}", file=sys.stderr)
    swf = SwfClient(
        endpoint_url=settings.endpoint_url or None,
        region=settings.region or None,
        identity=settings.resolved_identity(),
        retry=OPERATOR_RETRY,
        connect_timeout=CONNECT_TIMEOUT,
        **credentials.client_arguments(),
    )
    # S3 is reached like SWF: same endpoint (overrides included), region and credentials.
    payloads = payloads_for(payload_settings, settings, config_path)
    return Target(settings, swf, payloads)
