"""One workflow execution on the embedded SWF (flotod.localswf), stepped by hand by a test.

The engine tests used to carry their own copy of SWF's rules; the two copies disagreed. Here
every rule is the embedded SWF's: each request goes through the same dispatch an HTTP client
reaches (the request constraints of SWF's API model included), decisions are applied by its
decision handling, and the history is the one it records. What a test controls is the world
outside the decider: which activity runs and how it ends, which timer fires, how a child
ends, when a signal or a cancellation request arrives. The backend's deadlines are manual, so
nothing happens by the clock: a timer fires, or a task times out, when the test says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flotod.localswf import activities, make_backend
from flotod.localswf.execution import LocalWorkflowExecution, RunActivityTask
from flotod.localswf.faults import DecisionFaults
from flotod.localswf.responses import dispatch

Event = dict[str, Any]
Decision = dict[str, Any]

DOMAIN = "d"
WORKFLOW_ID = "wf"
WORKFLOW_TYPE = {"name": "wf", "version": "1"}
CHILD_TASK_LIST = "children"  # children's decision tasks wait here; the sim decides for them
ACTIVITY_TASK_LIST = "type-default"  # the registered default of every activity type


class SwfViolation(AssertionError):
    """SWF refused a request (a bad decision list, a value over a limit): the decider's bug."""


def attrs_key(name: str) -> str:
    return name[0].lower() + name[1:]


