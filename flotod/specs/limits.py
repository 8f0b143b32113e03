"""SWF's limits on what a spec may hold, checked when a spec is built.

A decision breaking one of them makes SWF refuse the whole RespondDecisionTaskCompleted with a
ValidationException and record nothing, so the same decisions would be sent again at every
decision task timeout. Refusing such a value while the spec is built names the field at fault
instead. Sources: the API model botocore ships (lengths, 8-digit durations) and the API
reference (characters a task list name must not hold).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flotod.errors import SpecError

MAX_ID_LENGTH = 256
MAX_NAME_LENGTH = 256
MAX_VERSION_LENGTH = 64
# Durations are strings of at most 8 digits.
MAX_SECONDS = 99_999_999

_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
_TASK_LIST_FORBIDDEN = re.compile("[:/|\u0000-\u001f\u007f-\u009f]")


def check_text(owner: str, field: str, value: object, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters without control characters."""
    if not isinstance(value, str) or not value:
        raise SpecError(f"{owner}: {field} must be a non-empty string, got {value!r}")
    if len(value) > limit:
        raise SpecError(f"{owner}: {field} is {len(value)} characters, SWF allows {limit}")
    if _CONTROL.search(value):
        raise SpecError(f"{owner}: {field} holds a control character: {value[:80]!r}")
    return value


def check_optional_text(owner: str, field: str, value: object, limit: int) -> str | None:
    return None if value is None else check_text(owner, field, value, limit)


def check_task_list(owner: str, field: str, value: object) -> str | None:
    """None, or a task list name SWF accepts: no ``:``, ``/``, ``|``, control characters or
    surrounding whitespace, and not the word ``arn``."""
    if value is None:
        return None
    name = check_text(owner, field, value, MAX_NAME_LENGTH)
    if _TASK_LIST_FORBIDDEN.search(name) or name != name.strip() or name == "arn":
        raise SpecError(
            f"{owner}: {field} {name[:80]!r} is not a task list name SWF accepts "
            "(no ':', '/', '|', control characters or surrounding whitespace; not 'arn')"
        )
    return name


def check_seconds(owner: str, field: str, value: object) -> int:
    """Whole seconds SWF can take as a duration: an integer from 0 to 99,999,999."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{owner}: {field} must be a whole number of seconds, got {value!r}")
    if not 0 <= value <= MAX_SECONDS:
        raise SpecError(
            f"{owner}: {field} is {value}, SWF allows 0 to {MAX_SECONDS} seconds (8 digits)"
        )
    return value


def check_number(owner: str, field: str, value: object, minimum: float) -> float:
    """A finite number >= ``minimum`` (NaN compares false with everything, so it is named)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{owner}: {field} must be a number >= {minimum}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < minimum:
        raise SpecError(f"{owner}: {field} must be a finite number >= {minimum}, got {value!r}")
    return number


def check_json(owner: str, field: str, value: Any) -> Any:
    """A value that is plain JSON: serializable, with no NaN or infinity (JSON has none)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SpecError(f"{owner}: {field} is not plain JSON ({exc})") from None
    return value


def clamp_seconds(seconds: int) -> int:
    """``seconds`` brought into the range SWF takes, for delays computed at decision time."""
    return min(max(seconds, 0), MAX_SECONDS)
