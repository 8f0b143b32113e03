"""flotod: run workflows on AWS Simple Workflow Service from Python.

The public names are gathered here; everything else is an implementation detail.
``ActivityWorker`` loads on first use: it pulls in boto3, which the task model, the pure
decider and the decorators an activity module uses do not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flotod.worker.context import current_task
from flotod.worker.registry import activity, generator

if TYPE_CHECKING:
    from flotod.worker.worker import ActivityWorker

__version__ = "0.1.0"

__all__ = ["ActivityWorker", "__version__", "activity", "current_task", "generator"]


def __getattr__(name: str) -> Any:
    if name == "ActivityWorker":
        return importlib.import_module("flotod.worker.worker").ActivityWorker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
