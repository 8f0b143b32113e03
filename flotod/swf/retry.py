"""How the SWF client waits between attempts: capped exponential backoff with full jitter.

Kept apart from the client so tests (and the worker's own report retries) can share one policy
with an injected sleep and random source, and never wait for real.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: after attempt ``n`` wait uniformly in ``[0, min(cap, base * 2**n))``.

    Full jitter spreads many workers that were throttled together across the whole window,
    instead of having them retry in lockstep and be throttled again.
    """

    max_attempts: int = 6
    base_seconds: float = 0.2
    cap_seconds: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    uniform: Callable[[float, float], float] = field(
        default=random.uniform, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError("backoff times must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** min(attempt, 30)))
        return self.uniform(0.0, ceiling)


NO_RETRY = RetryPolicy(max_attempts=1)
