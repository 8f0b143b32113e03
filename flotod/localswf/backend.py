"""The embedded SWF backend: moto's SWFBackend with indexes, one lock and long polls.

Domains and types stay moto's. Executions are indexed by (domain, workflowId) for the open
run and by run id for every run, split open/closed per domain, and tasks wait in per-task-list
queues, so no call scans all workflows. Every state change happens under ``self.lock``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.swf.exceptions import (
    SWFTypeDeprecatedFault,
    SWFUnknownResourceFault,
    SWFValidationException,
    SWFWorkflowExecutionAlreadyStartedFault,
)
from moto.swf.models import SWFBackend
from moto.swf.models.domain import Domain
from moto.swf.models.workflow_type import WorkflowType

from flotod.localswf import activities
from flotod.localswf import decisions as decisions_module
from flotod.localswf.events import decode_token, history_page, since_event
from flotod.localswf.execution import LocalWorkflowExecution, RunActivityTask, RunDecisionTask
from flotod.localswf.faults import DecisionFaults, Throttle
from flotod.localswf.queues import TaskLists
from flotod.localswf.s3 import LocalS3
from flotod.localswf.scheduler import Scheduler
from flotod.localswf.tasks import LocalActivityTask, LocalDecisionTask
from flotod.localswf.validation import check_task_list_name

DEFAULT_POLL_TIMEOUT = 60.0
HISTORY_LIMIT = 25_000  # events in one run's history; SWF terminates the run there
RunKey = tuple[str, str]


class LocalSWFBackend(SWFBackend):
    """SWF for one machine; see the package docstring for what it adds to moto's.

    It is the :class:`~flotod.localswf.execution.Host` of every run it holds and the
    :class:`~flotod.localswf.decisions.Runs` of every response it applies.
    """

    def __init__(
        self,
        region_name: str = "us-east-1",
        account_id: str = "123456789012",
        poll_timeout: float = DEFAULT_POLL_TIMEOUT,
        manual_deadlines: bool = False,
    ) -> None:
        super().__init__(region_name, account_id)
        self.poll_timeout = poll_timeout
        self.history_limit = HISTORY_LIMIT  # tests lower it to reach it quickly
        self._over_limit: list[LocalWorkflowExecution] = []
        self.throttle: Throttle | None = None  # fault injection, off by default (faults.py)
        self.decision_faults: DecisionFaults | None = None  # likewise
        self.lock = threading.RLock()
        self.scheduler = Scheduler(self.lock, manual=manual_deadlines)
        self.decision_lists: TaskLists[RunDecisionTask] = TaskLists(self.lock)
        self.activity_lists: TaskLists[RunActivityTask] = TaskLists(self.lock)
        self.tokens: dict[str, RunDecisionTask | RunActivityTask] = {}
        self.closing = False
        self._domain_index: dict[str, Domain] = {}
        self._open: dict[tuple[str, str], LocalWorkflowExecution] = {}
        self._runs: dict[tuple[str, str, str], LocalWorkflowExecution] = {}
        self.open_by_domain: dict[str, dict[RunKey, LocalWorkflowExecution]] = {}
        self.closed_by_domain: dict[str, dict[RunKey, LocalWorkflowExecution]] = {}
        # The embedded S3 on the same endpoint (large payloads); kept across reset().
        self.s3 = getattr(self, "s3", None) or LocalS3(region_name, account_id)

    def over_limit(self, run: LocalWorkflowExecution) -> None:
        """``run``'s history reached the limit: terminate it when the current step is done.

        The request that added the events settles it before answering (:meth:`settle`); a
        timer or timeout that added them, on the scheduler's next turn.
        """
        self._over_limit.append(run)
        self.scheduler.call_later(0, self.settle)

    def settle(self) -> None:
        if not self._over_limit:  # every request ends here: no lock when there is nothing
            return
        with self.lock:
            while self._over_limit:
                self._over_limit.pop().terminate_at_event_limit()

    # -- what runs need (execution.Host) ---------------------------------------------------
    def track(self, task: RunDecisionTask | RunActivityTask) -> None:
        self.tokens[task.task_token] = task

    def forget(self, task_token: str) -> None:
        self.tokens.pop(task_token, None)

    def queue_decision(self, domain: str, task_list: str, task: RunDecisionTask) -> None:
        self.decision_lists.push(domain, task_list, task)

    def queue_activity(self, domain: str, task_list: str, task: RunActivityTask) -> None:
        self.activity_lists.push(domain, task_list, task)

    def reset(self) -> None:
        throttle, faults, history_limit = self.throttle, self.decision_faults, self.history_limit
        self.close()
        manual = self.scheduler.manual
        self.__init__(  # type: ignore[misc]
            self.region_name, self.account_id, self.poll_timeout, manual
        )
        self.throttle, self.decision_faults, self.history_limit = throttle, faults, history_limit

    def close(self) -> None:
        """Stop the deadline thread and release every waiting poll (they return empty)."""
        with self.lock:
            self.closing = True
            self.decision_lists.wake_all()
            self.activity_lists.wake_all()
        self.scheduler.stop()

    # -- domains --------------------------------------------------------------------------
    def _get_domain(self, name: str, ignore_empty: bool = False) -> Domain:
        domain = self._domain_index.get(name)
        if domain is None and not ignore_empty:
            raise SWFUnknownResourceFault("domain", name)
        return domain  # type: ignore[return-value]

    def register_domain(self, name: str, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            super().register_domain(name, *args, **kwargs)
            self._domain_index[name] = self.domains[-1]

    def _process_timeouts(self) -> None:
        """Deadlines fire from the scheduler thread; nothing is left to sweep per call."""

    # -- executions index -----------------------------------------------------------------
    def find_open(
        self, domain: str, workflow_id: str, run_id: str | None = None
    ) -> LocalWorkflowExecution | None:
        wfe = self._open.get((domain, workflow_id))
        if wfe is not None and run_id and wfe.run_id != run_id:
            return None
        return wfe

    def find_run(self, domain: str, workflow_id: str, run_id: str) -> LocalWorkflowExecution:
        self._get_domain(domain)
        wfe = self._runs.get((domain, workflow_id, run_id))
        if wfe is None:
            raise SWFUnknownResourceFault(
                "execution", f"WorkflowExecution=[workflowId={workflow_id}, runId={run_id}]"
            )
        return wfe

    def _require_open(
        self, domain: str, workflow_id: str, run_id: str | None
    ) -> LocalWorkflowExecution:
        self._get_domain(domain)
        wfe = self.find_open(domain, workflow_id, run_id)
        if wfe is None:
            raise SWFUnknownResourceFault(f"execution, workflowId = {workflow_id}")
        return wfe

    def new_execution(
        self, domain: Domain, wf_type: WorkflowType, workflow_id: str, **kwargs: Any
    ) -> LocalWorkflowExecution:
        """Build (not start) a run; raises DefaultUndefinedFault for missing defaults."""
        if kwargs.get("execution_start_to_close_timeout") == "NONE":
            raise SWFValidationException("executionStartToCloseTimeout cannot be NONE")
        return LocalWorkflowExecution(self, domain, wf_type, workflow_id, **kwargs)

    def add_execution(self, wfe: LocalWorkflowExecution) -> None:
        """Index a built run as open and start it."""
        name = wfe.domain.name
        self._open[(name, wfe.workflow_id)] = wfe
        self._runs[(name, wfe.workflow_id, wfe.run_id)] = wfe
        self.open_by_domain.setdefault(name, {})[(wfe.workflow_id, wfe.run_id)] = wfe
        wfe.start()

    def index_closed(self, wfe: LocalWorkflowExecution) -> None:
        name = wfe.domain.name
        if self._open.get((name, wfe.workflow_id)) is wfe:
            del self._open[(name, wfe.workflow_id)]
        key = (wfe.workflow_id, wfe.run_id)
        self.open_by_domain.get(name, {}).pop(key, None)
        self.closed_by_domain.setdefault(name, {})[key] = wfe

    # -- workflow API ---------------------------------------------------------------------
    def start_workflow_execution(  # type: ignore[override]
        self,
        domain_name: str,
        workflow_id: str,
        workflow_name: str,
        workflow_version: str,
        tag_list: list[str] | None = None,
        workflow_input: str | None = None,
        **kwargs: Any,
    ) -> LocalWorkflowExecution:
        with self.lock:
            domain = self._get_domain(domain_name)
            wf_type = domain.get_type("workflow", workflow_name, workflow_version)
            if wf_type.status == "DEPRECATED":
                raise SWFTypeDeprecatedFault(wf_type)
            if self.find_open(domain_name, workflow_id) is not None:
                raise SWFWorkflowExecutionAlreadyStartedFault()
            wfe = self.new_execution(
                domain,
                wf_type,  # type: ignore[arg-type]
                workflow_id,
                tag_list=tag_list,
                workflow_input=workflow_input,
                **kwargs,
            )
            self.add_execution(wfe)
            return wfe

    def describe_workflow_execution(
        self, domain_name: str, run_id: str, workflow_id: str
    ) -> LocalWorkflowExecution:
        with self.lock:
            return self.find_run(domain_name, workflow_id, run_id)

    def get_history(
        self,
        domain_name: str,
        run_id: str,
        workflow_id: str,
        maximum_page_size: int | None = None,
        next_page_token: str | None = None,
        reverse_order: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            wfe = self.find_run(domain_name, workflow_id, run_id)
            events, token = history_page(
                wfe.history,
                len(wfe.history),
                maximum_page_size,
                reverse_order,
                next_page_token,
            )
        body: dict[str, Any] = {"events": events}
        if token:
            body["nextPageToken"] = token
        return body

    def signal_workflow_execution(
        self,
        domain_name: str,
        signal_name: str,
        workflow_id: str,
        workflow_input: Any = None,
        run_id: str | None = None,
    ) -> None:
        with self.lock:
            self._require_open(domain_name, workflow_id, run_id).signal(signal_name, workflow_input)

    def request_cancel_workflow_execution(
        self, domain_name: str, workflow_id: str, run_id: str | None = None
    ) -> None:
        with self.lock:
            self._require_open(domain_name, workflow_id, run_id).request_cancel()

    def terminate_workflow_execution(
        self,
        domain_name: str,
        workflow_id: str,
        child_policy: Any = None,
        details: Any = None,
        reason: str | None = None,
        run_id: str | None = None,
    ) -> None:
        with self.lock:
            wfe = self._require_open(domain_name, workflow_id, run_id)
            wfe.terminate(child_policy=child_policy, details=details, reason=reason)

    # -- decision tasks -------------------------------------------------------------------
    def poll_decision(
        self,
        domain_name: str,
        task_list: str,
        identity: str | None = None,
        maximum_page_size: int | None = None,
        next_page_token: str | None = None,
        reverse_order: bool = False,
        start_at_previous_started_event: bool = False,
    ) -> dict[str, Any]:
        """A decision task with its first history page, or the empty answer after the wait.

        ``start_at_previous_started_event``: API reference, PollForDecisionTask, "returns the
        events with eventTimestamp greater than or equal to eventTimestamp of the most recent
        DecisionTaskStarted event" before this task's own (previousStartedEventId); the whole
        history when there is none."""
        with self.lock:
            self._get_domain(domain_name)
            if next_page_token:
                task_token = str(decode_token(next_page_token).get("task", ""))
                task = self.tokens.get(task_token)
                if not isinstance(task, LocalDecisionTask) or task.state != "STARTED":
                    raise SWFUnknownResourceFault("decision task")
                dt = task
            else:
                found = self.decision_lists.take(
                    domain_name,
                    task_list,
                    lambda item: item.wfe.decision_task_live(item),
                    self.poll_timeout,
                    lambda: self.closing,
                )
                if found is None:
                    return {"previousStartedEventId": 0, "startedEventId": 0}
                dt = found
                dt.wfe.start_decision(dt, identity)
            wfe = dt.wfe
            first = 0
            if start_at_previous_started_event and dt.previous_started_event_id:
                first = since_event(wfe.history, dt.previous_started_event_id)
            events, token = history_page(
                wfe.history,
                dt.history_limit,
                maximum_page_size,
                reverse_order,
                next_page_token,
                {"task": dt.task_token},
                first,
            )
            body: dict[str, Any] = {
                "taskToken": dt.task_token,
                "startedEventId": dt.started_event_id,
                "previousStartedEventId": dt.previous_started_event_id or 0,
                "workflowExecution": wfe.to_short_dict(),
                "workflowType": wfe.workflow_type.to_short_dict(),
                "events": events,
            }
        if token:
            body["nextPageToken"] = token
        return body

    def _started_task(self, task_token: str, kind: type[Any]) -> Any:
        task = self.tokens.get(task_token)
        if not isinstance(task, kind) or task.state != "STARTED":
            what = "decision task" if kind is LocalDecisionTask else "activity task"
            raise SWFUnknownResourceFault(f"{what}, token = {task_token[:16]}")
        return task

    def respond_decision_task_completed(
        self,
        task_token: str,
        decisions: list[dict[str, Any]] | None = None,
        execution_context: str | None = None,
        task_list: str | None = None,
        schedule_to_start: str | None = None,
    ) -> None:
        if task_list is not None:
            check_task_list_name(task_list, "taskList.name")
        if schedule_to_start is not None and not (
            schedule_to_start == "NONE" or schedule_to_start.isdigit()
        ):
            raise SWFValidationException(
                f"Invalid taskListScheduleToStartTimeout {schedule_to_start!r}: "
                "seconds as digits, or NONE"
            )
        if schedule_to_start == "NONE":
            schedule_to_start = None
        with self.lock:
            dt: RunDecisionTask = self._started_task(task_token, LocalDecisionTask)
            decisions_module.respond(
                self,
                dt,
                decisions or [],
                execution_context,
                self.decision_faults,
                task_list,
                schedule_to_start,
            )

    def count_pending_decision_tasks(self, domain_name: str, task_list: str) -> int:  # type: ignore[override]
        with self.lock:
            self._get_domain(domain_name)
            return self.decision_lists.count(
                domain_name, task_list, lambda item: item.wfe.decision_task_live(item)
            )

    # -- activity tasks -------------------------------------------------------------------
    def poll_activity(
        self, domain_name: str, task_list: str, identity: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            self._get_domain(domain_name)
            task = self.activity_lists.take(
                domain_name, task_list, activities.is_live, self.poll_timeout, lambda: self.closing
            )
            if task is None:
                return {"startedEventId": 0}
            activities.start(task, identity)
            return task.to_full_dict()

    def count_pending_activity_tasks(self, domain_name: str, task_list: str) -> int:  # type: ignore[override]
        with self.lock:
            self._get_domain(domain_name)
            return self.activity_lists.count(domain_name, task_list, activities.is_live)

    def respond_activity_task_completed(self, task_token: str, result: Any = None) -> None:
        with self.lock:
            activities.complete(self._started_task(task_token, LocalActivityTask), result)

    def respond_activity_task_failed(
        self, task_token: str, reason: str | None = None, details: Any = None
    ) -> None:
        with self.lock:
            activities.fail(self._started_task(task_token, LocalActivityTask), reason, details)

    def respond_activity_task_canceled(self, task_token: str, details: Any = None) -> None:
        with self.lock:
            activities.canceled(self._started_task(task_token, LocalActivityTask), details)

    def heartbeat(self, task_token: str, details: str | None = None) -> bool:
        with self.lock:
            return activities.heartbeat(self._started_task(task_token, LocalActivityTask), details)

    def now(self) -> float:
        return time.time()
