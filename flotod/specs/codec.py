"""The JSON form of specs, tasks and retry strategies, read through an explicit allowlist.

A JSON document names its types with a ``type`` tag. Only the names below are understood:
flotod's own, and the ones floto wrote (``floto.specs.task.ActivityTask`` ...), so specs saved
by floto keep working. A document never makes flotod import a module or build any other class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from flotod import safe_json
from flotod.errors import SpecError
from flotod.specs.decider_spec import DeciderSpec
from flotod.specs.retry import ExponentialRetry, InstantRetry, RetryStrategy
from flotod.specs.tasks import ActivityTask, ChildWorkflow, Generator, Task, Timer

_PREFIX = "flotod.specs."

TASK_TYPES: dict[str, type[Task]] = {}
for _cls, _floto_names in (
    (ActivityTask, ("floto.specs.task.ActivityTask", "floto.specs.ActivityTask")),
    (Generator, ("floto.specs.task.Generator", "floto.specs.Generator")),
    (ChildWorkflow, ("floto.specs.task.ChildWorkflow", "floto.specs.ChildWorkflow")),
    (Timer, ("floto.specs.task.Timer", "floto.specs.Timer")),
):
    for _name in (_PREFIX + _cls.type_name, _cls.type_name, *_floto_names):
        TASK_TYPES[_name] = _cls

RETRY_TYPES: dict[str, type[RetryStrategy]] = {
    _PREFIX + "InstantRetry": InstantRetry,
    "InstantRetry": InstantRetry,
    "floto.specs.retry_strategy.InstantRetry": InstantRetry,
    _PREFIX + "ExponentialRetry": ExponentialRetry,
    "ExponentialRetry": ExponentialRetry,
}

SPEC_TYPES = frozenset(
    {
        _PREFIX + "DeciderSpec",
        "DeciderSpec",
        "floto.specs.DeciderSpec",
        "floto.specs.decider_spec.DeciderSpec",
    }
)

# Keys floto wrote that carry nothing flotod needs (the domain comes from the spec or config).
_IGNORED_TASK_KEYS = frozenset({"domain"})


def to_jsonable(value: Any) -> Any:
    """Turn specs, tasks and strategies (also nested in lists and dicts) into plain JSON values."""
    if isinstance(value, Task | RetryStrategy):
        body = {k: to_jsonable(v) for k, v in value.to_dict().items()}
        return {"type": _PREFIX + value.type_name, **body}
    if isinstance(value, DeciderSpec):
        body = {k: to_jsonable(v) for k, v in value.to_dict().items()}
        return {"type": _PREFIX + DeciderSpec.type_name, **body}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON: the same object always gives the same text."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _type_of(data: object, where: str) -> str:
    if not isinstance(data, Mapping):
        raise SpecError(f"{where}: expected a JSON object, got {_short(data)}")
    type_name = data.get("type")
    if not isinstance(type_name, str):
        raise SpecError(f"{where}: has no 'type' naming what it is")
    return type_name


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def retry_from_dict(data: object, where: str = "retry_strategy") -> RetryStrategy:
    type_name = _type_of(data, where)
    cls = RETRY_TYPES.get(type_name)
    if cls is None:
        raise SpecError(f"{where}: unknown retry strategy type {type_name!r}")
    assert isinstance(data, Mapping)
    kwargs = {k: v for k, v in data.items() if k != "type"}
    strategy: RetryStrategy = _construct(cls, kwargs, where)
    return strategy


def _construct(factory: Callable[..., Any], kwargs: dict[str, Any], where: str) -> Any:
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise SpecError(f"{where}: {_describe_type_error(exc)}") from None
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _describe_type_error(exc: TypeError) -> str:
    text = str(exc)
    if "unexpected keyword argument" in text:
        return "unknown field " + text.rsplit("argument", 1)[1].strip()
    if "missing" in text and "required" in text:
        return "missing field(s) " + text.split(":", 1)[-1].strip()
    return text


def _requirement_ids(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecError(f"{where}: requires must be a list")
    ids = []
    for i, item in enumerate(raw):
        # floto wrote each requirement as {"id_": ..., "type": ...}
        ident = item.get("id_") if isinstance(item, Mapping) else item
        if not isinstance(ident, str) or not ident:
            raise SpecError(f"{where}: requires[{i}] is not a task id: {_short(item)}")
        ids.append(ident)
    return ids


def task_from_dict(data: object, where: str = "task") -> Task:
    """Build one task from its JSON form; every problem names ``where`` it was found."""
    type_name = _type_of(data, where)
    cls = TASK_TYPES.get(type_name)
    if cls is None:
        raise SpecError(f"{where}: unknown task type {type_name!r}")
    assert isinstance(data, Mapping)
    kwargs = {k: v for k, v in data.items() if k != "type" and k not in _IGNORED_TASK_KEYS}
    if "requires" in kwargs:
        kwargs["requires"] = _requirement_ids(kwargs["requires"], where)
    if kwargs.get("retry_strategy") is not None:
        kwargs["retry_strategy"] = retry_from_dict(
            kwargs["retry_strategy"], f"{where}.retry_strategy"
        )
    if cls is ChildWorkflow:
        if "id_" in kwargs:
            kwargs["workflow_id"] = kwargs.pop("id_")
    elif cls is not Timer and "id_" in kwargs:
        kwargs["activity_id"] = kwargs.pop("id_")
    task: Task = _construct(cls, kwargs, f"{where} ({cls.type_name})")
    return task


def tasks_from_list(data: object, where: str = "activity_tasks") -> list[Task]:
    """Build a list of tasks, e.g. a generator's result or a dynamic decider's input."""
    if not isinstance(data, list):
        raise SpecError(f"{where}: expected a list of tasks, got {_short(data)}")
    return [task_from_dict(item, f"{where}[{i}]") for i, item in enumerate(data)]


def decider_spec_from_dict(data: object, where: str = "decider_spec") -> DeciderSpec:
    if not isinstance(data, Mapping):
        raise SpecError(f"{where}: expected a JSON object, got {_short(data)}")
    type_name = data.get("type")
    if type_name is not None and type_name not in SPEC_TYPES:
        raise SpecError(f"{where}: unknown spec type {type_name!r}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    # floto's README names this flag terminate_workflow_after_completion; its JSON did not.
    if "terminate_workflow_after_completion" in kwargs:
        kwargs.setdefault(
            "terminate_decider_after_completion",
            kwargs.pop("terminate_workflow_after_completion"),
        )
    raw_tasks = kwargs.get("activity_tasks")
    kwargs["activity_tasks"] = tasks_from_list(
        [] if raw_tasks is None else raw_tasks, f"{where}.activity_tasks"
    )
    spec: DeciderSpec = _construct(DeciderSpec, kwargs, where)
    return spec


def load_decider_spec(text: str | bytes) -> DeciderSpec:
    """Parse a DeciderSpec from JSON text (flotod's form or floto's)."""
    try:
        data = safe_json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"decider spec is not valid JSON: {exc}") from None
    return decider_spec_from_dict(data)
