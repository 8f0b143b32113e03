"""Timers, both ways floto's README shows them.

``SPEC_IN_GRAPH``: TimedA, then a 1-second timer, then TimedB: the timer delays its dependent.
``SPEC_DELAYED_CLOSE``: TimedA then TimedB, next to an independent 2-second timer: the
workflow completes only once the timer fired, and timers never appear in the result.

Expected results: ``{"timed_b": "B after the timer"}`` and ``{"timed_b": "B after A"}``; the
first takes at least 1 s, the second at least 2 s.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, Timer

TASK_LIST_IN_GRAPH = "timer_in_graph_decider"
TASK_LIST_DELAYED_CLOSE = "timer_delayed_close_decider"
DELAY_IN_GRAPH = 1
DELAY_CLOSE = 2


@flotod.activity(name="TimedA", version="v1")
def timed_a() -> str:
    return "A"


@flotod.activity(name="TimedB", version="v1")
def timed_b(context: dict[str, Any]) -> str:
    """A timer hands its dependents ``None`` under its id; A hands its result."""
    return "B after the timer" if "wait" in context else "B after A"


_A = ActivityTask("TimedA", "v1", activity_id="timed_a")
_WAIT = Timer("wait", DELAY_IN_GRAPH, requires=[_A])

SPEC_IN_GRAPH = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST_IN_GRAPH,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        _A,
        _WAIT,
        ActivityTask("TimedB", "v1", activity_id="timed_b", requires=[_WAIT]),
    ],
)

SPEC_DELAYED_CLOSE = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST_DELAYED_CLOSE,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        _A,
        ActivityTask("TimedB", "v1", activity_id="timed_b", requires=[_A]),
        Timer("hold", DELAY_CLOSE),
    ],
)

EXPECTED_IN_GRAPH = {"timed_b": "B after the timer"}
EXPECTED_DELAYED_CLOSE = {"timed_b": "B after A"}
