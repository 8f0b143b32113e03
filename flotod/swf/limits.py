"""Plain-value text helpers shared by the SWF client and its callers: SWF's size limits."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from flotod.specs import dumps

MAX_DATA = 32_768
MAX_HEARTBEAT_DETAILS = 2_048
MAX_REASON = 256
MAX_IDENTITY = 256

# The defaults flotod registers its types with (flotod.services.registration), in seconds.
# SWF caps an execution at one year. Decision tasks are answered in milliseconds, so a
# decision task nobody answers (SWF handed it to the poll of a decider that stopped) is handed
# out again after 10 s; decision_timeout_seconds sets it per decider and daemon.
WORKFLOW_EXECUTION_TIMEOUT = 365 * 24 * 3600
DECISION_TASK_TIMEOUT = 10
ACTIVITY_SCHEDULE_TO_START = 3600
ACTIVITY_START_TO_CLOSE = 3600
ACTIVITY_SCHEDULE_TO_CLOSE = 7200
# Never less than this for a worker that heartbeats: room for slow networks and throttling.
MIN_HEARTBEAT_TIMEOUT = 300


def encode_input(value: Any) -> str | None:
    """SWF carries text: a str passes unchanged, anything else (specs included) becomes JSON."""
    if value is None or isinstance(value, str):
        return value
    return dumps(value)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to SWF's ``limit``, marking the cut so nobody mistakes it for the whole."""
    if len(text) <= limit:
        return text
    marker = "...[truncated]"
    return text[: max(0, limit - len(marker))] + marker


def default_identity() -> str:
    return clip(f"{socket.gethostname()}:{os.getpid()}", MAX_IDENTITY)


def decode_json_or_text(text: str) -> Any:
    """The value a JSON text stands for, or the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text
