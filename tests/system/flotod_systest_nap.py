"""A slow activity for the system test's stop-during-an-activity step.

None of the shipped examples runs for more than a moment, and a warm stop is only proven when
an activity is still running as SIGTERM arrives. The system test installs this module into the
container (as ``flotod_systest_nap``, next to the Debian python's other local modules) and adds
it to the sample worker's ``modules``; the daemon runs ``SPEC`` from a signal, so no decider
config is added. ``after_nap`` needs the nap's result, so the workflow only completes when a
worker (the restarted one, or the draining one if its last poll got the task) serves it.
"""

from __future__ import annotations

import time
from typing import Any

import flotod
from flotod.specs import ActivityTask, DeciderSpec

DOMAIN = "flotod"
# The sample [worker.hello] polls this list; the test adds this module to that worker.
ACTIVITY_TASK_LIST = "hello_activities"
NAP_SECONDS = 8


@flotod.activity(name="systest_nap", version="v1")
def nap(context: dict[str, Any]) -> str:
    """Sleep as long as the task's input says: long enough to stop the worker meanwhile."""
    seconds = float((context.get("activity_task") or {}).get("seconds", NAP_SECONDS))
    time.sleep(seconds)
    return f"napped {seconds:g} s"


@flotod.activity(name="systest_after_nap", version="v1")
def after_nap(context: dict[str, Any]) -> str:
    """Carries the nap's own result into the workflow result, so the test sees it finished."""
    return f"after {context['nap']}"


NAP = ActivityTask("systest_nap", "v1", activity_id="nap", input={"seconds": NAP_SECONDS})
AFTER_NAP = ActivityTask("systest_after_nap", "v1", activity_id="after_nap", requires=[NAP])

SPEC = DeciderSpec(
    domain=DOMAIN,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[NAP, AFTER_NAP],
)

EXPECTED_RESULT = {"after_nap": f"after napped {NAP_SECONDS} s"}
