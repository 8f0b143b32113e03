"""Which functions a worker can run: an explicit registry filled by ``@activity``/``@generator``.

The decorators return the function itself, so activities stay plain functions that tests can
call directly. A worker serves one registry: the default one, or any registry passed to it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from flotod.errors import FlotodError

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

    @property
    def qualified_name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


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
        self, name: str, version: str, func: Callable[..., Any], kind: Kind = "activity"
    ) -> ActivityDefinition:
        if not name or not version:
            raise RegistrationError("an activity needs a non-empty name and version")
        definition = ActivityDefinition(name, version, func, kind, _takes_context(func))
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


def activity(name: str, version: str, *, registry: Registry | None = None) -> Callable[[F], F]:
    """Register the decorated function as activity ``name``/``version``; return it unchanged."""

    def decorate(func: F) -> F:
        (default_registry if registry is None else registry).register(
            name, version, func, "activity"
        )
        return func

    return decorate


def generator(name: str, version: str, *, registry: Registry | None = None) -> Callable[[F], F]:
    """Register a generator: an activity returning a list of flotod.specs tasks."""

    def decorate(func: F) -> F:
        (default_registry if registry is None else registry).register(
            name, version, func, "generator"
        )
        return func

    return decorate
