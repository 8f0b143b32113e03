"""A dynamic decider: the tasks travel in each workflow's input, not in the decider's config.

The decider is configured with ``dynamic = true`` and a default activity task list
(``DEFAULTS`` holds the same for in-process use); every execution brings its own
``activity_tasks``. Activities without requirements see the whole input as
``context['workflow']``, so the input can carry data as well as tasks.

Expected result for ``INPUT``: ``{"report": "sum=10 product=24"}``.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, to_jsonable

TASK_LIST = "dynamic_decider"

# What a [decider.NAME] table with dynamic = true amounts to: no tasks, only defaults.
DEFAULTS = DeciderSpec(
    domain=DOMAIN, task_list=TASK_LIST, default_activity_task_list=ACTIVITY_TASK_LIST
)


@flotod.activity(name="DynSum", version="v1")
def dyn_sum(context: dict[str, Any]) -> int:
    return sum(context["workflow"]["numbers"])


@flotod.activity(name="DynProduct", version="v1")
def dyn_product(context: dict[str, Any]) -> int:
    product = 1
    for n in context["workflow"]["numbers"]:
        product *= n
    return product


@flotod.activity(name="DynReport", version="v1")
def dyn_report(context: dict[str, Any]) -> str:
    return f"sum={context['sum']} product={context['product']}"


def make_input(numbers: list[int]) -> dict[str, Any]:
    """A workflow input: the task graph in its JSON form, next to the data it works on."""
    total = ActivityTask("DynSum", "v1", activity_id="sum")
    product = ActivityTask("DynProduct", "v1", activity_id="product")
    report = ActivityTask("DynReport", "v1", activity_id="report", requires=[total, product])
    return {"activity_tasks": to_jsonable([total, product, report]), "numbers": numbers}


INPUT = make_input([1, 2, 3, 4])
EXPECTED_RESULT = {"report": "sum=10 product=24"}
