"""The decider's history cache: pure joins and bounds, then real polls of the embedded SWF.

The polls are checked against the one thing that matters: every decision task's history is
exactly the run's history up to that task, whatever the cache held or missed.
"""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from flotod.swf import SwfClient
from flotod.swf.histories import (
    MAX_PAGE,
    MIN_PAGE,
    PAYLOAD_EVENT_CHARS,
    HistoryCache,
    HistoryMismatch,
)
from flotod.swf.types import DecisionTask
from tests.conftest import endpoint_client


def _events(first: int, last: int) -> list[dict[str, Any]]:
    return [{"eventId": n, "eventType": "X"} for n in range(first, last + 1)]


def _newest_first(first: int, last: int) -> list[dict[str, Any]]:
    return list(reversed(_events(first, last)))


# -- the cache alone ---------------------------------------------------------------------------


def test_a_miss_holds_the_whole_history_and_a_hit_adds_only_the_new_events() -> None:
    cache = HistoryCache()
    first = cache.join("w", "r", _newest_first(1, 3))
    assert [e["eventId"] for e in first] == [1, 2, 3]
    assert (cache.hits, cache.misses, cache.known("w", "r")) == (0, 1, 3)
    # The next task's page overlaps the held events; the overlap is taken once.
    second = cache.join("w", "r", _newest_first(2, 9))
    assert [e["eventId"] for e in second] == list(range(1, 10))
    assert (cache.hits, cache.misses, cache.events) == (1, 1, 9)
    assert [e["eventId"] for e in first] == [1, 2, 3], "a returned list is never changed"


def test_pages_that_leave_a_gap_are_refused() -> None:
    cache = HistoryCache()
    cache.join("w", "r", _newest_first(1, 3))
    with pytest.raises(HistoryMismatch, match="back to event 6, but only events 1-3"):
        cache.join("w", "r", _newest_first(6, 9))
    with pytest.raises(HistoryMismatch, match="not one history"):
        cache.join("w", "r", [{"eventId": 9}, {"eventId": 4}])
    with pytest.raises(HistoryMismatch, match="without events"):
        cache.join("w", "r", [])
    assert cache.known("w", "r") == 3, "a refused join leaves the held history alone"


def test_least_recently_used_runs_go_first_when_events_exceed_the_bound() -> None:
    cache = HistoryCache(max_events=10)
    cache.join("w", "a", _newest_first(1, 4))
    cache.join("w", "b", _newest_first(1, 4))
    cache.join("w", "a", _newest_first(4, 5))  # a is now the most recent
    cache.join("w", "c", _newest_first(1, 4))
    assert (cache.known("w", "a"), cache.known("w", "b"), cache.known("w", "c")) == (5, 0, 4)
    assert cache.events == 9 and len(cache) == 2
    cache.put("w", "huge", _events(1, 11))  # larger than the whole cache: not held
    assert cache.known("w", "huge") == 0 and cache.events == 9
    cache.drop("w", "a")
    assert cache.events == 4 and cache.known("w", "a") == 0
    with pytest.raises(ValueError, match="at least 1"):
        HistoryCache(max_events=0)


def test_resolved_payloads_are_held_once_and_weigh_what_they_hold() -> None:
    """The poller resolves only what follows the resolved events, and a held history with
    large values counts them against the bound (one event per PAYLOAD_EVENT_CHARS)."""
    cache = HistoryCache(max_events=50)
    polled = cache.join("w", "r", _newest_first(1, 3))
    assert cache.resolved("w", "r", polled) == 0
    resolved = [*polled[:2], {"eventId": 3, "eventType": "X", "value": "v" * 10_000}]
    cache.settle("w", "r", polled, resolved, 10_000)
    assert cache.events == 3 + 5  # 10,000 characters weigh 5 events
    polled = cache.join("w", "r", _newest_first(3, 6))  # overlaps the last held event
    assert polled[:2] == resolved[:2] and polled[2] is not resolved[2]
    assert cache.resolved("w", "r", polled) == 2
    assert cache.resolved("w", "r", list(polled)) == 0, "only the list held counts"
    cache.settle("w", "r", list(polled), polled, 0)  # not what is held: ignored
    assert cache.resolved("w", "r", polled) == 2
    cache.settle("w", "r", polled, polled, 0)
    assert cache.resolved("w", "r", polled) == 6 and cache.events == 6 + 5
    big = [*polled, {"eventId": 7, "eventType": "X"}]
    cache.put("w", "r", big)
    cache.settle("w", "r", big, big, 100 * PAYLOAD_EVENT_CHARS)  # more than the whole bound
    assert cache.known("w", "r") == 0


