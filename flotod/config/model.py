"""The validated, frozen configuration a service runs with.

Field names match the TOML keys declared in :mod:`flotod.config.settings` one to one, so a
setting's declaration, its TOML key and its attribute are the same word.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from flotod.config.settings import Kind
from flotod.specs import DeciderSpec


@dataclass(frozen=True)
class SwfConfig:
    endpoint_url: str = ""
    region: str = "us-east-1"
    profile: str = ""
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    domain: str = "flotod"
    identity: str = ""

    def resolved_identity(self) -> str:
        """The identity to send to SWF, computed now: the pid changes after a daemonize fork."""
        if self.identity:
            return self.identity
        return f"{socket.gethostname()}:{os.getpid()}"[:256]


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "info"
    format: str = "auto"


@dataclass(frozen=True)
class DeciderConfig:
    task_list: str
    spec_file: str = ""
    spec_object: str = ""
    dynamic: bool = False
    default_activity_task_list: str = ""
    workflow_type_name: str = ""
    workflow_type_version: str = "v1"
    history_cache_events: int = 10_000
    drain_timeout_seconds: int = 90
    # The loaded workflow logic; None for a dynamic decider.
    spec: DeciderSpec | None = field(default=None, compare=True, repr=False)


@dataclass(frozen=True)
class WorkerConfig:
    task_list: str
    modules: tuple[str, ...]
    concurrency: int = 10
    heartbeat_seconds: int = 90
    executor: str = "thread"
    register_activity_types: bool = True
    drain_timeout_seconds: int = 300


@dataclass(frozen=True)
class DaemonConfig:
    task_list: str = "flotod_daemon"
    workflow_id: str = "flotod_daemon"
    max_children: int = 100
    continue_after_events: int = 5000
    child_execution_timeout_seconds: int = 7 * 86_400
    drain_timeout_seconds: int = 90


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
    def table(self) -> str:
        """The process table's name, e.g. ``worker.video``."""
        return f"{self.kind}.{self.instance}"
