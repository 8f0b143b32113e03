"""The activity worker: registration decorators, the task accessor, and the worker itself."""

from __future__ import annotations

from flotod.worker.context import CurrentTask, TaskInfo, current_task
from flotod.worker.registry import (
    ActivityDefinition,
    RegistrationError,
    Registry,
    activity,
    default_registry,
    generator,
)
from flotod.worker.worker import SHUTDOWN_REASON, ActivityWorker, WorkerStats

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
