"""Every example in one table: which deciders serve them, what to start, what must come out.

The tests, ``python -m flotod.demo`` and an operator trying flotod all read this table, so an
example's input and expected outcome are written once. By convention a workflow type is named
after the decider instance that serves it (version ``"v1"``); the demo's decider configs say so
with ``workflow_type_name``, which is what ``flotod register`` and the decider register.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.examples import a_b_then_c as abc_mod
from flotod.examples import child_workflow as child_mod
from flotod.examples import dynamic as dynamic_mod
from flotod.examples import hello as hello_mod
from flotod.examples import large_result as large_mod
from flotod.examples import retries as retries_mod
from flotod.examples import timers as timers_mod
from flotod.examples import via_daemon as daemon_mod
from flotod.examples import week_days as week_days_mod
from flotod.specs import DeciderSpec

WORKFLOW_VERSION = "v1"

# Import these in a worker (``modules = [...]``) to serve every example's activities.
WORKER_MODULES: tuple[str, ...] = (
    "flotod.examples.a_b_then_c",
    "flotod.examples.timers",
    "flotod.examples.retries",
    "flotod.examples.child_workflow",
    "flotod.examples.week_days",
    "flotod.examples.dynamic",
    "flotod.examples.via_daemon",
    "flotod.examples.large_result",
)
HELLO_MODULES: tuple[str, ...] = ("flotod.examples.hello",)


@dataclass(frozen=True)
class DeciderDef:
    """One decider instance: its name doubles as the name of the workflow type it serves."""

    name: str
    task_list: str
    spec_object: str = ""  # "module:ATTRIBUTE"; "" for a dynamic decider
    default_activity_task_list: str = ""  # dynamic deciders only

    @property
    def workflow_type(self) -> tuple[str, str]:
        return (self.name, WORKFLOW_VERSION)

    @property
    def dynamic(self) -> bool:
        return not self.spec_object

    def spec(self) -> DeciderSpec:
        """The spec; for a dynamic decider, the defaults its executions' tasks run with."""
        if self.dynamic:
            return DeciderSpec(
                domain=DOMAIN,
                task_list=self.task_list,
                default_activity_task_list=self.default_activity_task_list,
            )
        module, _, attribute = self.spec_object.partition(":")
        value = getattr(importlib.import_module(module), attribute)
        if not isinstance(value, DeciderSpec):
            raise TypeError(f"{self.spec_object} is not a DeciderSpec")
        return value


@dataclass(frozen=True)
class Example:
    """One workflow to run and what it must give.

    ``decider`` is None for the example sent to the daemon. Exactly one of
    ``expected_result`` (the decoded workflow result) and ``expected_failure`` (the reason of
    WorkflowExecutionFailed) is meant; ``min_seconds`` is the least a correct run takes.
    """

    name: str
    decider: DeciderDef | None
    input: Any
    expected_result: Any = None
    expected_failure: str | None = None
    min_seconds: float = 0.0
    signal_input: Any = None  # for the daemon example: what the daemon is signalled with

    @property
    def workflow_type(self) -> tuple[str, str]:
        if self.decider is None:
            raise ValueError(f"example {self.name} is started by the daemon, not directly")
        return self.decider.workflow_type


def _decider(name: str, task_list: str, attribute: str, module: str = "") -> DeciderDef:
    return DeciderDef(name, task_list, f"flotod.examples.{module or name}:{attribute}")


HELLO = _decider("hello", hello_mod.TASK_LIST, "SPEC")
A_B_THEN_C = _decider("a_b_then_c", "a_b_then_c_decider", "SPEC")
TIMER_IN_GRAPH = _decider(
    "timer_in_graph", timers_mod.TASK_LIST_IN_GRAPH, "SPEC_IN_GRAPH", "timers"
)
TIMER_DELAYED_CLOSE = _decider(
    "timer_delayed_close", timers_mod.TASK_LIST_DELAYED_CLOSE, "SPEC_DELAYED_CLOSE", "timers"
)
RETRY_SUCCEEDS = _decider(
    "retry_succeeds", retries_mod.TASK_LIST_SUCCEEDS, "SPEC_SUCCEEDS", "retries"
)
RETRY_GIVES_UP = _decider(
    "retry_gives_up", retries_mod.TASK_LIST_GIVES_UP, "SPEC_GIVES_UP", "retries"
)
CHILD_PARENT = _decider("child_workflow", child_mod.TASK_LIST, "SPEC")
CHILD_CHILD = _decider(
    child_mod.CHILD_TYPE[0], child_mod.CHILD_TASK_LIST, "CHILD_SPEC", "child_workflow"
)
WEEK_DAYS = _decider("week_days", week_days_mod.TASK_LIST, "SPEC")
LARGE_RESULT = _decider("large_result", large_mod.TASK_LIST, "SPEC")
DYNAMIC = DeciderDef(
    "dynamic", dynamic_mod.TASK_LIST, default_activity_task_list=ACTIVITY_TASK_LIST
)

DECIDERS: tuple[DeciderDef, ...] = (
    HELLO,
    A_B_THEN_C,
    TIMER_IN_GRAPH,
    TIMER_DELAYED_CLOSE,
    RETRY_SUCCEEDS,
    RETRY_GIVES_UP,
    CHILD_PARENT,
    CHILD_CHILD,
    WEEK_DAYS,
    DYNAMIC,
    LARGE_RESULT,
)

EXAMPLES: tuple[Example, ...] = (
    Example("hello", HELLO, None, hello_mod.EXPECTED_RESULT),
    Example("a_b_then_c", A_B_THEN_C, {"note": "floto's first example"}, abc_mod.EXPECTED_RESULT),
    Example(
        "timer_in_graph",
        TIMER_IN_GRAPH,
        None,
        timers_mod.EXPECTED_IN_GRAPH,
        min_seconds=timers_mod.DELAY_IN_GRAPH,
    ),
    Example(
        "timer_delayed_close",
        TIMER_DELAYED_CLOSE,
        None,
        timers_mod.EXPECTED_DELAYED_CLOSE,
        min_seconds=timers_mod.DELAY_CLOSE,
    ),
    Example("retry_succeeds", RETRY_SUCCEEDS, None, retries_mod.EXPECTED_SUCCEEDS),
    Example(
        "retry_gives_up",
        RETRY_GIVES_UP,
        None,
        expected_failure=retries_mod.EXPECTED_GIVES_UP_REASON,
    ),
    Example("child_workflow", CHILD_PARENT, None, child_mod.EXPECTED_RESULT),
    Example("week_days", WEEK_DAYS, week_days_mod.INPUT, week_days_mod.EXPECTED_RESULT),
    Example("dynamic", DYNAMIC, dynamic_mod.INPUT, dynamic_mod.EXPECTED_RESULT),
    # Needs [payloads] s3_bucket: its values are about 1 MB each.
    Example("large_result", LARGE_RESULT, None, large_mod.expected_result()),
    Example(
        "via_daemon",
        None,
        None,
        daemon_mod.EXPECTED_RESULT,
        signal_input=daemon_mod.signal_input(),
    ),
)


def example(name: str) -> Example:
    for item in EXAMPLES:
        if item.name == name:
            return item
    raise KeyError(f"no example named {name!r}; examples: {', '.join(e.name for e in EXAMPLES)}")
