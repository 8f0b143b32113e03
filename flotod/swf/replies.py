"""Reading SWF's JSON replies without botocore's field-by-field walk.

botocore decodes a reply with ``json.loads`` and then walks the operation's output model over
every field, building each dict again, only to turn timestamps into datetimes. For SWF that
walk is all the work: a decision task's history is tens to thousands of events, and walking
them (with dateutil's local-zone conversion of every ``eventTimestamp``) costs about 17 us an
event, 10-30 times what deciding on it costs (``bench/decider.py``).

Nothing else in SWF's replies needs the model: they hold no blobs, maps, unions or renamed
fields. So this parser compiles each output shape once into the paths of its timestamps, decodes
the body with ``json.loads`` and converts just those. Timestamps come out as UTC datetimes (the
same instants botocore gives in the local zone). Any shape the compiler does not fully
understand, and every error reply, goes through botocore's own parser unchanged.

The parser hooks in through botocore's public ``response_parser_factory`` session component;
the two methods it overrides are checked when the module loads (:data:`AVAILABLE`), and
``SwfClient`` keeps botocore's parser when they are missing.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from botocore.parsers import DEFAULT_TIMESTAMP_PARSER, JSONParser, ResponseParserFactory

# A path is the keys to follow from the reply's top; "[]" steps into every item of a list.
Path = tuple[str, ...]
EACH = "[]"

_SCALARS = frozenset({"string", "integer", "long", "boolean", "float", "double"})
# Shape name -> timestamp paths, or None when the shape needs botocore's walk. Names are
# unique within one service model, and the factory below serves SWF clients only.
_PLANS: dict[str, tuple[Path, ...] | None] = {}
_PLANS_LOCK = threading.Lock()

AVAILABLE = all(
    callable(getattr(JSONParser, name, None)) for name in ("_do_parse", "_inject_response_metadata")
)


class _NeedsModel(Exception):
    """The shape holds something only botocore's walk reproduces."""


def _collect(shape: Any, path: Path, found: list[Path], within: frozenset[str]) -> None:
    kind = shape.type_name
    if kind in _SCALARS:
        return
    if kind == "timestamp":
        found.append(path)
        return
    if kind == "list":
        _collect(shape.member, (*path, EACH), found, within)
        return
    if kind != "structure" or shape.name in within:  # blobs, maps, recursion
        raise _NeedsModel(shape.name)
    if shape.is_document_type or getattr(shape, "is_tagged_union", False):
        raise _NeedsModel(shape.name)
    for name, member in shape.members.items():
        if member.serialization.get("name") not in (None, name) or "location" in (
            member.serialization
        ):
            raise _NeedsModel(shape.name)
        _collect(member, (*path, name), found, within | {shape.name})


def timestamp_paths(shape: Any) -> tuple[Path, ...] | None:
    """The timestamp paths of an output shape, or None when the fast path cannot read it."""
    try:
        return _PLANS[shape.name]
    except KeyError:
        pass
    found: list[Path] = []
    plan: tuple[Path, ...] | None
    try:
        _collect(shape, (), found, frozenset())
        plan = tuple(found)
    except _NeedsModel:
        plan = None
    with _PLANS_LOCK:
        _PLANS[shape.name] = plan
    return plan


def to_datetime(value: Any) -> Any:
    """SWF sends epoch seconds; anything else gets botocore's own timestamp parser."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return DEFAULT_TIMESTAMP_PARSER(value)


def _convert(node: Any, path: Path) -> None:
    key, rest = path[0], path[1:]
    if key == EACH:
        if isinstance(node, list):
            for item in node:
                _convert(item, rest)
        return
    if not isinstance(node, dict) or key not in node:
        return
    if rest:
        _convert(node[key], rest)
    elif node[key] is not None:
        node[key] = to_datetime(node[key])


class SwfReplyParser(JSONParser):  # overrides private hooks, checked by AVAILABLE
    """botocore's JSON parser, with the compiled fast path for successful SWF replies."""

    def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        plan = None if shape is None or shape.event_stream_name else timestamp_paths(shape)
        if plan is None:
            return super()._do_parse(response, shape)  # type: ignore[misc,no-any-return]
        body = response["body"]
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):  # let botocore report what it makes of it
            return super()._do_parse(response, shape)  # type: ignore[misc,no-any-return]
        for path in plan:
            _convert(parsed, path)
        self._inject_response_metadata(parsed, response["headers"])  # type: ignore[attr-defined]
        return parsed


class SwfReplyParserFactory(ResponseParserFactory):
    """Hands out :class:`SwfReplyParser` for SWF's ``json`` protocol, botocore's otherwise."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return SwfReplyParser()
        return super().create_parser(protocol_name)
