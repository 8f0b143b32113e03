"""Retry strategies: how many times a failed task is tried again, and how long to wait first.

The decider is a pure function of the history, so strategies may not use the clock or a random
generator: every delay derives from the task id and the attempt number alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from flotod.errors import SpecError
from flotod.specs.canonical import stable_fraction
from flotod.specs.limits import MAX_SECONDS, check_number, check_seconds


def _check_int(owner: str, field: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{owner}: {field} must be an integer >= {minimum}, got {value!r}")
    return value


class RetryStrategy(ABC):
    """A rule for failed tasks; ``failures`` counts failed attempts so far (1 after the first)."""

    type_name: ClassVar[str]
    retries: int

    def is_exhausted(self, failures: int) -> bool:
        """True once ``failures`` exceeds the retries allowed after the first attempt."""
        return failures > self.retries

    @abstractmethod
    def delay_seconds(self, task_id: str, failures: int) -> int:
        """Whole seconds to wait before the next attempt; 0 retries at once."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form's fields, without the ``type`` tag."""

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RetryStrategy)
            and type(other) is type(self)
            and self.to_dict() == other.to_dict()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.to_dict().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({args})"


class InstantRetry(RetryStrategy):
    """floto's strategy: schedule the task again immediately, up to ``retries`` times."""

    type_name = "InstantRetry"

    def __init__(self, retries: int) -> None:
        self.retries = _check_int("InstantRetry", "retries", retries, 0)

    def delay_seconds(self, task_id: str, failures: int) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"retries": self.retries}


class ExponentialRetry(RetryStrategy):
    """Wait ``initial * coefficient**(failures-1)`` seconds (capped) before each retry.

    ``jitter`` spreads retries of many tasks that failed together: the delay is scaled by a
    factor in ``[1 - jitter, 1]`` drawn from the task id and attempt, so every decider replaying
    the same history computes the same delay.
    """

    type_name = "ExponentialRetry"

    def __init__(
        self,
        retries: int,
        initial_delay_seconds: int,
        backoff_coefficient: float = 2.0,
        max_delay_seconds: int = 3600,
        jitter: float = 0.0,
    ) -> None:
        owner = "ExponentialRetry"
        self.retries = _check_int(owner, "retries", retries, 0)
        self.initial_delay_seconds = check_seconds(
            owner, "initial_delay_seconds", initial_delay_seconds
        )
        self.backoff_coefficient = check_number(
            owner, "backoff_coefficient", backoff_coefficient, 1.0
        )
        self.max_delay_seconds = check_seconds(owner, "max_delay_seconds", max_delay_seconds)
        self.jitter = check_number(owner, "jitter", jitter, 0.0)
        if self.jitter > 1.0:
            raise SpecError(f"{owner}: jitter must be between 0 and 1, got {jitter!r}")

    def delay_seconds(self, task_id: str, failures: int) -> int:
        """Never above ``max_delay_seconds`` (itself within SWF's 8 digits), however many
        failures: a large power overflows to the cap instead of raising."""
        if not self.initial_delay_seconds:
            return 0
        cap = float(self.max_delay_seconds)
        try:
            grown = self.initial_delay_seconds * self.backoff_coefficient ** max(failures - 1, 0)
        except OverflowError:
            grown = cap
        raw = min(cap, grown)
        if self.jitter:
            raw *= 1.0 - self.jitter * stable_fraction(task_id, str(failures))
        return min(max(round(raw), 1), MAX_SECONDS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "retries": self.retries,
            "initial_delay_seconds": self.initial_delay_seconds,
            "backoff_coefficient": self.backoff_coefficient,
            "max_delay_seconds": self.max_delay_seconds,
            "jitter": self.jitter,
        }
