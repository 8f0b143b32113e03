"""The task model: what a workflow does, as a graph of tasks, and its JSON form."""

from __future__ import annotations

from flotod.specs.codec import (
    decider_spec_from_dict,
    dumps,
    load_decider_spec,
    task_from_dict,
    tasks_from_list,
    to_jsonable,
)
from flotod.specs.decider_spec import DeciderSpec
from flotod.specs.graph import check_graph
from flotod.specs.retry import ExponentialRetry, InstantRetry, RetryStrategy
from flotod.specs.tasks import ActivityTask, ChildWorkflow, Generator, Task, Timer

__all__ = [
    "ActivityTask",
    "ChildWorkflow",
    "DeciderSpec",
    "ExponentialRetry",
    "Generator",
    "InstantRetry",
    "RetryStrategy",
    "Task",
    "Timer",
    "check_graph",
    "decider_spec_from_dict",
    "dumps",
    "load_decider_spec",
    "task_from_dict",
    "tasks_from_list",
    "to_jsonable",
]
