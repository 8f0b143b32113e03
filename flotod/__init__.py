"""flotod: run workflows on AWS Simple Workflow Service from Python.

The public names are gathered here; everything else is an implementation detail.
"""

from __future__ import annotations

from flotod.worker import ActivityWorker, activity, current_task, generator

__version__ = "0.1.0"

__all__ = ["ActivityWorker", "__version__", "activity", "current_task", "generator"]