class SwfSim:
    """One run of workflow ``wf`` in domain ``d``, and the children it starts.

    Activity and workflow types are registered as decisions name them, unless the test gives
    the known ones (``known_activity_types`` / ``known_workflow_types``): then only those exist.
    """

    def __init__(
        self,
        input: str | None = None,
        *,
        task_list: str = "decider",
        known_activity_types: set[tuple[str, str]] | None = None,
        known_workflow_types: set[tuple[str, str]] | None = None,
    ) -> None:
        self.backend = make_backend(poll_timeout=0.01, manual_deadlines=True)
        # Causes to refuse the next decisions of a type with, in order (SWF's transient ones):
        # the embedded SWF records each refusal as SWF does.
        self.refuse: dict[str, list[str]] = {}
        self.backend.decision_faults = _Refusals(self.refuse)
        self.task_list = task_list
        self.decision_log: list[list[Decision]] = []
        self._registered: set[tuple[str, str, str]] = set()
        self._auto_activity = known_activity_types is None
        self._auto_workflow = known_workflow_types is None
        self.call("RegisterDomain", name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
        self._register("workflow", WORKFLOW_TYPE["name"], WORKFLOW_TYPE["version"], task_list)
        for name, version in known_activity_types or ():
            self._register("activity", name, version)
        for name, version in known_workflow_types or ():
            self._register("workflow", name, version)
        start: dict[str, Any] = {
            "domain": DOMAIN,
            "workflowId": WORKFLOW_ID,
            "workflowType": WORKFLOW_TYPE,
            "taskList": {"name": task_list},
            "childPolicy": "TERMINATE",
            "executionStartToCloseTimeout": "3600",
            "taskStartToCloseTimeout": "60",
        }
        if input is not None:
            start["input"] = input
        self.run_id = str(self.call("StartWorkflowExecution", **start)["runId"])

    def close(self) -> None:
        self.backend.close()

    # -- requests, as a client sends them ----------------------------------------------------

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        status, body = dispatch(self.backend, operation, json.dumps(params).encode())
        answer: dict[str, Any] = json.loads(body or b"{}")
        if status != 200:
            raise SwfViolation(f"{operation}: {answer.get('__type')}: {answer.get('message')}")
        return answer

    def _register(self, kind: str, name: str, version: str, task_list: str | None = None) -> None:
        if (kind, name, version) in self._registered:
            return
        self._registered.add((kind, name, version))
        if kind == "activity":
            self.call(
                "RegisterActivityType",
                domain=DOMAIN,
                name=name,
                version=version,
                defaultTaskList={"name": ACTIVITY_TASK_LIST},
                defaultTaskScheduleToStartTimeout="3600",  # fires only when a test says so
                defaultTaskScheduleToCloseTimeout="NONE",
                defaultTaskStartToCloseTimeout="3600",  # likewise
                defaultTaskHeartbeatTimeout="3600",  # likewise
            )
            return
        self.call(
            "RegisterWorkflowType",
            domain=DOMAIN,
            name=name,
            version=version,
            defaultTaskList={"name": task_list or CHILD_TASK_LIST},
            defaultExecutionStartToCloseTimeout="3600",
            defaultTaskStartToCloseTimeout="60",
            defaultChildPolicy="TERMINATE",
        )

    def _register_named_types(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            kind = decision.get("decisionType")
            a = decision.get(attrs_key(str(kind)) + "DecisionAttributes") or {}
            if kind == "ScheduleActivityTask" and self._auto_activity:
                t = a.get("activityType") or {}
                self._register("activity", t.get("name", ""), t.get("version", ""))
            elif kind == "StartChildWorkflowExecution" and self._auto_workflow:
                t = a.get("workflowType") or {}
                self._register("workflow", t.get("name", ""), t.get("version", ""))

    # -- the run ---------------------------------------------------------------------------

    @property
    def wfe(self) -> LocalWorkflowExecution:
        with self.backend.lock:
            return self.backend.find_run(DOMAIN, WORKFLOW_ID, self.run_id)

    @property
    def events(self) -> list[Event]:
        return self._history(WORKFLOW_ID, self.run_id)

    def _history(self, workflow_id: str, run_id: str) -> list[Event]:
        events: list[Event] = []
        params: dict[str, Any] = {
            "domain": DOMAIN,
            "execution": {"workflowId": workflow_id, "runId": run_id},
        }
        while True:
            page = self.call("GetWorkflowExecutionHistory", **params)
            events.extend(page["events"])
            if not page.get("nextPageToken"):
                return events
            params["nextPageToken"] = page["nextPageToken"]

    @property
    def closed(self) -> str | None:
        """The type of the event that closed the run, or None while it is open."""
        wfe = self.wfe
        if wfe.open:
            return None
        with self.backend.lock:
            return str(wfe.history[-1].event_type)

    @property
    def decision_due(self) -> bool:
        wfe = self.wfe
        return wfe.open and wfe.scheduled_dt is not None and wfe.started_dt is None

    @property
    def open_activities(self) -> dict[str, int]:
        """Activity id -> scheduled event id, for every open activity task."""
        return {i: t.scheduled_event_id for i, t in self.wfe.activities.items()}

    @property
    def open_timers(self) -> dict[str, int]:
        """Timer id -> started event id, for every open timer."""
        return {i: started for i, (started, _) in self.wfe.open_timers.items()}

    @property
    def open_children(self) -> dict[str, int]:
        """Child workflow id -> initiated event id, for every open child."""
        with self.backend.lock:
            kids = self.wfe.children
            return {
                i: c.parent_link.initiated_event_id
                for i, c in kids.items()
                if c.parent_link is not None
            }

    @property
    def child_attrs(self) -> dict[int, dict[str, Any]]:
        """Initiated event id -> the StartChildWorkflowExecutionInitiated attributes."""
        key = "startChildWorkflowExecutionInitiatedEventAttributes"
        return {e["eventId"]: e[key] for e in self.events if key in e}

    # -- deciding ---------------------------------------------------------------------------

    def decision_task(self) -> list[Event]:
        """Poll the run's decision task: its whole history, every page."""
        assert self.decision_due, "no decision task is scheduled"
        params: dict[str, Any] = {"domain": DOMAIN, "taskList": {"name": self.task_list}}
        task = self.call("PollForDecisionTask", identity="sim", **params)
        assert task.get("taskToken"), "the scheduled decision task was not handed out"
        self._token = str(task["taskToken"])
        events: list[Event] = list(task["events"])
        while task.get("nextPageToken"):
            task = self.call("PollForDecisionTask", nextPageToken=task["nextPageToken"], **params)
            events.extend(task["events"])
        return events

    def respond(self, decisions: list[Decision]) -> None:
        assert self.wfe.started_dt is not None, "respond without a started decision task"
        self._register_named_types(decisions)
        self.call("RespondDecisionTaskCompleted", taskToken=self._token, decisions=decisions)
        self.decision_log.append(decisions)

    def timeout_decision_task(self) -> None:
        """The decider died holding the task: its start-to-close timeout passes."""
        dt = self.wfe.started_dt
        assert dt is not None and dt.deadline is not None, "no decision task is started"
        self.backend.scheduler.fire(dt.deadline)

    # -- the outside world: activities -----------------------------------------------------

    def _activity(self, activity_id: str) -> RunActivityTask:
        task = self.wfe.activities.get(activity_id)
        assert task is not None, f"activity {activity_id!r} is not open"
        return task

    def activity(self, activity_id: str) -> dict[str, Any]:
        """The ActivityTaskScheduled attributes of an open activity."""
        scheduled = self._activity(activity_id).scheduled_event_id
        with self.backend.lock:  # one event, not the whole history through the API
            event = self.wfe.history[scheduled - 1].to_dict()
        return event["activityTaskScheduledEventAttributes"]  # type: ignore[no-any-return]

    def _start_activity(self, activity_id: str) -> str:
        """A worker takes this very task (not whichever the list hands out first)."""
        task = self._activity(activity_id)
        with self.backend.lock:
            if task.state == "SCHEDULED":
                activities.start(task, "sim-worker")
        return str(task.task_token)

    def complete_activity(self, activity_id: str, result: str | None) -> None:
        token = self._start_activity(activity_id)
        params = {} if result is None else {"result": result}
        self.call("RespondActivityTaskCompleted", taskToken=token, **params)

    def fail_activity(self, activity_id: str, reason: str, details: str = "") -> None:
        token = self._start_activity(activity_id)
        self.call("RespondActivityTaskFailed", taskToken=token, reason=reason, details=details)

    def timeout_activity(
        self, activity_id: str, timeout_type: str = "START_TO_CLOSE", details: str | None = None
    ) -> None:
        """``details``: the last heartbeat's, sent as a heartbeat first; None: the task never
        heartbeated (SWF then leaves them out of the timeout)."""
        if timeout_type != "SCHEDULE_TO_START":  # that one only a task nobody took can reach
            token = self._start_activity(activity_id)
            if details is not None:
                self.call("RecordActivityTaskHeartbeat", taskToken=token, details=details)
        task = self._activity(activity_id)
        if timeout_type == "HEARTBEAT":
            with self.backend.lock:  # the heartbeat timeout has passed since the last beat
                task.last_heartbeat_timestamp = 0.0
        deadline = task.deadlines.get(timeout_type)
        assert deadline is not None, f"{activity_id} has no {timeout_type} timeout"
        self.backend.scheduler.fire(deadline)

    def cancel_activity(self, activity_id: str) -> None:
        token = self._start_activity(activity_id)
        self.call("RespondActivityTaskCanceled", taskToken=token, details="stopped")

    # -- timers, children, signals, cancellation -------------------------------------------

    def fire_timer(self, timer_id: str) -> None:
        entry = self.wfe.open_timers.get(timer_id)
        assert entry is not None, f"timer {timer_id!r} is not open"
        self.backend.scheduler.fire(entry[1])

    def child_run_id(self, workflow_id: str) -> str:
        child = self.wfe.children.get(workflow_id)
        assert child is not None, f"child {workflow_id!r} is not open"
        return str(child.run_id)

    def start_child(self, workflow_id: str) -> None:
        """The embedded SWF starts a child with the decision: nothing is left to do."""
        assert workflow_id in self.open_children, f"child {workflow_id!r} is not open"

    def close_child(self, workflow_id: str, event_type: str, **extra: Any) -> None:
        """End an open child the way ``event_type`` (ChildWorkflowExecution<how>) says."""
        child = self.wfe.children.get(workflow_id)
        assert child is not None, f"child {workflow_id!r} is not open"
        how = event_type.removeprefix("ChildWorkflowExecution")
        if how == "Terminated":
            self.call("TerminateWorkflowExecution", domain=DOMAIN, workflowId=workflow_id)
            return
        if how == "TimedOut":
            assert child.timeout_deadline is not None
            self.backend.scheduler.fire(child.timeout_deadline)
            return
        closing = {
            "Completed": ("CompleteWorkflowExecution", ("result",)),
            "Failed": ("FailWorkflowExecution", ("reason", "details")),
            "Canceled": ("CancelWorkflowExecution", ("details",)),
        }
        kind, fields = closing[how]
        attributes = {k: extra[k] for k in fields if k in extra}
        with self.backend.lock:  # this child's own decision task, whatever the list holds
            dt = child.scheduled_dt
            assert dt is not None, f"child {workflow_id!r} has no decision task"
            child.start_decision(dt, "sim-child-decider")
            token = str(dt.task_token)
        decision = {"decisionType": kind, attrs_key(kind) + "DecisionAttributes": attributes}
        self.call("RespondDecisionTaskCompleted", taskToken=token, decisions=[decision])

    def request_cancel(self) -> None:
        self.call("RequestCancelWorkflowExecution", domain=DOMAIN, workflowId=WORKFLOW_ID)

    def signal(self, name: str = "poke", input: str = "{}") -> None:
        self.call(
            "SignalWorkflowExecution",
            domain=DOMAIN,
            workflowId=WORKFLOW_ID,
            signalName=name,
            input=input,
        )

    def deprecate_workflow_type(self) -> None:
        self.call("DeprecateWorkflowType", domain=DOMAIN, workflowType=WORKFLOW_TYPE)


class ActivityError(Exception):
    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


Worker = Callable[[str, str, str, Any], str | None]  # (activity id, name, version, input)
Decider = Callable[[list[Event]], list[Decision]]


def run(
    sim: SwfSim,
    decider: Decider,
    worker: Worker,
    *,
    child_result: Callable[[dict[str, Any]], str | None] | None = None,
    max_steps: int = 10_000,
) -> str:
    """Drive the execution until it closes: decide, then run every open activity in order,
    then fire timers, then finish children. Fails the test if nothing can move."""
    for _ in range(max_steps):
        closed = sim.closed
        if closed:
            return closed
        if sim.decision_due:
            sim.respond(decider(sim.decision_task()))
            continue
        open_activities = sim.open_activities
        if open_activities:
            for activity_id in list(open_activities):
                a = sim.activity(activity_id)
                try:
                    result = worker(
                        activity_id,
                        a["activityType"]["name"],
                        a["activityType"]["version"],
                        json.loads(a["input"]),
                    )
                except ActivityError as exc:
                    sim.fail_activity(activity_id, exc.reason, exc.details)
                else:
                    sim.complete_activity(activity_id, result)
            continue
        open_timers = sim.open_timers
        if open_timers:
            for timer_id in list(open_timers):
                sim.fire_timer(timer_id)
            continue
        open_children = sim.open_children
        if open_children:
            started = sim.child_attrs
            for workflow_id, initiated in list(open_children.items()):
                result = child_result(started[initiated]) if child_result else None
                extra = {} if result is None else {"result": result}
                sim.close_child(workflow_id, "ChildWorkflowExecutionCompleted", **extra)
            continue
        raise AssertionError("the workflow hangs: nothing open and no decision task")
    raise AssertionError("too many steps")


def closing(sim: SwfSim) -> dict[str, Any]:
    """The attributes of the event that closed the execution."""
    closed = sim.closed
    assert closed is not None
    return sim.events[-1][attrs_key(closed) + "EventAttributes"]  # type: ignore[no-any-return]


class _Refusals(DecisionFaults):
    """Refuses exactly the decisions a test lists, in order, instead of a random share."""

    def __init__(self, refuse: dict[str, list[str]]) -> None:
        super().__init__(0.0)
        self.refuse = refuse

    def draw(self, decision_type: str) -> str | None:
        causes = self.refuse.get(decision_type)
        return causes.pop(0) if causes else None
