"""floto's first README example: ActivityA and ActivityB run in parallel, ActivityC after both.

The task ids are floto's defaults (``name:version:hash``); ActivityC reads its requirements'
results from its context under those ids, and the workflow result holds C's result under its
id, as C is the only task nothing depends on.

Expected result: ``{C.id_: "A+B then C"}``.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec

TASK_LIST = "a_b_then_c_decider"


@flotod.activity(name="ActivityA", version="v1")
def activity_a() -> str:
    return "A"


@flotod.activity(name="ActivityB", version="v1")
def activity_b() -> str:
    return "B"


@flotod.activity(name="ActivityC", version="v1")
def activity_c(context: dict[str, Any]) -> str:
    """Join the results of A and B, found in the context under their task ids."""
    parts = sorted(str(context[task.id_]) for task in (A, B))
    return "+".join(parts) + " then C"


A = ActivityTask("ActivityA", "v1")
B = ActivityTask("ActivityB", "v1")
C = ActivityTask("ActivityC", "v1", requires=[A, B])

SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[A, B, C],
)

EXPECTED_RESULT = {C.id_: "A+B then C"}
