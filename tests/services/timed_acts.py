"""An activity registering its own timeouts and task list (tests/services/test_timeouts.py)."""

from __future__ import annotations

from typing import Any

from flotod.worker import activity


@activity(
    "long_job",
    "v1",
    start_to_close_timeout=14_400,
    schedule_to_start_timeout="NONE",
    schedule_to_close_timeout=86_400,
    heartbeat_timeout=600,
    task_list="long_jobs",
)
def long_job(context: Any) -> str:
    return "long done"
