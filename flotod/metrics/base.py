"""The sink instrumented code reports to, and the one that counts nothing.

Instrumented code holds a :class:`Metrics` (the SWF client, the worker, the service process)
and calls it where something worth counting happens. With metrics off that object is
:data:`NO_METRICS`, whose methods do nothing: a task then costs a few no-op method calls, and
prometheus_client is never imported. :class:`flotod.metrics.prometheus.PrometheusMetrics` is
the one that counts.

Label values are always bounded: task lists, operation names, outcomes from a fixed set and
activity types this process serves; never workflow or run ids, which would make a new series
per workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from flotod.swf.histories import HistoryCache
    from flotod.worker.registry import Registry
    from flotod.worker.running import RunningTask

PollKind = Literal["decision", "activity"]
# The log events of flotod.services.decisions, as outcomes: decisions sent; refused as
# invalid and answered with the run's failure instead; not sent (too late, SWF failing); the
# history incomplete (not answered); a run of a version the decider has no spec for (not
# answered); a handler that raised; a large payload's store unreachable (not answered, like
# an incomplete history).
DecisionOutcome = Literal[
    "completed",
    "rejected",
    "not_sent",
    "history_incomplete",
    "unserved_version",
    "crashed",
    "payload_unavailable",
]


class Metrics:
    """Counts nothing; the interface every sink has."""

    def polled(self, kind: PollKind, task: bool) -> None:
        """A long poll returned, with a task or empty."""

    def swf_error(self, operation: str, code: str) -> None:
        """One failed SWF call (each attempt, retried or not); ``operation`` snake_case."""

    def decision_done(self, task_list: str, outcome: DecisionOutcome, seconds: float) -> None:
        """A decision task handled, ``seconds`` from receiving it to SWF's answer."""

    def activity_done(
        self, task_list: str, running: RunningTask, status: str, registry: Registry
    ) -> None:
        """An activity task settled with ``status`` (completed, failed, canceled)."""

    def daemon_notes(self, notes: Sequence[Mapping[str, Any]]) -> None:
        """The notes of one daemon decision: its state note sets the daemon's gauges."""

    def watch_poller(self, in_hand: Callable[[], int]) -> None:
        """Read ``in_hand()`` (tasks being handled) at each scrape."""

    def watch_history(self, cache: HistoryCache | None) -> None:
        """Read the cache's counters at each scrape."""

    def close(self) -> None:
        """Stop serving."""


NO_METRICS = Metrics()
