"""Run one activity function and turn whatever happens into an outcome SWF can record.

This is shared by the thread executor and the child process of the process executor, so the
same input decoding, result encoding and failure formatting apply wherever the code runs.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from typing import Any, Literal

from flotod import safe_json
from flotod.specs import Task, to_jsonable
from flotod.swf.limits import MAX_DATA, MAX_REASON, clip
from flotod.worker.context import CurrentTask, set_current_task
from flotod.worker.registry import ActivityDefinition

RESERVED_KEY = "__flotod__"


@dataclass(frozen=True)
class Outcome:
    """How a task ended, ready to report: completed with ``result``, failed, or canceled."""

    status: Literal["completed", "failed", "canceled"]
    result: str | None = None
    reason: str = ""
    details: str = ""
    # For the worker's own log record, never sent to SWF: the error's message and traceback.
    message: str = field(default="", compare=False, repr=False)
    trace: str = field(default="", compare=False, repr=False)

    @classmethod
    def failed(cls, reason: str, details: str = "", message: str = "", trace: str = "") -> Outcome:
        return cls(
            "failed",
            reason=clip(reason, MAX_REASON),
            details=clip(details, MAX_DATA),
            message=message,
            trace=trace,
        )


def decode_input(text: str) -> tuple[Any, int | None]:
    """The activity's argument and the decider's attempt number, from SWF's input text.

    JSON is decoded (floto's context dict); the reserved ``__flotod__`` key is removed from it;
    input that is not JSON reaches the activity as the raw string.
    """
    if not text:
        return None, None
    try:
        value = safe_json.loads(text)
    except ValueError:
        return text, None
    attempt = None
    if isinstance(value, dict) and RESERVED_KEY in value:
        meta = value.pop(RESERVED_KEY)
        raw = meta.get("attempt") if isinstance(meta, dict) else None
        attempt = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    return value, attempt


def encode_result(definition: ActivityDefinition, value: Any) -> Outcome:
    """The JSON encoding of the return value, or a failure saying why it cannot be JSON."""
    if definition.kind == "generator" and (
        not isinstance(value, list | tuple) or not all(isinstance(t, Task) for t in value)
    ):
        shown = clip(repr(value), 2_000)
        return Outcome.failed(
            "generator did not return a list of tasks",
            f"generator {definition.name!r} returned {type(value).__name__}: {shown}",
        )
    try:
        text = json.dumps(to_jsonable(value), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return Outcome.failed(
            "result is not JSON-serializable",
            f"{definition.name!r} returned {type(value).__name__}: {exc}",
        )
    # Its size is checked in the worker process, after the payload rules may have moved it
    # to S3 (flotod.worker.offload).
    return Outcome("completed", result=text)


def failure_from_exception(exc: BaseException) -> Outcome:
    """reason = the exception type, details = its message and traceback, both within limits.

    When the details are too long the middle of the traceback goes: the message and the frames
    nearest the error are what an operator reads first.
    """
    cls = type(exc)
    module = cls.__module__
    reason = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
    message = str(exc)
    trace = "".join(traceback.format_exception(exc))
    details = f"{message}\n\n{trace}" if message else trace
    if len(details) > MAX_DATA:
        marker = "\n...[traceback trimmed]...\n"
        head = clip(message, MAX_DATA // 4) + "\n\n"
        room = MAX_DATA - len(head) - len(marker)
        details = head + trace[: room // 4] + marker + trace[-(room - room // 4) :]
    return Outcome.failed(reason, details, message=message, trace=trace.rstrip("\n"))


def run_activity(definition: ActivityDefinition, argument: Any, task: CurrentTask) -> Outcome:
    """Call the function with ``task`` as its current task; never raises."""
    set_current_task(task)
    try:
        value = definition.func(argument) if definition.takes_context else definition.func()
    except BaseException as exc:  # an activity's failure, whatever it is, is the task's
        return failure_from_exception(exc)
    finally:
        set_current_task(None)
    return encode_result(definition, value)
