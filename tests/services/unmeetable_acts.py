"""An activity whose heartbeat timeout a worker beating every 90 s cannot meet."""

from __future__ import annotations

from flotod.worker import activity


@activity("too_tight", "v1", heartbeat_timeout=60)
def too_tight() -> str:
    return "never run"
