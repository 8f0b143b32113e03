"""Activity tasks through their whole life: scheduling with SWF's checks, start, heartbeat,
the four timeouts (heartbeat counted from the start), completion, failure and cancellation.

Functions take the owning execution and run with the backend's lock held; they reach the
backend only through the run's :class:`~flotod.localswf.execution.Host`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from moto.swf.models.activity_type import ActivityType

from flotod.localswf.tasks import LocalActivityTask, seconds

if TYPE_CHECKING:
    from flotod.localswf.execution import LocalWorkflowExecution, RunActivityTask

TIMEOUT_KEYS = (
    ("scheduleToStartTimeout", "default_task_schedule_to_start_timeout"),
    ("scheduleToCloseTimeout", "default_task_schedule_to_close_timeout"),
    ("startToCloseTimeout", "default_task_start_to_close_timeout"),
    ("heartbeatTimeout", "default_task_heartbeat_timeout"),
)
OPEN_ACTIVITIES_LIMIT = 1000


def schedule(
    wfe: LocalWorkflowExecution,
    event_id: int,
    attrs: dict[str, Any],
    injected: str | None = None,
) -> None:
    """The ScheduleActivityTask decision: ActivityTaskScheduled or ScheduleActivityTaskFailed
    (with ``injected`` as its cause when fault injection refuses it)."""
    activity_id = attrs.get("activityId", "")
    type_attrs = attrs.get("activityType") or {}
    name, version = type_attrs.get("name", ""), type_attrs.get("version", "")
    activity_type = wfe.domain.get_type("activity", name, version, ignore_empty=True)

    def failed(cause: str) -> None:
        wfe.add_event(
            "ScheduleActivityTaskFailed",
            activity_id=activity_id,
            activity_type={"name": name, "version": version},
            cause=cause,
            decision_task_completed_event_id=event_id,
        )
        wfe.schedule_decision_task()

    if injected is not None:
        return failed(injected)
    if not isinstance(activity_type, ActivityType):
        return failed("ACTIVITY_TYPE_DOES_NOT_EXIST")
    if activity_type.status == "DEPRECATED":
        return failed("ACTIVITY_TYPE_DEPRECATED")
    if activity_id in wfe.activities:
        return failed("ACTIVITY_ID_ALREADY_IN_USE")
    if len(wfe.activities) >= OPEN_ACTIVITIES_LIMIT:
        return failed("OPEN_ACTIVITIES_LIMIT_EXCEEDED")
    task_list = (attrs.get("taskList") or {}).get("name") or activity_type.task_list
    if not task_list:
        return failed("DEFAULT_TASK_LIST_UNDEFINED")
    timeouts: dict[str, Any] = {}
    for key, default_attr in TIMEOUT_KEYS:
        value = attrs.get(key) or getattr(activity_type, default_attr, None)
        if not value:
            cause = default_attr.replace("default_task_", "default_").upper()
            return failed(f"{cause}_UNDEFINED")
        timeouts[key] = value
    evt = wfe.add_event(
        "ActivityTaskScheduled",
        activity_id=activity_id,
        activity_type=activity_type,
        control=attrs.get("control"),
        decision_task_completed_event_id=event_id,
        heartbeat_timeout=timeouts["heartbeatTimeout"],
        input=attrs.get("input"),
        schedule_to_close_timeout=timeouts["scheduleToCloseTimeout"],
        schedule_to_start_timeout=timeouts["scheduleToStartTimeout"],
        start_to_close_timeout=timeouts["startToCloseTimeout"],
        task_list=task_list,
        task_priority=attrs.get("taskPriority"),
    )
    task = LocalActivityTask(
        activity_id, activity_type, evt.event_id, wfe, timeouts, task_list, attrs.get("input")
    )
    wfe.activities[activity_id] = task
    wfe.host.track(task)
    wfe.latest_activity_task_timestamp = time.time()
    _arm(task, "SCHEDULE_TO_START", timeouts["scheduleToStartTimeout"])
    _arm(task, "SCHEDULE_TO_CLOSE", timeouts["scheduleToCloseTimeout"])
    wfe.host.queue_activity(wfe.domain.name, task_list, task)
    return None


def _arm(task: RunActivityTask, kind: str, timeout: Any) -> None:
    limit = seconds(timeout)
    if limit is not None:
        task.deadlines[kind] = task.wfe.host.scheduler.call_later(
            limit, lambda: _on_timeout(task, kind)
        )


def is_live(task: RunActivityTask) -> bool:
    return task.state == "SCHEDULED" and task.wfe.open


def start(task: RunActivityTask, identity: str | None) -> None:
    evt = task.wfe.add_event(
        "ActivityTaskStarted", scheduled_event_id=task.scheduled_event_id, identity=identity
    )
    task.start(evt.event_id)
    task.last_heartbeat_timestamp = time.time()
    _arm(task, "START_TO_CLOSE", task.timeouts["startToCloseTimeout"])
    _arm(task, "HEARTBEAT", task.timeouts["heartbeatTimeout"])


def heartbeat(task: RunActivityTask, details: str | None) -> bool:
    """Record a heartbeat; the answer is whether cancellation was requested."""
    task.last_heartbeat_timestamp = time.time()
    if details is not None:
        task.details = details  # type: ignore[assignment]
    return task.cancel_requested


def _close(task: RunActivityTask, state: str) -> None:
    wfe = task.wfe
    task.state = state
    task.cancel_deadlines()
    wfe.activities.pop(task.activity_id, None)
    wfe.host.forget(task.task_token)


def complete(task: RunActivityTask, result: str | None) -> None:
    _close(task, "COMPLETED")
    task.wfe.add_event(
        "ActivityTaskCompleted",
        scheduled_event_id=task.scheduled_event_id,
        started_event_id=task.started_event_id,
        result=result,
    )
    task.wfe.schedule_decision_task()


def fail(task: RunActivityTask, reason: str | None, details: str | None) -> None:
    _close(task, "FAILED")
    task.wfe.add_event(
        "ActivityTaskFailed",
        scheduled_event_id=task.scheduled_event_id,
        started_event_id=task.started_event_id,
        reason=reason,
        details=details,
    )
    task.wfe.schedule_decision_task()


def canceled(task: RunActivityTask, details: str | None) -> None:
    _close(task, "CANCELED")
    task.wfe.add_event(
        "ActivityTaskCanceled",
        scheduled_event_id=task.scheduled_event_id,
        started_event_id=task.started_event_id,
        latest_cancel_requested_event_id=task.latest_cancel_requested_event_id,
        details=details,
    )
    task.wfe.schedule_decision_task()


def request_cancel(wfe: LocalWorkflowExecution, event_id: int, attrs: dict[str, Any]) -> None:
    """The RequestCancelActivityTask decision; a task nobody started is cancelled at once."""
    activity_id = attrs.get("activityId", "")
    task = wfe.activities.get(activity_id)
    if task is None:
        wfe.add_event(
            "RequestCancelActivityTaskFailed",
            activity_id=activity_id,
            cause="ACTIVITY_ID_UNKNOWN",
            decision_task_completed_event_id=event_id,
        )
        wfe.schedule_decision_task()
        return
    evt = wfe.add_event(
        "ActivityTaskCancelRequested",
        activity_id=activity_id,
        decision_task_completed_event_id=event_id,
    )
    task.cancel_requested = True
    task.latest_cancel_requested_event_id = evt.event_id
    if task.state == "SCHEDULED":
        canceled(task, None)


def _on_timeout(task: RunActivityTask, kind: str) -> None:
    if task.state not in ("SCHEDULED", "STARTED") or not task.wfe.open:
        return
    if kind == "SCHEDULE_TO_START" and task.state != "SCHEDULED":
        return
    if kind == "HEARTBEAT":
        limit = seconds(task.timeouts["heartbeatTimeout"]) or 0.0
        due = task.last_heartbeat_timestamp + limit
        if time.time() < due:  # a heartbeat came in meanwhile: wait for the new deadline
            task.deadlines[kind] = task.wfe.host.scheduler.call_at(
                due, lambda: _on_timeout(task, kind)
            )
            return
    task.timeout_type = kind
    _close(task, "TIMED_OUT")
    task.wfe.add_event(
        "ActivityTaskTimedOut",
        timeout_type=kind,
        scheduled_event_id=task.scheduled_event_id,
        started_event_id=task.started_event_id or 0,
        details=task.details,
    )
    task.wfe.schedule_decision_task()
