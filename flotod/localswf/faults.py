"""Fault injection for the embedded SWF: answer a share of calls with SWF's throttling error.

Off unless asked for (``make_backend(throttle_share=0.2)``, ``flotod local-swf
--inject-throttling 0.2``). It exists so that tests can prove flotod's services ride out a
throttled account the way they must on AWS: back off, retry, lose nothing. The draw is a seeded
random sequence, so a run throttles the same calls in the same order every time it is repeated
with the same call sequence.
"""

from __future__ import annotations

import json
import random
import threading

# What SWF answers when an account's token bucket is empty (HTTP 400, AWS JSON 1.0 error shape).
THROTTLING_STATUS = 400
THROTTLING_TYPE = "com.amazon.coral.availability#ThrottlingException"
THROTTLING_MESSAGE = "Rate exceeded"


class Throttle:
    """Decides, call by call, whether this call is throttled; thread-safe."""

    def __init__(self, share: float, seed: int = 0) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"throttle share must be between 0 and 1, got {share!r}")
        self.share = share
        self.throttled = 0
        self.calls = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def hit(self) -> bool:
        """True when this call is to be answered with a ThrottlingException."""
        if self.share <= 0.0:
            return False
        with self._lock:
            self.calls += 1
            if self._random.random() < self.share:
                self.throttled += 1
                return True
            return False


def throttling_error() -> tuple[int, bytes]:
    """SWF's answer to a throttled call: status and JSON body."""
    body = {"__type": THROTTLING_TYPE, "message": THROTTLING_MESSAGE}
    return THROTTLING_STATUS, json.dumps(body).encode()
