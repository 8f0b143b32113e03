"""A workflow execution that keeps SWF's rules: one decision task at a time, every close path
(with child policy and parent notification), cancellation requests and signals.

Every method runs with the backend's lock held; nothing here blocks or scans other executions.
A run reaches its backend only through :class:`Host`, which the backend passes in: this module
imports neither the backend nor the decision handlers, so the package's imports form a DAG.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from moto.swf.models.workflow_execution import WorkflowExecution

from flotod.localswf.events import LocalHistoryEvent
from flotod.localswf.scheduler import Deadline, Scheduler
from flotod.localswf.tasks import LocalActivityTask, LocalDecisionTask, seconds

if TYPE_CHECKING:
    from moto.swf.models.domain import Domain
    from moto.swf.models.workflow_type import WorkflowType

RunDecisionTask: TypeAlias = LocalDecisionTask["LocalWorkflowExecution"]
RunActivityTask: TypeAlias = LocalActivityTask["LocalWorkflowExecution"]


class Host(Protocol):
    """What a run (and the activity tasks it owns) needs of the backend that holds it."""

    @property
    def history_limit(self) -> int: ...

    @property
    def scheduler(self) -> Scheduler: ...

    def over_limit(self, run: LocalWorkflowExecution) -> None:
        """``run``'s history reached the limit: terminate it once the current step is done."""

    def index_closed(self, run: LocalWorkflowExecution) -> None: ...

    def track(self, task: RunDecisionTask | RunActivityTask) -> None:
        """The task's token is valid from now on."""

    def forget(self, task_token: str) -> None: ...

    def queue_decision(self, domain: str, task_list: str, task: RunDecisionTask) -> None: ...

    def queue_activity(self, domain: str, task_list: str, task: RunActivityTask) -> None: ...


CLOSE_EVENTS = {
    "COMPLETED": "ChildWorkflowExecutionCompleted",
    "FAILED": "ChildWorkflowExecutionFailed",
    "TIMED_OUT": "ChildWorkflowExecutionTimedOut",
    "CANCELED": "ChildWorkflowExecutionCanceled",
    "TERMINATED": "ChildWorkflowExecutionTerminated",
}


class ParentLink:
    """Where a child reports its close: the parent run and its initiated/started event ids."""

    def __init__(self, parent: LocalWorkflowExecution, initiated: int, started: int = 0):
        self.parent = parent
        self.initiated_event_id = initiated
        self.started_event_id = started


