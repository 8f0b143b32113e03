"""JSON from untrusted text (signals, workflow and activity input, spec files), bounded.

``json.loads`` recurses once per nesting level, so ``"[" * 3000`` raises RecursionError: not
a ValueError, so it slipped past every handler and a long-running process failed on the same
input at every replay. :func:`loads` refuses documents nested deeper than :data:`MAX_DEPTH`
with :class:`NestingError`, a :class:`json.JSONDecodeError` (so a ``ValueError``): existing
``except ValueError`` handlers report it like any other bad JSON. The bound leaves room for
the decoder's own recursion and for encoding the value again later (``json.dumps`` recurses
too) under a decider's stack. Cost stays linear: a 1 MB document is read once by the C
decoder, and only a document with more than MAX_DEPTH brackets is walked afterwards.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100


class NestingError(json.JSONDecodeError):
    """The document nests arrays and objects deeper than allowed."""

    def __init__(self, doc: str, limit: int) -> None:
        message = f"JSON nested deeper than {limit} levels"
        super().__init__(message, doc, 0)
        self.args = (message,)  # no misleading "line 1 column 1" position


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises ValueError (never RecursionError) on deep nesting."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise NestingError(_as_str(text), max_depth) from None
    if _openers(text) > max_depth and _deeper_than(value, max_depth):
        raise NestingError(_as_str(text), max_depth)
    return value


def _as_str(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("utf-8", "replace")


def _openers(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def _deeper_than(value: Any, limit: int) -> bool:
    """Iterative, so that measuring a deep value cannot itself recurse too deep."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
