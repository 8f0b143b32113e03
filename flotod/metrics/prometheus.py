"""The metrics a service exposes, on a registry of its own.

One registry per :class:`PrometheusMetrics` rather than prometheus_client's global default:
tests create many services and workers in one interpreter, and a second registration of a
name in the default registry is an error. Counters are incremented where things happen (one
increment per task); what other objects already count (the history cache, the tasks in hand)
is read at scrape time instead, costing the hot path nothing.

Uses no prometheus_client API newer than 0.16 (Debian 12's python3-prometheus-client).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from flotod import __version__
from flotod.engine.daemon import STATE_NOTE
from flotod.metrics.base import DecisionOutcome, Metrics, PollKind
from flotod.metrics.process import SandboxedProcessCollector

if TYPE_CHECKING:
    from flotod.metrics.server import MetricsServer
    from flotod.swf.histories import HistoryCache
    from flotod.worker.registry import Registry
    from flotod.worker.running import RunningTask

# Activities run for milliseconds to hours; decisions should take milliseconds.
ACTIVITY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, float("inf"))
DECISION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf"))
UNREGISTERED = "unregistered"  # the activity label of a type this worker does not serve


class PrometheusMetrics(Metrics):
    """The metrics of one service process; ``kind`` decides which families exist."""

    def __init__(self, kind: str, instance: str, proc: str = "/proc") -> None:
        self.registry = CollectorRegistry()
        self.server: MetricsServer | None = None
        reg = self.registry
        SandboxedProcessCollector(proc=proc, registry=reg)
        Info("flotod_service", "The service this process runs.", registry=reg).info(
            {"kind": kind, "instance": instance, "version": __version__}
        )
        self.polls = Counter(
            "flotod_polls",
            "Long polls that returned, by task kind and whether they brought a task.",
            ["kind", "outcome"],
            registry=reg,
        )
        self.swf_errors = Counter(
            "flotod_swf_errors",
            "Failed SWF calls, every attempt, by API operation and error code: "
            "ThrottlingException is SWF's rate limits; TypeAlreadyExistsFault at registration "
            "and WorkflowExecutionAlreadyStartedFault from the daemon's check are expected.",
            ["operation", "code"],
            registry=reg,
        )
        self.decisions = Counter(
            "flotod_decision_tasks",
            "Decision tasks handled: completed (decisions sent), rejected (SWF refused them as "
            "invalid; the run was failed instead), not_sent (the task had timed out, or SWF "
            "kept failing), history_incomplete (left to time out and be read whole), "
            "unserved_version (a workflow type version the decider has no spec for, left to "
            "time out), crashed (the decider raised), payload_unavailable (a large payload's "
            "store could not be reached; left to time out and be decided again).",
            ["task_list", "outcome"],
            registry=reg,
        )
        self.decision_seconds = Histogram(
            "flotod_decision_seconds",
            "From receiving a decision task to SWF's answer to the decisions.",
            ["task_list"],
            buckets=DECISION_BUCKETS,
            registry=reg,
        )
        self.activities = Counter(
            "flotod_activity_tasks",
            "Activity tasks settled: completed, failed, canceled, or timed_out (SWF no longer "
            'knew the task when the worker heard back). activity is "name:version" of a '
            f'served type, or "{UNREGISTERED}".',
            ["task_list", "activity", "outcome"],
            registry=reg,
        )
        self.activity_seconds = Histogram(
            "flotod_activity_seconds",
            "From receiving an activity task to settling it.",
            ["activity"],
            buckets=ACTIVITY_BUCKETS,
            registry=reg,
        )
        self.lanes_busy = Gauge(
            "flotod_lanes_busy", "Tasks being handled now (busy lanes).", registry=reg
        )
        self.children_open: Gauge | None = None
        self.requests_waiting: Gauge | None = None
        if kind == "daemon":
            self.children_open = Gauge(
                "flotod_daemon_children_open",
                "Child workflows the daemon workflow had open at its last decision here.",
                registry=reg,
            )
            self.requests_waiting = Gauge(
                "flotod_daemon_requests_waiting",
                "Signalled requests waiting for a free child slot at the last decision here.",
                registry=reg,
            )

    # -- counted where they happen -----------------------------------------------------------
    def polled(self, kind: PollKind, task: bool) -> None:
        self.polls.labels(kind, "task" if task else "empty").inc()

    def swf_error(self, operation: str, code: str) -> None:
        self.swf_errors.labels(_api_name(operation), code).inc()

    def decision_done(self, task_list: str, outcome: DecisionOutcome, seconds: float) -> None:
        self.decisions.labels(task_list, outcome).inc()
        self.decision_seconds.labels(task_list).observe(seconds)

    def activity_done(
        self, task_list: str, running: RunningTask, status: str, registry: Registry
    ) -> None:
        info = running.info
        served = registry.get(info.name, info.version) is not None
        activity = f"{info.name}:{info.version}" if served else UNREGISTERED
        outcome = "timed_out" if running.unknown else status
        self.activities.labels(task_list, activity, outcome).inc()
        self.activity_seconds.labels(activity).observe(time.monotonic() - running.started)

    def daemon_notes(self, notes: Sequence[Mapping[str, Any]]) -> None:
        if self.children_open is None or self.requests_waiting is None:
            return
        for note in notes:
            if note.get("event") == STATE_NOTE:
                self.children_open.set(int(note.get("children", 0)))
                self.requests_waiting.set(int(note.get("waiting", 0)))

    # -- read at scrape time -----------------------------------------------------------------
    def watch_poller(self, in_hand: Callable[[], int]) -> None:
        self.lanes_busy.set_function(in_hand)

    def watch_history(self, cache: HistoryCache | None) -> None:
        if cache is not None:
            self.registry.register(_HistoryCollector(cache))

    def exposition(self) -> bytes:
        """What a scrape returns (the text format)."""
        return generate_latest(self.registry)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


class _HistoryCollector:
    """The decision poller's history cache, as it is at the scrape."""

    def __init__(self, cache: HistoryCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        cache = self.cache
        yield GaugeMetricFamily(
            "flotod_history_cache_events",
            "History events held in memory (about 2 KB each).",
            value=cache.events,
        )
        yield CounterMetricFamily(
            "flotod_history_cache_hits",
            "Decision tasks whose run's earlier events were held: only news was fetched.",
            value=cache.hits,
        )
        yield CounterMetricFamily(
            "flotod_history_cache_misses",
            "Decision tasks whose run was not held: the history was read whole.",
            value=cache.misses,
        )


def _api_name(operation: str) -> str:
    """``poll_for_decision_task`` -> ``PollForDecisionTask``, as SWF's API reference names it."""
    return "".join(part.capitalize() for part in operation.split("_"))
