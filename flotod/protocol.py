"""Words the worker and the decider agree on, so a task's fate can be read from its history."""

from __future__ import annotations

# An ActivityTaskFailed reason: a stopping worker gave the task back without running it.
HANDED_BACK_REASON = "flotod.handed_back"
# An ActivityTaskFailed reason: a quick stop interrupted the activity; safe to run again.
SHUTDOWN_REASON = "worker shutdown"
# Heartbeat details sent the moment a lane takes a task, and whenever an activity set none:
# an ActivityTaskTimedOut with empty details therefore proves the task never ran.
STARTED_DETAILS = '{"flotod":"started"}'
