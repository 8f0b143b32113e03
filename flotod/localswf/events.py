"""History events and history pages for the embedded SWF.

moto's own event class drops every falsy attribute (a result of ``""`` or ``0`` vanishes) and
refuses event types it does not know; SWF keeps both. Events here keep anything that is not
``None`` and accept every event type of the SWF model.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from moto.swf.exceptions import SWFValidationException
from moto.swf.models.history_event import HistoryEvent

from flotod.engine.attributes import attributes_key

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _wire_value(key: str, value: Any) -> Any:
    """Translate the few model objects events carry into their JSON shapes."""
    if key == "task_list" and isinstance(value, str):
        return {"name": value}
    if key in ("workflow_type", "activity_type") and hasattr(value, "version"):
        return {"name": value.name, "version": value.version}
    return value


class LocalHistoryEvent(HistoryEvent):
    """One history event; ``None`` attributes are left out, every other value is kept."""

    def __init__(
        self,
        event_id: int,
        event_type: str,
        event_timestamp: float | None = None,
        **kwargs: Any,
    ) -> None:
        # moto's __init__ rejects unknown types and drops falsy values: deliberately not called.
        self.event_id = event_id
        self.event_type = event_type
        self.event_timestamp = event_timestamp if event_timestamp else time.time()
        self.event_attributes = {
            _camel(key): _wire_value(key, value)
            for key, value in kwargs.items()
            if value is not None
        }

    def to_dict(self) -> dict[str, Any]:
        key = attributes_key(self.event_type)
        return {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "eventTimestamp": self.event_timestamp,
            key: self.event_attributes,
        }


def encode_token(payload: dict[str, Any]) -> str:
    """An opaque page token; clients must hand it back unchanged."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as exc:
        raise SWFValidationException("Invalid nextPageToken") from exc
    if not isinstance(payload, dict):
        raise SWFValidationException("Invalid nextPageToken")
    return payload


def page_size(requested: int | None) -> int:
    """SWF treats 0 or absent as its default of 1,000 and refuses more than 1,000."""
    if not requested:
        return DEFAULT_PAGE_SIZE
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise SWFValidationException(
            f"Value '{requested}' at 'maximumPageSize' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_PAGE_SIZE}"
        )
    return requested


def history_page(
    events: list[LocalHistoryEvent],
    limit: int,
    maximum_page_size: int | None,
    reverse_order: bool,
    next_page_token: str | None,
    token_extra: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the first ``limit`` events, and the token of the next page (or None).

    ``limit`` freezes the history a token refers to, so events appended later never shift
    a page that a client is still walking.
    """
    size = page_size(maximum_page_size)
    offset = 0
    if next_page_token:
        payload = decode_token(next_page_token)
        offset = int(payload.get("offset", 0))
        limit = int(payload.get("limit", limit))
        reverse_order = bool(payload.get("reverse", reverse_order))
    if reverse_order:
        stop = limit - offset
        start = max(stop - size, 0)
        page = [events[i].to_dict() for i in range(stop - 1, start - 1, -1)]
    else:
        start = offset
        stop = min(offset + size, limit)
        page = [events[i].to_dict() for i in range(start, stop)]
    new_offset = offset + len(page)
    token = None
    if new_offset < limit:
        body = {"offset": new_offset, "limit": limit, "reverse": reverse_order}
        body.update(token_extra or {})
        token = encode_token(body)
    return page, token
