"""Which functions a worker can run: an explicit registry filled by ``@activity``/``@generator``.

The decorators return the function itself, so activities stay plain functions that tests can
call directly. A worker serves one registry: the default one, or any registry passed to it.

The decorators' timeouts and task list are what the worker registers as the activity type's
defaults (flotod.services.registration); None leaves flotod's own default.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from flotod.errors import FlotodError, SpecError
from flotod.specs.limits import NO_LIMIT, check_task_list, check_timeout

F = TypeVar("F", bound=Callable[..., Any])
Kind = Literal["activity", "generator"]


class RegistrationError(FlotodError, ValueError):
    """The same activity name and version was registered twice."""


@dataclass(frozen=True)
class ActivityDefinition:
    """A registered function and how to call it."""

    name: str
    version: str
    func: Callable[..., Any]
    kind: Kind
    takes_context: bool
    # Seconds, "NONE" for no limit, or None for flotod's default (see TypeDef).
    start_to_close_timeout: int | str | None = None
    schedule_to_start_timeout: int | str | None = None
    schedule_to_close_timeout: int | str | None = None
    heartbeat_timeout: int | str | None = None
    task_list: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


TIMEOUT_FIELDS = (
    "start_to_close_timeout",
    "schedule_to_start_timeout",
    "schedule_to_close_timeout",
    "heartbeat_timeout",
)


def _checked(name: str, version: str, defaults: dict[str, Any]) -> dict[str, Any]:
    owner = f"activity {name}:{version}"
    try:
        out: dict[str, Any] = {
            key: check_timeout(owner, key, defaults.get(key)) for key in TIMEOUT_FIELDS
        }
        out["task_list"] = check_task_list(owner, "task_list", defaults.get("task_list"))
    except SpecError as exc:
        raise RegistrationError(str(exc)) from None
    unknown = set(defaults) - {*TIMEOUT_FIELDS, "task_list"}
    if unknown:
        raise RegistrationError(f"{owner}: unknown default(s) {sorted(unknown)}")
    return out


def belongs(definition: ActivityDefinition, modules: Iterable[str]) -> bool:
    """Defined in one of ``modules`` (or a submodule), or exported by one of them."""
    home = definition.func.__module__
    for name in modules:
        if home == name or home.startswith(name + "."):
            return True
        module = sys.modules.get(name)
        if module is not None and definition.func in vars(module).values():
            return True
    return False


def unmet_heartbeat(definition: ActivityDefinition, heartbeat_seconds: int) -> str | None:
    """Why a worker beating every ``heartbeat_seconds`` cannot meet the activity's own
    heartbeat timeout (every run would time out), or None when it can.

    A timeout shorter than two intervals leaves no room for one late beat; with 0 the worker
    sends only the first beat, so any finite timeout expires during a long run.
    """
    timeout = definition.heartbeat_timeout
    if timeout is None or timeout == NO_LIMIT or not isinstance(timeout, int):
        return None
    label = f"activity {definition.name}:{definition.version}"
    if heartbeat_seconds == 0:
        return (
            f"{label}: heartbeat_timeout={timeout} s cannot be met with heartbeat_seconds = 0 "
            f"(no heartbeats after the first): set heartbeat_seconds to at most {timeout // 2} "
            'or the decorator\'s heartbeat_timeout to "NONE" or None'
        )
    if timeout < 2 * heartbeat_seconds:
        return (
            f"{label}: heartbeat_timeout={timeout} s is shorter than 2 x heartbeat_seconds "
            f"= {2 * heartbeat_seconds} s: set heartbeat_seconds to at most {timeout // 2} or "
            f"raise the decorator's heartbeat_timeout to at least {2 * heartbeat_seconds}"
        )
    return None


def _takes_context(func: Callable[..., Any]) -> bool:
    """True when ``func`` accepts one positional argument (the context), False for none."""
    params = list(inspect.signature(func).parameters.values())
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    required = [p for p in positional if p.default is p.empty and p.kind != p.VAR_POSITIONAL]
    if len(required) > 1:
        raise RegistrationError(
            f"{func.__qualname__} takes {len(required)} arguments; an activity takes either "
            "a single context argument or none"
        )
    return bool(positional)


class Registry:
    """Activities and generators by (name, version)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ActivityDefinition] = {}

    def register(
        self,
        name: str,
        version: str,
        func: Callable[..., Any],
        kind: Kind = "activity",
        **defaults: int | str | None,
    ) -> ActivityDefinition:
        """``defaults``: the decorator's timeouts and task_list, checked against SWF's limits."""
        if not name or not version:
            raise RegistrationError("an activity needs a non-empty name and version")
        definition = ActivityDefinition(
            name, version, func, kind, _takes_context(func), **_checked(name, version, defaults)
        )
        existing = self._items.get((name, version))
        if existing is not None:
            raise RegistrationError(
                f"activity {name!r} version {version!r} is registered twice: by "
                f"{existing.qualified_name} and by {definition.qualified_name}"
            )
        self._items[(name, version)] = definition
        return definition

    def get(self, name: str, version: str) -> ActivityDefinition | None:
        return self._items.get((name, version))

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[ActivityDefinition]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)


default_registry = Registry()


def _registering(
    kind: Kind,
    name: str,
    version: str,
    registry: Registry | None,
    **defaults: int | str | None,
) -> Callable[[F], F]:
    """The decorator :func:`activity` and :func:`generator` return: registers, returns the
    function unchanged."""

    def decorate(func: F) -> F:
        (default_registry if registry is None else registry).register(
            name, version, func, kind, **defaults
        )
        return func

    return decorate


def activity(
    name: str,
    version: str,
    *,
    start_to_close_timeout: int | str | None = None,
    schedule_to_start_timeout: int | str | None = None,
    schedule_to_close_timeout: int | str | None = None,
    heartbeat_timeout: int | str | None = None,
    task_list: str | None = None,
    registry: Registry | None = None,
) -> Callable[[F], F]:
    """Register the decorated function as activity ``name``/``version``; return it unchanged.

    The timeouts (seconds, or "NONE" for no limit) and ``task_list`` become the activity
    type's registered defaults; None keeps flotod's: start-to-close and schedule-to-start
    3600 s, schedule-to-close 7200 s, heartbeat max(300, 3 x heartbeat_seconds) (no limit
    when the worker's heartbeat_seconds is 0), and the worker's task list.
    """

    return _registering(
        "activity", name, version, registry,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        task_list=task_list,
    )  # fmt: skip


def generator(
    name: str,
    version: str,
    *,
    start_to_close_timeout: int | str | None = None,
    schedule_to_start_timeout: int | str | None = None,
    schedule_to_close_timeout: int | str | None = None,
    heartbeat_timeout: int | str | None = None,
    task_list: str | None = None,
    registry: Registry | None = None,
) -> Callable[[F], F]:
    """Register a generator: an activity returning a list of flotod.specs tasks. The
    timeouts and task list are registered as for :func:`activity`."""

    return _registering(
        "generator", name, version, registry,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        task_list=task_list,
    )  # fmt: skip
