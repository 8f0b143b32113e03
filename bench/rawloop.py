"""The ceiling: a minimal hand-written boto3 decider and worker for the benchmark's shapes.

    python -m bench.rawloop decider URL     # or: worker URL

One poll at a time, no logging, no retries, no heartbeats; the decider replays the history
with the simplest logic that is still correct for ``single`` (one activity) and ``dag`` (a
root, 8 in parallel, a final one). It sends ``READY=1`` to $NOTIFY_SOCKET like the services,
and stops after the poll in flight on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from types import FrameType
from typing import Any

from bench.common import boto_client
from bench.e2e_flows import ACTIVITY, ACTIVITY_TASK_LIST, DECISION_TASK_LIST, DOMAIN, FAN_OUT

Decision = dict[str, Any]
MIDDLE = [f"m{i}" for i in range(FAN_OUT)]


class Stop:
    requested = False

    @classmethod
    def handle(cls, signum: int, frame: FrameType | None) -> None:
        cls.requested = True


def schedule(*activity_ids: str) -> list[Decision]:
    return [
        {
            "decisionType": "ScheduleActivityTask",
            "scheduleActivityTaskDecisionAttributes": {
                "activityId": activity_id,
                "activityType": {"name": ACTIVITY[0], "version": ACTIVITY[1]},
                "taskList": {"name": ACTIVITY_TASK_LIST},
                "input": "{}",
                "scheduleToCloseTimeout": "300",
                "scheduleToStartTimeout": "300",
                "startToCloseTimeout": "300",
                "heartbeatTimeout": "NONE",
            },
        }
        for activity_id in activity_ids
    ]


def close(decision_type: str, **attrs: str) -> list[Decision]:
    key = decision_type[0].lower() + decision_type[1:] + "DecisionAttributes"
    return [{"decisionType": decision_type, key: attrs}]


def decide(shape: str, events: list[dict[str, Any]]) -> list[Decision]:
    """Decisions for the whole history: what is scheduled, what completed, what failed."""
    ids: dict[int, str] = {}
    done: set[str] = set()
    for event in events:
        kind = event["eventType"]
        if kind == "ActivityTaskScheduled":
            ids[event["eventId"]] = event["activityTaskScheduledEventAttributes"]["activityId"]
        elif kind == "ActivityTaskCompleted":
            done.add(ids[event["activityTaskCompletedEventAttributes"]["scheduledEventId"]])
        elif kind in ("ActivityTaskFailed", "ActivityTaskTimedOut", "ScheduleActivityTaskFailed"):
            return close("FailWorkflowExecution", reason=kind)
    scheduled = set(ids.values())
    last = "only" if shape == "single" else "final"
    if last in done:
        return close("CompleteWorkflowExecution", result='"ok"')
    if shape == "single":
        return [] if scheduled else schedule("only")
    if not scheduled:
        return schedule("root")
    if "root" in done and MIDDLE[0] not in scheduled:
        return schedule(*MIDDLE)
    if done.issuperset(MIDDLE) and "final" not in scheduled:
        return schedule("final")
    return []


def run_decider(client: Any) -> None:
    while not Stop.requested:
        task = client.poll_for_decision_task(
            domain=DOMAIN, taskList={"name": DECISION_TASK_LIST}, identity="raw"
        )
        if not task.get("taskToken"):
            continue
        events = list(task["events"])
        while task.get("nextPageToken"):
            task = client.poll_for_decision_task(
                domain=DOMAIN,
                taskList={"name": DECISION_TASK_LIST},
                identity="raw",
                nextPageToken=task["nextPageToken"],
            )
            events.extend(task["events"])
        shape = "single" if task["workflowType"]["name"] == "bench_single" else "dag"
        client.respond_decision_task_completed(
            taskToken=task["taskToken"], decisions=decide(shape, events)
        )


def run_worker(client: Any) -> None:
    while not Stop.requested:
        task = client.poll_for_activity_task(
            domain=DOMAIN, taskList={"name": ACTIVITY_TASK_LIST}, identity="raw"
        )
        if task.get("taskToken"):
            client.respond_activity_task_completed(taskToken=task["taskToken"], result='"ok"')


def notify_ready() -> None:
    target = os.environ.get("NOTIFY_SOCKET")
    if target:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"READY=1", target)


def main(argv: list[str]) -> int:
    role, url = argv
    signal.signal(signal.SIGTERM, Stop.handle)
    client = boto_client(url)
    client.describe_domain(name=DOMAIN)
    notify_ready()
    (run_decider if role == "decider" else run_worker)(client)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
