"""What SWF's refusals of a decision mean for the task, and how long to wait before the next try.

SWF answers a decision it cannot carry out with an event (ScheduleActivityTaskFailed,
StartTimerFailed, StartChildWorkflowExecutionFailed) and a new decision task. Some causes pass
by themselves: a rate or an open-count limit, or an activity type a worker is still
registering. The task is then put back after a short timer, without spending an attempt of its
retry strategy; every other cause fails the workflow. Each kind of refusal is bounded so a
cause that never passes still ends the run with a reason instead of filling its history.

Causes are SWF's (botocore's swf service-2.json); waits derive from the task id and the count
alone, so every decider replaying a history plans the same timer.
"""

from __future__ import annotations

from flotod.specs.canonical import stable_fraction

# Rates and open-count limits: they pass as tasks close or the bucket refills.
PASSING_CAUSES = frozenset(
    {
        "ACTIVITY_CREATION_RATE_EXCEEDED",
        "OPEN_ACTIVITIES_LIMIT_EXCEEDED",
        "TIMER_CREATION_RATE_EXCEEDED",
        "OPEN_TIMERS_LIMIT_EXCEEDED",
        "CHILD_CREATION_RATE_EXCEEDED",
        "OPEN_CHILDREN_LIMIT_EXCEEDED",
        "OPEN_WORKFLOWS_LIMIT_EXCEEDED",
    }
)
# A worker that is starting may not have registered its activity types yet.
TYPE_MISSING = "ACTIVITY_TYPE_DOES_NOT_EXIST"

# Refusals for a passing cause after which the task fails all the same.
MAX_PASSING_REFUSALS = 100
# Tries of an activity whose type is missing: about two minutes in all.
MAX_TYPE_MISSING_REFUSALS = 5
TYPE_MISSING_REASON = "activity_type_not_registered"


def wait_seconds(task_id: str, refusals: int, type_missing: bool) -> int:
    """Seconds to wait after the ``refusals``-th refusal of ``task_id`` (1 after the first).

    A rate passes within seconds: 2, 4, 6 ... up to 30. A missing type waits for a worker to
    start: 10, 20, 40, 60. Each is shortened by up to a fifth, by task, so many tasks refused
    together do not come back together.
    """
    n = max(refusals, 1)
    base = min(10 * 2 ** min(n - 1, 3), 60) if type_missing else min(2 * n, 30)
    spread = 1.0 - 0.2 * stable_fraction(task_id, "refused", str(n))
    return max(1, round(base * spread))
