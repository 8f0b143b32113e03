"""Polls of a decider's own (sticky) list: startAtPreviousStartedEvent, joined to the cache.

Whatever the cache held, each task's history is exactly the run's history up to that task."""

from __future__ import annotations

import pytest

from flotod.swf import SwfClient
from flotod.swf.histories import HistoryCache
from tests.swf.test_histories import Recorder, _whole

STICKY = "decide-sticky-me"


@pytest.fixture
def client(swf_endpoint: str, unique_domain: str) -> SwfClient:
    swf = SwfClient(swf_endpoint, "us-east-1", access_key_id="local", secret_access_key="local")
    swf.register_domain(unique_domain)
    swf.register_workflow_type(unique_domain, "wf", "1", task_list="decide")
    return swf


def test_sticky_tasks_fetch_only_the_events_since_the_previous_task(
    client: SwfClient, swf_endpoint: str, unique_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = HistoryCache()
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    task = client.poll_for_decision_task(unique_domain, "decide", history=cache)
    assert task is not None
    calls = Recorder(client, monkeypatch)
    for signals in (3, 300, 1):
        client.respond_decision_task_completed(
            task.task_token, [], task_list=STICKY, schedule_to_start=5
        )
        for n in range(signals):
            client.signal_workflow_execution(unique_domain, "w1", f"s{n}")
        calls.take()
        task = client.poll_for_decision_task(
            unique_domain, STICKY, history=cache, since_previous=True
        )
        assert task is not None
        assert task.events == _whole(swf_endpoint, unique_domain, task)
        assert calls.take() == ["poll_for_decision_task"]  # one call, whatever the history
    assert cache.hits == 3 and cache.misses == 1


def test_a_sticky_task_the_cache_forgot_reads_the_whole_history(
    client: SwfClient, swf_endpoint: str, unique_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.start_workflow_execution(unique_domain, "w1", "wf", "1", input={})
    task = client.poll_for_decision_task(unique_domain, "decide", history=HistoryCache())
    assert task is not None
    client.respond_decision_task_completed(task.task_token, [], task_list=STICKY)
    for n in range(20):
        client.signal_workflow_execution(unique_domain, "w1", f"s{n}")
    calls = Recorder(client, monkeypatch)
    empty = HistoryCache()  # e.g. a restarted process polling the same list
    task = client.poll_for_decision_task(unique_domain, STICKY, history=empty, since_previous=True)
    assert task is not None
    assert task.events == _whole(swf_endpoint, unique_domain, task)
    assert calls.take() == ["poll_for_decision_task", "get_workflow_execution_history"]
    assert empty.known("w1", task.workflow_execution.run_id) == task.started_event_id
