"""SWF's request constraints, checked before an operation runs, as SWF itself checks them.

moto checks almost none of them, so code that sends a 40,000-character result, a 300-character
reason or an unknown enum value passed every local test and failed only on AWS. The constraints
come from the SWF model that botocore ships (the one AWS generates its SDKs from): string
lengths, list sizes, number ranges, enum values and required members. botocore's client
checks types and required members before sending, but no maximum; SWF answers with a
ValidationException naming each member and rule, and so does this.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import botocore.session
from botocore.model import ListShape, Shape, StructureShape
from moto.swf.exceptions import SWFValidationException

Check = Callable[[Any, str, list[str]], None]
_SHOWN = 64  # characters of a rejected value quoted in the message


@lru_cache(maxsize=1)
def _model() -> Any:
    return botocore.session.get_session().get_service_model("swf")


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    text = str(value)
    return "'" + (text if len(text) <= _SHOWN else text[:_SHOWN] + "...") + "'"


def _fail(errors: list[str], value: Any, path: str, rule: str) -> None:
    errors.append(f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {rule}")


def _string(shape: Shape) -> Check | None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    values: list[str] = getattr(shape, "enum", None) or []  # StringShape's, in the model order
    allowed = frozenset(values) if values else None
    if low is None and high is None and allowed is None:
        return None
    shown_set = "[" + ", ".join(values) + "]"

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, str):
            return  # the operation itself refuses a wrong type
        if high is not None and len(value) > high:
            _fail(errors, value, path, f"Member must have length less than or equal to {high}")
        if low is not None and len(value) < low:
            _fail(errors, value, path, f"Member must have length greater than or equal to {low}")
        if allowed is not None and value not in allowed:
            _fail(errors, value, path, f"Member must satisfy enum value set: {shown_set}")

    return check


def _number(shape: Shape) -> Check | None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is None and high is None:
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            return
        if high is not None and value > high:
            _fail(errors, value, path, f"Member must have value less than or equal to {high}")
        if low is not None and value < low:
            _fail(errors, value, path, f"Member must have value greater than or equal to {low}")

    return check


def _list(shape: ListShape) -> Check | None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    item = _compile(shape.member)
    if low is None and high is None and item is None:
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list):
            return
        if high is not None and len(value) > high:
            _fail(errors, value, path, f"Member must have length less than or equal to {high}")
        if low is not None and len(value) < low:
            _fail(errors, value, path, f"Member must have length greater than or equal to {low}")
        if item is not None:
            for n, element in enumerate(value, 1):
                item(element, f"{path}.{n}.member", errors)

    return check


def _structure(shape: StructureShape) -> Check | None:
    members = {name: _compile(member) for name, member in shape.members.items()}
    checked = {name: check for name, check in members.items() if check is not None}
    required = tuple(shape.required_members)
    if not checked and not required:
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        prefix = path + "." if path else ""
        for name in required:
            if value.get(name) is None:
                _fail(errors, None, prefix + name, "Member must not be null")
        # What a request holds, not every member the shape allows (a decision has 14 kinds).
        for name, member in value.items():
            member_check = checked.get(name)
            if member_check is not None and member is not None:
                member_check(member, prefix + name, errors)

    return check


_SEEN: dict[str, Check | None] = {}


def _compile(shape: Shape) -> Check | None:
    """A checker for values of ``shape``, or None when nothing under it is constrained."""
    if shape.name in _SEEN:  # SWF's shapes are not recursive; this only shares work
        return _SEEN[shape.name]
    check: Check | None = None
    if isinstance(shape, StructureShape):
        check = _structure(shape)
    elif isinstance(shape, ListShape):
        check = _list(shape)
    elif shape.type_name == "string":
        check = _string(shape)
    elif shape.type_name in ("integer", "long"):
        check = _number(shape)
    _SEEN[shape.name] = check
    return check


@cache
def _operation_check(operation: str) -> Check | None:
    model = _model()
    if operation not in model.operation_names:
        return None
    shape = model.operation_model(operation).input_shape
    return None if shape is None else _compile(shape)


def check_request(operation: str, params: Any) -> None:
    """Raise SWF's ValidationException listing every constraint ``params`` breaks."""
    check = _operation_check(operation)
    if check is None:
        return
    errors: list[str] = []
    check(params, "", errors)
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected"
        raise SWFValidationException(count + ": " + "; ".join(errors))


def _forbidden(char: str) -> bool:
    code = ord(char)
    return char in ":/|" or code <= 0x1F or 0x7F <= code <= 0x9F


def check_task_list_name(name: Any, path: str) -> None:
    """SWF's rule for a task list's name (API reference, TaskList and PollForDecisionTask):
    1 to 256 characters, no leading or trailing whitespace, no ``:``, ``/``, ``|`` or control
    character (U+0000-U+001F, U+007F-U+009F), and not the literal ``arn``."""
    rule = ""
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        rule = "Member must have length between 1 and 256"
    elif name != name.strip():
        rule = "Member must not start or end with whitespace"
    elif any(_forbidden(char) for char in name):
        rule = "Member must not contain ':', '/', '|' or a control character"
    elif name == "arn":
        rule = "Member must not be the literal string arn"
    if rule:
        errors: list[str] = []
        _fail(errors, name, path, rule)
        raise SWFValidationException("1 validation error detected: " + errors[0])