class LocalWorkflowExecution(WorkflowExecution):
    """One run of a workflow; see the module docstring for what it adds to moto's."""

    def __init__(
        self,
        host: Host,
        domain: Domain,
        workflow_type: WorkflowType,
        workflow_id: str,
        **kwargs: Any,
    ) -> None:
        self.host = host
        super().__init__(domain, workflow_type, workflow_id, **kwargs)
        self.parent_link: ParentLink | None = kwargs.get("parent_link")
        self.continued_from: str | None = kwargs.get("continued_execution_run_id")
        self.task_priority: str | None = kwargs.get("task_priority")
        self.scheduled_dt: RunDecisionTask | None = None
        self.started_dt: RunDecisionTask | None = None
        self.activities: dict[str, RunActivityTask] = {}
        self.open_timers: dict[str, tuple[int, Deadline]] = {}
        self.children: dict[str, LocalWorkflowExecution] = {}
        self.timeout_deadline: Deadline | None = None
        self.close_result: dict[str, Any] = {}
        # While a response's decisions are applied, the decision task they call for waits
        # until all of them are done: their own events are not "new" to that response.
        self._applying = False
        self._schedule_after_apply = False
        if self.parent_link is not None:
            self.parent = self.parent_link.parent.to_short_dict()

    # -- events ---------------------------------------------------------------------------
    def next_event_id(self) -> int:
        return len(self._events) + 1

    def _add_event(self, *args: Any, **kwargs: Any) -> LocalHistoryEvent:
        evt = LocalHistoryEvent(len(self._events) + 1, *args, **kwargs)
        self._events.append(evt)
        if len(self._events) == self.host.history_limit - 1 and self.open:
            # SWF terminates a run whose history reaches its limit. Not from inside whatever
            # is adding events (a response's decisions are half applied): once it is done.
            self.host.over_limit(self)
        return evt

    def terminate_at_event_limit(self) -> None:
        self.terminate(
            reason="the history reached SWF's limit of events",
            cause="EVENT_LIMIT_EXCEEDED",
        )

    def add_event(self, event_type: str, **attributes: Any) -> LocalHistoryEvent:
        return self._add_event(event_type, **attributes)

    @property
    def history(self) -> list[LocalHistoryEvent]:
        return self._events  # type: ignore[return-value]

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        self.start_timestamp = time.time()
        link = self.parent_link
        self._add_event(
            "WorkflowExecutionStarted",
            child_policy=self.child_policy,
            execution_start_to_close_timeout=self.execution_start_to_close_timeout,
            task_list=self.task_list,
            task_start_to_close_timeout=self.task_start_to_close_timeout,
            workflow_type=self.workflow_type,
            input=self.input,
            tag_list=self.tag_list or None,
            task_priority=self.task_priority,
            continued_execution_run_id=self.continued_from,
            parent_workflow_execution=link.parent.to_short_dict() if link else None,
            parent_initiated_event_id=link.initiated_event_id if link else None,
        )
        limit = seconds(self.execution_start_to_close_timeout)
        if limit is not None:
            self.timeout_deadline = self.host.scheduler.call_at(
                self.start_timestamp + limit, self._on_workflow_timeout
            )
        self.schedule_decision_task()

    # -- decision tasks -------------------------------------------------------------------
    def schedule_decision_task(self) -> None:
        """At most one scheduled decision task: later events join the one already waiting."""
        if not self.open or self.scheduled_dt is not None:
            return
        if self._applying:
            self._schedule_after_apply = True
            return
        evt = self._add_event(
            "DecisionTaskScheduled",
            start_to_close_timeout=self.task_start_to_close_timeout,
            task_list=self.task_list,
            task_priority=self.task_priority,
        )
        self.scheduled_dt = LocalDecisionTask(self, evt.event_id)
        self.host.track(self.scheduled_dt)
        self._enqueue_scheduled()

    def _schedule_decision_task(self) -> None:
        self.schedule_decision_task()

    def _enqueue_scheduled(self) -> None:
        dt = self.scheduled_dt
        if dt is not None and self.started_dt is None and not dt.queued:
            dt.queued = True
            self.host.queue_decision(self.domain.name, self.task_list, dt)

    def decision_task_live(self, dt: RunDecisionTask) -> bool:
        return self.open and dt is self.scheduled_dt and self.started_dt is None

    def start_decision(self, dt: RunDecisionTask, identity: str | None) -> None:
        evt = self._add_event(
            "DecisionTaskStarted", scheduled_event_id=dt.scheduled_event_id, identity=identity
        )
        dt.start(evt.event_id, self._previous_started_event_id or 0)
        self._previous_started_event_id = evt.event_id
        dt.history_limit = len(self._events)
        self.scheduled_dt, self.started_dt = None, dt
        limit = seconds(dt.start_to_close_timeout)
        if limit is not None:
            dt.deadline = self.host.scheduler.call_later(
                limit, lambda: self._on_decision_timeout(dt)
            )

    def complete_decision(self, dt: RunDecisionTask, execution_context: str | None) -> int:
        """Record DecisionTaskCompleted; its id is what the response's decisions refer to."""
        evt = self._add_event(
            "DecisionTaskCompleted",
            scheduled_event_id=dt.scheduled_event_id,
            started_event_id=dt.started_event_id,
            execution_context=execution_context,
        )
        self._finish_decision(dt, "COMPLETED")
        if execution_context is not None:
            self.latest_execution_context = execution_context
        return int(evt.event_id)

    @contextmanager
    def applying(self) -> Iterator[None]:
        """While a response's decisions are applied, the decision task they call for waits
        until all of them are done: their own events are not "new" to that response."""
        self._applying, self._schedule_after_apply = True, False
        try:
            yield
        finally:
            self._applying = False
        if self._schedule_after_apply:
            self._schedule_after_apply = False
            self.schedule_decision_task()
        self._enqueue_scheduled()

    def _finish_decision(self, dt: RunDecisionTask, state: str) -> None:
        dt.state = state
        dt.cancel_deadline()
        self.host.forget(dt.task_token)
        if self.started_dt is dt:
            self.started_dt = None

    def _on_decision_timeout(self, dt: RunDecisionTask) -> None:
        if not self.open or self.started_dt is not dt:
            return
        self._add_event(
            "DecisionTaskTimedOut",
            scheduled_event_id=dt.scheduled_event_id,
            started_event_id=dt.started_event_id,
            timeout_type="START_TO_CLOSE",
        )
        dt.timeout_type = "START_TO_CLOSE"
        self._finish_decision(dt, "TIMED_OUT")
        self.schedule_decision_task()
        self._enqueue_scheduled()

    # -- incoming requests ----------------------------------------------------------------
    def signal(
        self,
        signal_name: str,
        workflow_input: Any = None,
        external: dict[str, str] | None = None,
        external_initiated_event_id: int | None = None,
    ) -> None:
        self._add_event(
            "WorkflowExecutionSignaled",
            signal_name=signal_name,
            input=workflow_input,
            external_workflow_execution=external,
            external_initiated_event_id=external_initiated_event_id,
        )
        self.schedule_decision_task()

    def request_cancel(
        self,
        external: dict[str, str] | None = None,
        external_initiated_event_id: int | None = None,
        cause: str | None = None,
    ) -> None:
        self.cancel_requested = True
        self._add_event(
            "WorkflowExecutionCancelRequested",
            external_workflow_execution=external,
            external_initiated_event_id=external_initiated_event_id,
            cause=cause,
        )
        self.schedule_decision_task()

    # -- closing --------------------------------------------------------------------------
    def close(self, status: str, event_type: str, **attributes: Any) -> None:
        """Close the run: the event, then timers/tasks dropped, children (on terminate and
        timeout only) and parent told."""
        if not self.open:
            return
        self.execution_status = "CLOSED"
        self.close_status = status
        self.close_timestamp = time.time()
        self.close_result = attributes
        self._add_event(event_type, **attributes)
        if self.timeout_deadline is not None:
            self.timeout_deadline.cancel()
        for _, deadline in self.open_timers.values():
            deadline.cancel()
        self.open_timers.clear()
        for task in self.activities.values():
            task.cancel_deadlines()
            task.state = "CANCELED"
            self.host.forget(task.task_token)
        self.activities.clear()
        for dt in (self.scheduled_dt, self.started_dt):
            if dt is not None:
                self._finish_decision(dt, "CANCELED")
        self.scheduled_dt = None
        self.host.index_closed(self)
        if status in ("TERMINATED", "TIMED_OUT"):
            self._apply_child_policy()
        else:  # SWF applies no policy here: the children run on, and report to nobody
            self.children.clear()
        if status != "CONTINUED_AS_NEW":
            self._notify_parent()

    def complete(self, event_id: int, result: Any = None) -> None:
        self.close(
            "COMPLETED",
            "WorkflowExecutionCompleted",
            decision_task_completed_event_id=event_id,
            result=result,
        )

    def fail(self, event_id: int, details: Any = None, reason: str | None = None) -> None:
        self.close(
            "FAILED",
            "WorkflowExecutionFailed",
            decision_task_completed_event_id=event_id,
            details=details,
            reason=reason,
        )

    def cancel(self, event_id: int, details: Any = None) -> None:
        self.close(
            "CANCELED",
            "WorkflowExecutionCanceled",
            decision_task_completed_event_id=event_id,
            details=details,
        )

    def terminate(
        self,
        child_policy: str | None = None,
        details: Any = None,
        reason: str | None = None,
        cause: str | None = None,
    ) -> None:
        if child_policy:
            self.child_policy = child_policy
        self.close_cause = cause or "OPERATOR_INITIATED"
        self.close(
            "TERMINATED",
            "WorkflowExecutionTerminated",
            child_policy=self.child_policy,
            details=details,
            reason=reason,
            cause=self.close_cause,
        )

    def _on_workflow_timeout(self) -> None:
        self.timeout_type = "START_TO_CLOSE"
        self.close(
            "TIMED_OUT",
            "WorkflowExecutionTimedOut",
            timeout_type="START_TO_CLOSE",
            child_policy=self.child_policy,
        )

    def _apply_child_policy(self) -> None:
        """Only for a terminated or timed-out run: SWF's ``childPolicy`` applies "if this
        workflow execution is terminated, by calling the TerminateWorkflowExecution action
        explicitly or due to an expired timeout" (API reference, WorkflowExecutionConfiguration)."""
        children = [child for child in self.children.values() if child.open]
        self.children.clear()
        for child in children:
            child.parent_link = None  # a closed parent hears nothing more
            if self.child_policy == "TERMINATE":
                child.terminate(cause="CHILD_POLICY_APPLIED")
            elif self.child_policy == "REQUEST_CANCEL":
                child.request_cancel(cause="CHILD_POLICY_APPLIED")

    def _notify_parent(self) -> None:
        link = self.parent_link
        if link is None or not link.parent.open:
            return
        parent = link.parent
        parent.children.pop(self.workflow_id, None)
        extra: dict[str, Any] = {}
        if self.close_status == "COMPLETED":
            extra["result"] = self.close_result.get("result")
        elif self.close_status == "FAILED":
            extra["reason"] = self.close_result.get("reason")
            extra["details"] = self.close_result.get("details")
        elif self.close_status == "CANCELED":
            extra["details"] = self.close_result.get("details")
        elif self.close_status == "TIMED_OUT":
            extra["timeout_type"] = "START_TO_CLOSE"
        parent.add_event(
            CLOSE_EVENTS[self.close_status or "TERMINATED"],
            workflow_execution=self.to_short_dict(),
            workflow_type=self.workflow_type,
            initiated_event_id=link.initiated_event_id,
            started_event_id=link.started_event_id,
            **extra,
        )
        parent.schedule_decision_task()

    # -- descriptions ---------------------------------------------------------------------
    def to_medium_dict(self) -> dict[str, Any]:
        return self.to_list_dict()

    def to_full_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "taskList": {"name": self.task_list},
            "executionStartToCloseTimeout": self.execution_start_to_close_timeout,
            "taskStartToCloseTimeout": self.task_start_to_close_timeout,
            "childPolicy": self.child_policy,
        }
        if self.task_priority is not None:
            config["taskPriority"] = self.task_priority
        hsh: dict[str, Any] = {
            "executionInfo": self.to_list_dict(),
            "executionConfiguration": config,
            "openCounts": {
                "openActivityTasks": len(self.activities),
                "openDecisionTasks": int(bool(self.scheduled_dt or self.started_dt)),
                "openTimers": len(self.open_timers),
                "openChildWorkflowExecutions": len(self.children),
                "openLambdaFunctions": 0,
            },
        }
        if self.latest_execution_context is not None:
            hsh["latestExecutionContext"] = self.latest_execution_context
        if self.latest_activity_task_timestamp:
            hsh["latestActivityTaskTimestamp"] = self.latest_activity_task_timestamp
        return hsh
