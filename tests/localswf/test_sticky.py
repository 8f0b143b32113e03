"""Sticky decision task lists, as the SWF API reference describes them.

- RespondDecisionTaskCompleted ``taskList``: "The task list to use for the future decision
  tasks of this workflow execution. This list overrides the original task list you specified
  while starting the workflow execution."
- ``taskListScheduleToStartTimeout``: "When this parameter is missing, the task list override
  is permanent. [...] If a decision task scheduled on the override task list is not started
  within the timeout, the decision task will time out. Amazon SWF will revert the override and
  schedule a new decision task to the original task list." The same when it is started but not
  completed within the start-to-close timeout.
- PollForDecisionTask ``startAtPreviousStartedEvent``: "returns the events with
  eventTimestamp greater than or equal to eventTimestamp of the most recent
  DecisionTaskStarted event" (the previous task's: previousStartedEventId).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localswf.helpers import (
    DECISIONS,
    DOMAIN,
    attrs,
    history,
    poll_decision,
    setup_domain,
    start,
    types,
)

STICKY = "deciders.sticky.host-1"


def _respond(client: Any, task: dict[str, Any], **kwargs: Any) -> None:
    client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[], **kwargs)


def _signal(client: Any, name: str = "go") -> None:
    client.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName=name, input="")


def _empty(client: Any, task_list: str) -> bool:
    task = client.poll_for_decision_task(domain=DOMAIN, taskList={"name": task_list})
    return not task.get("taskToken")


def _scheduled(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [attrs(e) for e in events if e["eventType"] == "DecisionTaskScheduled"]


def test_override_routes_the_next_tasks_to_the_named_list(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    _respond(swf_client, poll_decision(swf_client), taskList={"name": STICKY})
    _signal(swf_client)
    assert _empty(swf_client, DECISIONS)
    task = poll_decision(swf_client, task_list=STICKY)
    # permanent (no timeout): the task after that one goes there too
    _respond(swf_client, task)
    _signal(swf_client, "again")
    task = poll_decision(swf_client, task_list=STICKY)
    scheduled = _scheduled(history(swf_client, "wf-1", run_id))
    assert [s["taskList"]["name"] for s in scheduled] == [DECISIONS, STICKY, STICKY]
    assert all("scheduleToStartTimeout" not in s for s in scheduled)
    # naming the run's own list ends the override
    _respond(swf_client, task, taskList={"name": DECISIONS})
    _signal(swf_client, "back")
    poll_decision(swf_client)
    description = swf_client.describe_workflow_execution(
        domain=DOMAIN, execution={"workflowId": "wf-1", "runId": run_id}
    )
    assert description["executionConfiguration"]["taskList"]["name"] == DECISIONS


def _poll_once(client: Any) -> dict[str, Any]:
    task: dict[str, Any] = client.poll_for_decision_task(
        domain=DOMAIN, taskList={"name": DECISIONS}
    )
    return task


def test_a_task_not_started_in_time_times_out_and_reverts(swf_client: Any) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    _respond(
        swf_client,
        poll_decision(swf_client),
        taskList={"name": STICKY},
        taskListScheduleToStartTimeout="1",
    )
    _signal(swf_client)
    began = time.monotonic()
    # Nobody polls STICKY: it comes back on the original list after the 1 s timeout. A poll
    # that returns empty first (the test endpoint's polls are short) is polled again.
    while not (task := _poll_once(swf_client)).get("taskToken"):
        assert time.monotonic() - began < 10, "the task never came back"
    waited = time.monotonic() - began
    assert 0.8 < waited < 5
    events = history(swf_client, "wf-1", run_id)
    assert types(events)[-5:] == [
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled",
        "DecisionTaskTimedOut",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    sticky, timed_out, reverted = (attrs(e) for e in events[-4:-1])
    assert sticky["taskList"]["name"] == STICKY
    assert sticky["scheduleToStartTimeout"] == "1"
    assert "startToCloseTimeout" in sticky
    assert timed_out["timeoutType"] == "SCHEDULE_TO_START"
    assert timed_out["scheduledEventId"] == events[-4]["eventId"]
    assert reverted["taskList"]["name"] == DECISIONS
    assert "scheduleToStartTimeout" not in reverted
    # the override is gone: the next task (answered without taskList) stays on the original
    _respond(swf_client, task)
    _signal(swf_client, "again")
    poll_decision(swf_client)


def test_a_started_override_task_that_times_out_reverts(swf_backend: Any) -> None:
    from flotod.localswf import in_process_client

    client = in_process_client(swf_backend)
    setup_domain(client, task_timeout="1")
    run_id = start(client)
    _respond(
        client, poll_decision(client), taskList={"name": STICKY}, taskListScheduleToStartTimeout="5"
    )
    _signal(client)
    poll_decision(client, task_list=STICKY)  # started in time, never answered
    task = poll_decision(client)  # after the 1 s start-to-close timeout, on the original list
    events = history(client, "wf-1", run_id)
    timed_out = attrs(next(e for e in events if e["eventType"] == "DecisionTaskTimedOut"))
    assert timed_out["timeoutType"] == "START_TO_CLOSE"
    assert _scheduled(events)[-1]["taskList"]["name"] == DECISIONS
    assert task["events"][-1]["eventType"] == "DecisionTaskStarted"


def test_start_at_previous_started_event(swf_client: Any) -> None:
    setup_domain(swf_client)
    start(swf_client)
    first = poll_decision(swf_client, startAtPreviousStartedEvent=True)
    assert [e["eventId"] for e in first["events"]] == [1, 2, 3]  # no previous task: all
    _respond(swf_client, first)
    time.sleep(0.01)
    for n in range(5):
        _signal(swf_client, f"s{n}")
    task = poll_decision(swf_client, startAtPreviousStartedEvent=True)
    assert task["previousStartedEventId"] == 3
    ids = [e["eventId"] for e in task["events"]]
    assert ids[0] <= 3 and ids[-1] == task["startedEventId"]
    assert ids == list(range(ids[0], task["startedEventId"] + 1))
    # pages: the same events, cut in pages, forward and newest first
    _respond(swf_client, task)
    time.sleep(0.01)
    for n in range(5):
        _signal(swf_client, f"t{n}")
    paged = poll_decision(swf_client, startAtPreviousStartedEvent=True, maximumPageSize=3)
    events = list(paged["events"])
    token = paged.get("nextPageToken")
    while token:
        more = swf_client.poll_for_decision_task(
            domain=DOMAIN,
            taskList={"name": DECISIONS},
            startAtPreviousStartedEvent=True,
            maximumPageSize=3,
            nextPageToken=token,
        )
        events.extend(more["events"])
        token = more.get("nextPageToken")
    ids = [e["eventId"] for e in events]
    previous = paged["previousStartedEventId"]
    assert ids[0] <= previous and previous in ids
    assert ids == list(range(ids[0], paged["startedEventId"] + 1))
    assert len(ids) < paged["startedEventId"]  # not the whole history


@pytest.mark.parametrize("name", ["a:b", "a/b", "a|b", "arn", "a\x07b", " lead", "x" * 257])
def test_an_invalid_override_list_refuses_the_response(swf_client: Any, name: str) -> None:
    setup_domain(swf_client)
    run_id = start(swf_client)
    task = poll_decision(swf_client)
    with pytest.raises(ClientError) as caught:
        _respond(swf_client, task, taskList={"name": name})
    assert caught.value.response["Error"]["Code"].endswith("ValidationException")
    assert types(history(swf_client, "wf-1", run_id))[-1] == "DecisionTaskStarted"
