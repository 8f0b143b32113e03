"""A parent workflow that hands part of its work to a child workflow.

``Numbers`` produces a list; the child workflow (type ``child_workflow_child``, decided by its
own decider on ``CHILD_TASK_LIST`` with ``CHILD_SPEC``) scales it by the factor given as the
ChildWorkflow's input; ``Total`` adds up the child's result. The child's input is the parent's
context for it: the results it requires plus ``child_workflow`` (the task's own input); the
child's activities see that as ``context['workflow']``. The child's workflow id is
``<parent workflow id>:scale``.

Expected result: ``{"total": 18}`` (1+2+3 scaled by 3).
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, ChildWorkflow, DeciderSpec

TASK_LIST = "child_workflow_decider"
CHILD_TASK_LIST = "child_workflow_child_decider"
CHILD_TYPE = ("child_workflow_child", "v1")


@flotod.activity(name="Numbers", version="v1")
def numbers() -> list[int]:
    return [1, 2, 3]


@flotod.activity(name="Scale", version="v1")
def scale(context: dict[str, Any]) -> list[int]:
    """Runs in the child: its workflow input carries the parent's numbers and the factor."""
    given = context["workflow"]
    factor = int(given["child_workflow"]["factor"])
    return [n * factor for n in given["numbers"]]


@flotod.activity(name="Total", version="v1")
def total(context: dict[str, Any]) -> int:
    """The child's result is its own workflow result: ``{"scaled": [...]}``."""
    return sum(context["scale"]["scaled"])


CHILD_SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=CHILD_TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[ActivityTask("Scale", "v1", activity_id="scaled")],
)

_NUMBERS = ActivityTask("Numbers", "v1", activity_id="numbers")
_CHILD = ChildWorkflow(
    CHILD_TYPE[0],
    CHILD_TYPE[1],
    workflow_id="scale",
    requires=[_NUMBERS],
    input={"factor": 3},
    task_list=CHILD_TASK_LIST,
)

SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        _NUMBERS,
        _CHILD,
        ActivityTask("Total", "v1", activity_id="total", requires=[_CHILD]),
    ],
)

EXPECTED_RESULT = {"total": 18}
EXPECTED_CHILD_RESULT = {"scaled": [3, 6, 9]}