def test_the_page_follows_what_polls_needed() -> None:
    cache = HistoryCache()
    for run in range(50):  # one decider: each run's later tasks need a few events
        cache.join("w", str(run), _newest_first(1, 3))
        cache.join("w", str(run), _newest_first(3, 8))
    assert cache.page_size() == MIN_PAGE
    many = HistoryCache()
    for run in range(60):  # many deciders: every task is a miss of a 400-event history
        many.join("w", str(run), _newest_first(1, 400))
    assert 700 <= many.page_size() <= MAX_PAGE


# -- real polls of the embedded SWF ------------------------------------------------------------


class Recorder:
    """Wraps SwfClient.call to record each operation and the parameters it was called with."""

    def __init__(self, swf: SwfClient, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        real = swf.call

        def call(operation: str, **params: Any) -> dict[str, Any]:
            self.calls.append((operation, params))
            return real(operation, **params)

        monkeypatch.setattr(swf, "call", call)

    def take(self) -> list[str]:
        names = [name for name, _ in self.calls]
        self.calls.clear()
        return names


@pytest.fixture
def client(swf_endpoint: str, unique_domain: str) -> SwfClient:
    swf = SwfClient(swf_endpoint, "us-east-1", access_key_id="local", secret_access_key="local")
    swf.register_domain(unique_domain)
    swf.register_workflow_type(unique_domain, "wf", "1", task_list="decide")
    return swf


def _decide_with_signals(
    swf: SwfClient, domain: str, cache: HistoryCache, signals: int
) -> DecisionTask:
    """Answer the pending task with nothing, signal ``signals`` times, poll again."""
    task = swf.poll_for_decision_task(domain, "decide", history=cache)
    assert task is not None
    swf.respond_decision_task_completed(task.task_token, [])
    for n in range(signals):
        swf.signal_workflow_execution(domain, "w1", f"s{n}", input={"n": n})
    nxt = swf.poll_for_decision_task(domain, "decide", history=cache)
    assert nxt is not None
    return nxt


def _whole(swf_endpoint: str, domain: str, task: DecisionTask) -> list[dict[str, Any]]:
    execution = task.workflow_execution
    events = endpoint_client(swf_endpoint).get_workflow_execution_history(
        domain=domain, execution=execution.to_api()
    )["events"]
    return [e for e in events if e["eventId"] <= task.started_event_id]


def test_later_tasks_fetch_only_their_new_events(
    client: SwfClient, swf_endpoint: str, unique_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = HistoryCache()
    calls = Recorder(client, monkeypatch)
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    for signals in (2, 150, 1):
        task = _decide_with_signals(client, unique_domain, cache, signals)
        assert task.events == _whole(swf_endpoint, unique_domain, task)
        client.respond_decision_task_completed(task.task_token, [])
        client.signal_workflow_execution(unique_domain, "w1", "again")
    polls = [p for name, p in calls.calls if name == "poll_for_decision_task"]
    assert all(p["reverseOrder"] is True for p in polls)
    assert cache.misses == 1, "only the run's first task found nothing held"
    assert cache.hits == 5
    # The 150 new events were more than a page of the adapted size: one more poll page, or one
    # history call (events from 1), whichever takes fewer calls, and polls when they tie.
    assert len(polls) == 7
    assert [name for name, _ in calls.calls].count("get_workflow_execution_history") == 0
    assert cache.known("w1", task.workflow_execution.run_id) == task.started_event_id


def test_a_cold_cache_reads_a_long_history_in_few_calls(
    client: SwfClient, swf_endpoint: str, unique_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another decider took the earlier tasks: the missing events come in pages of 1,000."""
    other = HistoryCache()
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    earlier = _decide_with_signals(client, unique_domain, other, 250)
    client.respond_decision_task_completed(earlier.task_token, [])
    client.signal_workflow_execution(unique_domain, "w1", "last")
    cold = HistoryCache()
    assert cold.page_size() == MIN_PAGE
    calls = Recorder(client, monkeypatch)
    task = client.poll_for_decision_task(unique_domain, "decide", history=cold)
    assert task is not None
    assert task.events == _whole(swf_endpoint, unique_domain, task)
    assert len(task.events) > 250
    # One poll page, then the rest in one history call rather than two more poll pages.
    assert calls.take() == ["poll_for_decision_task", "get_workflow_execution_history"]
    assert cold.known("w1", task.workflow_execution.run_id) == len(task.events)


def test_a_cold_cache_pages_the_poll_when_that_is_as_cheap(
    client: SwfClient, swf_endpoint: str, unique_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    earlier = _decide_with_signals(client, unique_domain, HistoryCache(), 100)
    cold = HistoryCache()
    client.respond_decision_task_completed(earlier.task_token, [])
    client.signal_workflow_execution(unique_domain, "w1", "last")
    calls = Recorder(client, monkeypatch)
    task = client.poll_for_decision_task(unique_domain, "decide", history=cold)
    assert task is not None
    assert MIN_PAGE < len(task.events) <= 2 * MIN_PAGE
    assert task.events == _whole(swf_endpoint, unique_domain, task)
    assert calls.take() == ["poll_for_decision_task", "poll_for_decision_task"]


def test_held_events_that_do_not_fit_fall_back_to_the_whole_history(
    client: SwfClient, swf_endpoint: str, unique_domain: str
) -> None:
    cache = HistoryCache()
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    earlier = _decide_with_signals(client, unique_domain, cache, 150)  # longer than a page
    run_id = earlier.workflow_execution.run_id
    broken = [dict(e) for e in earlier.events]
    broken[0]["eventId"] = 99  # not a history: the join must notice, not decide on it
    cache.put("w1", run_id, broken)
    client.respond_decision_task_completed(earlier.task_token, [])
    client.signal_workflow_execution(unique_domain, "w1", "x")
    with capture_logs() as logs:
        task = client.poll_for_decision_task(unique_domain, "decide", history=cache)
    assert task is not None
    assert task.events == _whole(swf_endpoint, unique_domain, task)
    assert [r["event"] for r in logs] == ["history.mismatch"]
    assert "not one history" in logs[0]["error"]
    assert cache.known("w1", run_id) == 0


def test_an_endpoint_that_ignores_reverse_order_still_gives_whole_histories(
    swf: SwfClient,
) -> None:
    """moto answers in ascending order whatever was asked; the client notices and joins."""
    from tests.swf.conftest import DOMAIN

    swf.register_workflow_type(DOMAIN, "wf", "1", task_list="decide")
    run_id = swf.start_workflow_execution(DOMAIN, "w1", "wf", "1", input={})
    cache = HistoryCache()
    task = swf.poll_for_decision_task(DOMAIN, "decide", history=cache)
    assert task is not None
    assert [e["eventId"] for e in task.events] == [1, 2, 3]
    assert task.events[0]["eventType"] == "WorkflowExecutionStarted"
    assert cache.known("w1", run_id) == 3


def test_the_services_forget_a_run_their_decisions_closed() -> None:
    from flotod.services.decisions import forget_if_closed
    from flotod.swf.types import WorkflowExecution

    cache = HistoryCache()
    cache.join("w", "r", _newest_first(1, 3))
    task = DecisionTask("tok", WorkflowExecution("w", "r"), {"name": "wf"}, [], 3)
    forget_if_closed(cache, task, [{"decisionType": "ScheduleActivityTask"}])
    assert cache.known("w", "r") == 3
    forget_if_closed(cache, task, [{"decisionType": "CompleteWorkflowExecution"}])
    assert cache.known("w", "r") == 0
    forget_if_closed(None, task, [{"decisionType": "CompleteWorkflowExecution"}])
