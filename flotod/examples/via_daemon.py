"""A whole DeciderSpec sent to the child-workflow daemon by a signal.

Unlike the other examples, no decider is configured for this workflow: the daemon (one
long-running workflow) receives the spec in a ``startChildWorkflowExecution`` signal, starts a
child workflow carrying the spec in its input and decides that child itself.

Expected result of the child: ``{"daemon_shout": "HELLO FROM THE DAEMON"}``.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, to_jsonable

SIGNAL_NAME = "startChildWorkflowExecution"


@flotod.activity(name="DaemonShout", version="v1")
def daemon_shout(context: dict[str, Any]) -> str:
    return str(context["activity_task"]).upper()


SPEC = DeciderSpec(
    domain=DOMAIN,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        ActivityTask("DaemonShout", "v1", activity_id="daemon_shout", input="hello from the daemon")
    ],
)


def signal_input(spec: DeciderSpec = SPEC) -> dict[str, Any]:
    """The signal's input, as floto sent it: ``{"decider_spec": <the spec's JSON form>}``."""
    return {"decider_spec": to_jsonable(spec)}


EXPECTED_RESULT = {"daemon_shout": "HELLO FROM THE DAEMON"}
