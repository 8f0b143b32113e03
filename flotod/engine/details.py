"""Failure details carried from one execution into another's, decoded once.

A flotod child fails with JSON details; copied as they are into its parent's failure they
would be a JSON string inside JSON, escaped once more at every level of nesting. Decoding is
pure and bounded: the details come from whoever can fail the child, and a value nested past
Python's recursion limit must not make every replay of the parent raise.
"""

from __future__ import annotations

import json
from typing import Any

# Far beyond what a failure report needs, far below the recursion limit of later encoding.
MAX_DEPTH = 64


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in item)
    return deepest


def decode_details(details: Any) -> Any:
    """JSON text as the value it stands for; anything else (plain text, a traceback, JSON
    nested deeper than :data:`MAX_DEPTH`) unchanged."""
    if not isinstance(details, str):
        return details
    try:
        value = json.loads(details)
    except (ValueError, RecursionError):
        return details
    return value if _depth(value) <= MAX_DEPTH else details
