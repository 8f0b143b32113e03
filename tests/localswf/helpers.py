"""Decider and worker steps done by hand, as a real decider/worker would send them."""

from __future__ import annotations

from typing import Any

DOMAIN = "conformance"
DECISIONS = "deciders"
ACTIVITIES = "workers"
WF = {"name": "wf", "version": "1"}
ACT = {"name": "act", "version": "1"}


def setup_domain(
    client: Any,
    domain: str = DOMAIN,
    task_timeout: str = "30",
    activity_timeouts: dict[str, str] | None = None,
) -> None:
    client.register_domain(name=domain, workflowExecutionRetentionPeriodInDays="1")
    client.register_workflow_type(
        domain=domain,
        **WF,
        defaultTaskList={"name": DECISIONS},
        defaultExecutionStartToCloseTimeout="300",
        defaultTaskStartToCloseTimeout=task_timeout,
        defaultChildPolicy="TERMINATE",
    )
    timeouts = {
        "defaultTaskScheduleToStartTimeout": "NONE",
        "defaultTaskScheduleToCloseTimeout": "NONE",
        "defaultTaskStartToCloseTimeout": "NONE",
        "defaultTaskHeartbeatTimeout": "NONE",
    }
    timeouts.update(activity_timeouts or {})
    client.register_activity_type(
        domain=domain, **ACT, defaultTaskList={"name": ACTIVITIES}, **timeouts
    )


def start(client: Any, workflow_id: str = "wf-1", domain: str = DOMAIN, **kwargs: Any) -> str:
    run = client.start_workflow_execution(
        domain=domain, workflowId=workflow_id, workflowType=WF, **kwargs
    )
    return str(run["runId"])


def poll_decision(client: Any, domain: str = DOMAIN, **kwargs: Any) -> dict[str, Any]:
    task: dict[str, Any] = client.poll_for_decision_task(
        domain=domain, taskList={"name": kwargs.pop("task_list", DECISIONS)}, **kwargs
    )
    assert task.get("taskToken"), "expected a decision task"
    return task


def poll_activity(client: Any, domain: str = DOMAIN) -> dict[str, Any]:
    task: dict[str, Any] = client.poll_for_activity_task(
        domain=domain, taskList={"name": ACTIVITIES}, identity="tester"
    )
    assert task.get("taskToken"), "expected an activity task"
    return task


def decide(client: Any, task: dict[str, Any], *decisions: dict[str, Any]) -> None:
    client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=list(decisions))


def d(kind: str, **attrs: Any) -> dict[str, Any]:
    """One decision: d("StartTimer", timerId="t", startToFireTimeout="1")."""
    key = kind[0].lower() + kind[1:] + "DecisionAttributes"
    return {"decisionType": kind, key: attrs}


def schedule(activity_id: str = "a1", **attrs: Any) -> dict[str, Any]:
    return d("ScheduleActivityTask", activityId=activity_id, activityType=ACT, **attrs)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["eventType"] for event in events]


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    value: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return value


def history(client: Any, workflow_id: str, run_id: str, domain: str = DOMAIN) -> list[Any]:
    events: list[Any] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.get_workflow_execution_history(
            domain=domain, execution={"workflowId": workflow_id, "runId": run_id}, **kwargs
        )
        events.extend(page["events"])
        if not page.get("nextPageToken"):
            return events
        kwargs["nextPageToken"] = page["nextPageToken"]


def last(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return attrs([event for event in events if event["eventType"] == kind][-1])


def describe(client: Any, workflow_id: str, run_id: str, domain: str = DOMAIN) -> Any:
    return client.describe_workflow_execution(
        domain=domain, execution={"workflowId": workflow_id, "runId": run_id}
    )
