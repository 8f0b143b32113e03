"""flotod's SWF client: boto3 behind one wrapper with typed results and errors."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flotod.swf.limits import clip, decode_json_or_text, encode_input
from flotod.swf.retry import NO_RETRY, RetryPolicy
from flotod.swf.types import ActivityTask, DecisionTask, WorkflowExecution

if TYPE_CHECKING:
    from flotod.swf.client import SwfClient

_LAZY = {"SwfClient": "flotod.swf.client"}


def __getattr__(name: str) -> Any:
    """Import boto3-backed names on first use, so the pure parts load without boto3."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "NO_RETRY",
    "ActivityTask",
    "DecisionTask",
    "RetryPolicy",
    "SwfClient",
    "WorkflowExecution",
    "clip",
    "decode_json_or_text",
    "encode_input",
]
