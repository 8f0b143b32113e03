"""The activity worker: registration decorators, the task accessor, and the worker itself."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flotod.worker.context import CurrentTask, TaskInfo, current_task
from flotod.worker.registry import (
    ActivityDefinition,
    RegistrationError,
    Registry,
    activity,
    default_registry,
    generator,
)

if TYPE_CHECKING:
    from flotod.protocol import SHUTDOWN_REASON
    from flotod.worker.worker import ActivityWorker, WorkerStats

_LAZY = {
    "SHUTDOWN_REASON": "flotod.protocol",
    "ActivityWorker": "flotod.worker.worker",
    "WorkerStats": "flotod.worker.worker",
}


def __getattr__(name: str) -> Any:
    """Import boto3-backed names on first use, so the pure parts load without boto3."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "SHUTDOWN_REASON",
    "ActivityDefinition",
    "ActivityWorker",
    "CurrentTask",
    "RegistrationError",
    "Registry",
    "TaskInfo",
    "WorkerStats",
    "activity",
    "current_task",
    "default_registry",
    "generator",
]
