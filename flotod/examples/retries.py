"""Retries with floto's InstantRetry: one task that gets there, one that runs out of tries.

``Flaky`` fails on its first two attempts (the decider numbers attempts, the activity reads
``flotod.current_task().attempt``) and succeeds on the third, within ``InstantRetry(3)``.
``Hopeless`` always fails; after ``InstantRetry(2)`` (three attempts) the workflow fails with
reason ``task_retry_limit_reached`` and the last error in its details.

Expected: ``{"flaky": {"attempt": 3}}``; the second workflow fails (task_retry_limit_reached).
"""

from __future__ import annotations

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, InstantRetry

TASK_LIST_SUCCEEDS = "retry_succeeds_decider"
TASK_LIST_GIVES_UP = "retry_gives_up_decider"
SUCCEEDS_ON_ATTEMPT = 3


class ExampleFailure(RuntimeError):
    """The failure the retry examples raise on purpose."""


@flotod.activity(name="Flaky", version="v1")
def flaky() -> dict[str, int]:
    attempt = flotod.current_task().attempt or 1
    if attempt < SUCCEEDS_ON_ATTEMPT:
        raise ExampleFailure(f"attempt {attempt} fails on purpose")
    return {"attempt": attempt}


@flotod.activity(name="Hopeless", version="v1")
def hopeless() -> None:
    raise ExampleFailure(f"attempt {flotod.current_task().attempt} fails, like every attempt")


SPEC_SUCCEEDS = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST_SUCCEEDS,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        ActivityTask("Flaky", "v1", activity_id="flaky", retry_strategy=InstantRetry(retries=3))
    ],
)

SPEC_GIVES_UP = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST_GIVES_UP,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[
        ActivityTask(
            "Hopeless", "v1", activity_id="hopeless", retry_strategy=InstantRetry(retries=2)
        )
    ],
)

EXPECTED_SUCCEEDS = {"flaky": {"attempt": SUCCEEDS_ON_ATTEMPT}}
EXPECTED_GIVES_UP_REASON = "task_retry_limit_reached"
