"""Hello world: one activity greeting the name given in its task's input.

The spec is the one shipped as ``/usr/share/doc/flotod/examples/hello.json``
(etc/examples/hello.json, which names no domain), served by the sample ``[worker.hello]`` and
``[decider.hello]`` configs.

Expected result: ``{"greet": "Hello, world!"}``.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, InstantRetry

TASK_LIST = "hello_decider"
ACTIVITY_TASK_LIST = "hello_activities"


@flotod.activity(name="hello", version="v1")
def hello(context: dict[str, Any]) -> str:
    """Greet ``context['activity_task']['name']`` (the task's own input)."""
    name = (context.get("activity_task") or {}).get("name", "nobody")
    return f"Hello, {name}!"


GREET = ActivityTask(
    "hello",
    "v1",
    activity_id="greet",
    input={"name": "world"},
    retry_strategy=InstantRetry(retries=2),
)

SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[GREET],
)

EXPECTED_RESULT = {"greet": "Hello, world!"}
