"""flotod's SWF client: boto3 behind one wrapper with typed results and errors."""

from __future__ import annotations

from flotod.swf.client import SwfClient
from flotod.swf.limits import clip, decode_json_or_text, encode_input
from flotod.swf.retry import NO_RETRY, RetryPolicy
from flotod.swf.types import ActivityTask, DecisionTask, WorkflowExecution

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
