"""The validated, frozen configuration a service runs with.

Field names match the TOML keys declared in :mod:`flotod.config.settings` one to one, so a
setting's declaration, its TOML key and its attribute are the same word. Defaults, choices
and secrecy are not written here: each field takes them from its declaration through
:func:`declared` (tests/config/test_declarations.py ties every field to one declaration).
A required setting's field has no default at all, so that mypy insists on it too.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flotod.config.settings import Executor, Kind, LogFormat, LogLevel, Setting, settings_of
from flotod.engine.allowlist import ALLOW_ALL, Allowlist
from flotod.specs import DeciderSpec
from flotod.swf.credentials import Credentials, resolve_credentials


def about(section: str, name: str) -> dict[str, Setting]:
    """A field's metadata: the declaration of the setting it holds (``"setting"``)."""
    return {"setting": settings_of(section)[name]}


def declared(section: str, name: str) -> Any:
    """The field of a declared setting that has a default: that default, the repr hidden when
    the setting is secret, and the declaration in the field's metadata.

    A required setting's field is written ``field(metadata=about(...))`` instead: mypy only
    sees that ``dataclasses.field`` call has no default, so it insists on the value too.
    """
    setting = settings_of(section)[name]
    if setting.required:
        raise TypeError(f"{section}.{name} is required: use field(metadata=about(...))")
    return field(default=setting.default, repr=not setting.secret, metadata=about(section, name))


@dataclass(frozen=True)
class SwfConfig:
    endpoint_url: str = declared("swf", "endpoint_url")
    region: str = declared("swf", "region")
    profile: str = declared("swf", "profile")
    access_key_id: str = declared("swf", "access_key_id")
    secret_access_key: str = declared("swf", "secret_access_key")
    domain: str = declared("swf", "domain")
    identity: str = declared("swf", "identity")

    def resolved_identity(self) -> str:
        """The identity to send to SWF, computed now: the pid changes after a daemonize fork."""
        if self.identity:
            return self.identity
        return f"{socket.gethostname()}:{os.getpid()}"[:256]

    def credentials(self, config_path: Path | None) -> Credentials:
        """The credentials for every AWS client of a process that reads ``config_path`` (SWF
        and S3 alike), by the one rule of :func:`~flotod.swf.credentials.resolve_credentials`."""
        return resolve_credentials(
            endpoint_url=self.endpoint_url,
            profile=self.profile,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            config_path=config_path,
        )


@dataclass(frozen=True)
class LoggingConfig:
    level: LogLevel = declared("logging", "level")
    format: LogFormat = declared("logging", "format")


@dataclass(frozen=True)
class PayloadsConfig:
    """``[payloads]``: where values past SWF's limit go; off while ``s3_bucket`` is empty."""

    s3_bucket: str = declared("payloads", "s3_bucket")
    s3_prefix: str = declared("payloads", "s3_prefix")
    threshold_bytes: int = declared("payloads", "threshold_bytes")
    compress: bool = declared("payloads", "compress")

    @property
    def enabled(self) -> bool:
        return bool(self.s3_bucket)


@dataclass(frozen=True)
class DeciderConfig:
    task_list: str = field(metadata=about("decider", "task_list"))
    spec_file: str = declared("decider", "spec_file")
    specs: tuple[tuple[str, str], ...] = declared("decider", "specs")
    spec_object: str = declared("decider", "spec_object")
    dynamic: bool = declared("decider", "dynamic")
    default_activity_task_list: str = declared("decider", "default_activity_task_list")
    workflow_type_name: str = declared("decider", "workflow_type_name")
    workflow_type_version: str = declared("decider", "workflow_type_version")
    history_cache_events: int = declared("decider", "history_cache_events")
    decision_timeout_seconds: int = declared("decider", "decision_timeout_seconds")
    sticky: bool = declared("decider", "sticky")
    sticky_schedule_to_start_seconds: int = declared("decider", "sticky_schedule_to_start_seconds")
    drain_timeout_seconds: int = declared("decider", "drain_timeout_seconds")
    allowed_activity_types: tuple[str, ...] = declared("decider", "allowed_activity_types")
    allowed_task_lists: tuple[str, ...] = declared("decider", "allowed_task_lists")
    allowed_child_workflow_types: tuple[str, ...] = declared(
        "decider", "allowed_child_workflow_types"
    )
    python_path: tuple[str, ...] = declared("decider", "python_path")
    virtualenv: str = declared("decider", "virtualenv")
    metrics_listen: str = declared("decider", "metrics_listen")
    # The loaded workflow logic; None for a dynamic decider and for ``specs``.
    spec: DeciderSpec | None = field(default=None, compare=True, repr=False)
    # With ``specs``: the loaded spec of each workflow type version, in the table's order.
    versions: dict[str, DeciderSpec] = field(default_factory=dict, repr=False)
    # The allowed_* settings with the config's defaults filled in (flotod.config.allowed).
    allow: Allowlist = field(default=ALLOW_ALL, repr=False)


