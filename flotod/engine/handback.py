"""Telling from its close event that an activity task never ran, so it costs no attempt.

A stopping worker abandons its idle long polls, and SWF may hand a task to one of them: nobody
starts it. A flotod worker records a first heartbeat (``STARTED_DETAILS``) the moment a lane
takes a task and whenever an activity set no details, so a timeout without details proves the
task never ran; a task it receives while stopping it hands back with ``HANDED_BACK_REASON``.
The decider schedules such a task again at once, as the same attempt. A quick stop's
``SHUTDOWN_REASON`` is not among them: that activity did run, maybe halfway with effects, and
the retry strategy is what says how often a body may run.

A worker that is broken (or not flotod's, sending no heartbeats) could make every task look
unrun; after ``MAX_FREE_RUNS`` of them a task's next such close counts as an attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flotod.protocol import HANDED_BACK_REASON

MAX_FREE_RUNS = 100


def never_ran(event_type: str, attrs: Mapping[str, Any]) -> bool:
    """True when the ActivityTaskTimedOut or ActivityTaskFailed ``attrs`` prove no run."""
    if event_type == "ActivityTaskTimedOut":
        return not attrs.get("details")
    if event_type == "ActivityTaskFailed":
        return attrs.get("reason") == HANDED_BACK_REASON
    return False
