"""Capped exponential backoff with full jitter, for loops that keep failing against SWF."""

from __future__ import annotations

import random

BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


class Backoff:
    """The next delay after each failure; :meth:`reset` after a success.

    Full jitter spreads the retries of many hosts that lost SWF at the same moment.
    """

    def __init__(self, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return random.uniform(self.base / 2, min(self.cap, self.base * 2 ** min(self.failures, 20)))

    def reset(self) -> None:
        self.failures = 0