@dataclass(frozen=True)
class WorkerConfig:
    task_list: str = field(metadata=about("worker", "task_list"))
    modules: tuple[str, ...] = field(metadata=about("worker", "modules"))
    concurrency: int = declared("worker", "concurrency")
    heartbeat_seconds: int = declared("worker", "heartbeat_seconds")
    executor: Executor = declared("worker", "executor")
    register_activity_types: bool = declared("worker", "register_activity_types")
    drain_timeout_seconds: int = declared("worker", "drain_timeout_seconds")
    python_path: tuple[str, ...] = declared("worker", "python_path")
    virtualenv: str = declared("worker", "virtualenv")
    metrics_listen: str = declared("worker", "metrics_listen")


@dataclass(frozen=True)
class DaemonConfig:
    task_list: str = declared("daemon", "task_list")
    workflow_id: str = declared("daemon", "workflow_id")
    max_children: int = declared("daemon", "max_children")
    continue_after_events: int = declared("daemon", "continue_after_events")
    child_execution_timeout_seconds: int = declared("daemon", "child_execution_timeout_seconds")
    decision_timeout_seconds: int = declared("daemon", "decision_timeout_seconds")
    sticky: bool = declared("daemon", "sticky")
    sticky_schedule_to_start_seconds: int = declared("daemon", "sticky_schedule_to_start_seconds")
    drain_timeout_seconds: int = declared("daemon", "drain_timeout_seconds")
    allowed_activity_types: tuple[str, ...] = declared("daemon", "allowed_activity_types")
    allowed_task_lists: tuple[str, ...] = declared("daemon", "allowed_task_lists")
    allowed_child_workflow_types: tuple[str, ...] = declared(
        "daemon", "allowed_child_workflow_types"
    )
    allowed_child_workflow_ids: tuple[str, ...] = declared("daemon", "allowed_child_workflow_ids")
    # The allowed_* settings with the config's defaults filled in (flotod.config.allowed).
    allow: Allowlist = field(default=ALLOW_ALL, repr=False)
    metrics_listen: str = declared("daemon", "metrics_listen")


ProcessConfig = DeciderConfig | WorkerConfig | DaemonConfig


@dataclass(frozen=True)
class ServiceConfig:
    """Everything one process needs: the shared tables plus its own ``[kind.instance]`` table.

    ``path`` is what ``--config`` named (kept for reloads); ``files`` the TOML files read.
    """

    kind: Kind
    instance: str
    swf: SwfConfig
    logging: LoggingConfig
    process: ProcessConfig
    path: Path
    files: tuple[Path, ...]
    payloads: PayloadsConfig = field(default_factory=PayloadsConfig)

    @property
    def decider(self) -> DeciderConfig:
        if not isinstance(self.process, DeciderConfig):
            raise TypeError(f"this is a {self.kind} config, not a decider config")
        return self.process

    @property
    def worker(self) -> WorkerConfig:
        if not isinstance(self.process, WorkerConfig):
            raise TypeError(f"this is a {self.kind} config, not a worker config")
        return self.process

    @property
    def daemon(self) -> DaemonConfig:
        if not isinstance(self.process, DaemonConfig):
            raise TypeError(f"this is a {self.kind} config, not a daemon config")
        return self.process

    @property
    def drain_timeout_seconds(self) -> int:
        return self.process.drain_timeout_seconds

    @property
    def metrics_listen(self) -> str:
        return self.process.metrics_listen

    @property
    def table(self) -> str:
        """The process table's name, e.g. ``worker.video``."""
        return f"{self.kind}.{self.instance}"
