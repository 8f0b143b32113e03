"""Fault injection for the embedded SWF, off unless asked for.

- Throttling (``make_backend(throttle_share=0.2)``, ``flotod local-swf --inject-throttling
  0.2``): a share of calls is answered with SWF's ThrottlingException, so that tests can prove
  flotod's services ride out a throttled account: back off, retry, lose nothing.
- Decision failures (``make_backend(decision_failure_share=0.2)``, ``flotod local-swf
  --inject-decision-failures 0.2``): a share of ScheduleActivityTask, StartTimer and
  StartChildWorkflowExecution decisions is refused for a rate or an open-count limit, the way
  SWF reports it: the decision's ``...Failed`` event with that cause and a new decision task.
  Tests use it to prove a decider treats these causes as transient.

Each draw is a seeded random sequence, so a run fails the same calls (decisions) in the same
order every time it is repeated with the same sequence.
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


# The transient causes SWF records for each decision it refuses for a rate or a limit
# (API reference: ScheduleActivityTaskFailedEventAttributes, StartTimerFailedEventAttributes,
# StartChildWorkflowExecutionFailedEventAttributes).
DECISION_FAILURE_CAUSES: dict[str, tuple[str, ...]] = {
    "ScheduleActivityTask": ("ACTIVITY_CREATION_RATE_EXCEEDED", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"),
    "StartTimer": ("TIMER_CREATION_RATE_EXCEEDED", "OPEN_TIMERS_LIMIT_EXCEEDED"),
    "StartChildWorkflowExecution": ("CHILD_CREATION_RATE_EXCEEDED", "OPEN_CHILDREN_LIMIT_EXCEEDED"),
}


class DecisionFaults:
    """Decides, decision by decision, whether SWF refuses it and with which cause."""

    def __init__(self, share: float, seed: int = 0) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"decision failure share must be between 0 and 1, got {share!r}")
        self.share = share
        self.failed = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, decision_type: str) -> str | None:
        """The cause to refuse this decision with, or None to apply it."""
        causes = DECISION_FAILURE_CAUSES.get(decision_type)
        if not causes or self.share <= 0.0:
            return None
        with self._lock:
            if self._random.random() >= self.share:
                return None
            self.failed += 1
            return causes[self._random.randrange(len(causes))]


def throttling_error() -> tuple[int, bytes]:
    """SWF's answer to a throttled call: status and JSON body."""
    body = {"__type": THROTTLING_TYPE, "message": THROTTLING_MESSAGE}
    return THROTTLING_STATUS, json.dumps(body).encode()
