"""Where an SWF history event keeps its attributes, written down once.

SWF puts an event's details under a key derived from its type (``ActivityTaskCompleted`` ->
``activityTaskCompletedEventAttributes``); the engine, the daemon, the CLI and the embedded
SWF all read or write that key, so they all derive it here. No imports: any layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def attributes_key(event_type: str) -> str:
    """``ActivityTaskCompleted`` -> ``activityTaskCompletedEventAttributes``."""
    return event_type[:1].lower() + event_type[1:] + "EventAttributes"


def event_attributes(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The attributes of ``event``; empty when absent or not a mapping (a malformed event)."""
    value = event.get(attributes_key(str(event.get("eventType", ""))))
    return value if isinstance(value, Mapping) else _EMPTY
