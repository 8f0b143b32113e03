"""Service configuration: TOML files into frozen dataclasses, every setting declared once.

Public API: :func:`load_config`, :func:`add_config_arguments` + :func:`resolve_config` for
the services' command lines, :func:`reload_config` for SIGHUP, :func:`print_config` and
:func:`reference_markdown` for people, :func:`list_instances` and
:func:`check_shared` to check a whole host,
:data:`SETTINGS` for the declarations themselves.
"""

from __future__ import annotations

from flotod.config.cli import add_config_arguments, resolve_config
from flotod.config.loader import DEFAULT_CONFIG_PATH, check_shared, list_instances, load_config
from flotod.config.model import (
    DaemonConfig,
    DeciderConfig,
    LoggingConfig,
    PayloadsConfig,
    ServiceConfig,
    SwfConfig,
    WorkerConfig,
)
from flotod.config.reload import Change, Reload, diff_configs, reload_config
from flotod.config.render import print_config, reference_markdown
from flotod.config.settings import KINDS, SETTINGS, Kind, Setting

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "KINDS",
    "SETTINGS",
    "Change",
    "DaemonConfig",
    "DeciderConfig",
    "Kind",
    "LoggingConfig",
    "PayloadsConfig",
    "Reload",
    "ServiceConfig",
    "Setting",
    "SwfConfig",
    "WorkerConfig",
    "add_config_arguments",
    "check_shared",
    "diff_configs",
    "list_instances",
    "load_config",
    "print_config",
    "reference_markdown",
    "reload_config",
    "resolve_config",
]
