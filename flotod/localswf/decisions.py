"""What each decision of RespondDecisionTaskCompleted does, as SWF does it.

A decision SWF would refuse for a reason of state (unknown type, id in use, new events
since the task started) becomes the matching ``...Failed`` event and a new decision task,
never an HTTP error and never a stuck workflow. Events a response's own decisions cause are
not "new" to it: a close in the same response as a signal to another run succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from moto.swf.exceptions import SWFDefaultUndefinedFault, SWFValidationException
from moto.swf.models.workflow_type import WorkflowType

from flotod.localswf import activities
from flotod.localswf.execution import LocalWorkflowExecution, ParentLink
from flotod.localswf.faults import DecisionFaults

if TYPE_CHECKING:
    from moto.swf.models.domain import Domain

    from flotod.localswf.execution import RunDecisionTask


class Runs(Protocol):
    """What decisions need of the backend beyond the deciding run: other runs, by id."""

    def find_open(
        self, domain: str, workflow_id: str, run_id: str | None = None
    ) -> LocalWorkflowExecution | None: ...

    def new_execution(
        self, domain: Domain, wf_type: WorkflowType, workflow_id: str, **kwargs: Any
    ) -> LocalWorkflowExecution: ...

    def add_execution(self, wfe: LocalWorkflowExecution) -> None: ...


@dataclass(frozen=True)
class Step:
    """One response being applied: the runs it may reach, the deciding run, and the id of
    its DecisionTaskCompleted event."""

    runs: Runs
    run: LocalWorkflowExecution
    event_id: int
    faults: DecisionFaults | None = None

    def injected(self, decision_type: str) -> str | None:
        """The cause of an injected refusal of this decision (tests only), or None."""
        return self.faults.draw(decision_type) if self.faults is not None else None


FollowUp = Callable[[], None]
Handler = Callable[[Step, dict[str, Any]], "FollowUp | None"]
OPEN_TIMERS_LIMIT = 1000
OPEN_CHILDREN_LIMIT = 1000


CLOSING = frozenset(
    {
        "CompleteWorkflowExecution",
        "FailWorkflowExecution",
        "CancelWorkflowExecution",
        "ContinueAsNewWorkflowExecution",
    }
)


def respond(
    runs: Runs,
    dt: RunDecisionTask,
    decisions: list[dict[str, Any]],
    execution_context: str | None,
    faults: DecisionFaults | None = None,
) -> None:
    """RespondDecisionTaskCompleted for a started task: validated whole before anything is
    recorded (a refused response changes nothing, as on SWF), then applied in order."""
    check_closing_last(decisions)
    wfe = dt.wfe
    wfe.validate_decisions(decisions)
    step = Step(runs, wfe, wfe.complete_decision(dt, execution_context), faults)
    with wfe.applying():
        # External signals and cancellations only start with this response; their outcome
        # reaches this run afterwards (not at all once one of them closed it).
        for action in apply_decisions(step, decisions):
            action()


def check_closing_last(decisions: list[dict[str, Any]]) -> None:
    """A closing decision (continue-as-new included) anywhere but last refuses the response.

    SWF answers HTTP 400 "Close must be last decision in list" and records nothing, measured
    against SWF in https://github.com/floci-io/floci/pull/2257 ("Closing decision not last");
    the Decision reference (https://docs.aws.amazon.com/amazonswf/latest/apireference/
    API_Decision.html) names the four closing decisions. moto checks only three of them.
    """
    for decision in decisions[:-1]:
        if decision.get("decisionType") in CLOSING:
            raise SWFValidationException("Close must be last decision in list")


def apply_decisions(step: Step, decisions: list[dict[str, Any]]) -> list[FollowUp]:
    """Apply decisions in order.

    Returns what the response only initiated (external signals and cancellations), to run
    once every decision is applied: their outcome is not an event the response's own closing
    decision could have seen.
    """
    initiated: list[FollowUp] = []
    for decision in decisions:
        if not step.run.open:  # a close is last (check_closing_last): defensive only
            break
        kind = decision.get("decisionType", "")
        key = kind[:1].lower() + kind[1:] + "DecisionAttributes"
        handler = HANDLERS.get(kind)
        if handler is not None:
            follow_up = handler(step, decision.get(key) or {})
            if follow_up is not None:
                initiated.append(follow_up)
    return initiated


def _closing_allowed(wfe: LocalWorkflowExecution, failed_event: str, event_id: int) -> bool:
    """A close is refused while events the decider has not seen are waiting."""
    if wfe.scheduled_dt is None:
        return True
    wfe.add_event(
        failed_event, cause="UNHANDLED_DECISION", decision_task_completed_event_id=event_id
    )
    return False


def _complete(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    if _closing_allowed(wfe, "CompleteWorkflowExecutionFailed", event_id):
        wfe.complete(event_id, attrs.get("result"))


def _fail(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    if _closing_allowed(wfe, "FailWorkflowExecutionFailed", event_id):
        wfe.fail(event_id, attrs.get("details"), attrs.get("reason"))


def _cancel(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    if _closing_allowed(wfe, "CancelWorkflowExecutionFailed", event_id):
        wfe.cancel(event_id, attrs.get("details"))


def _continue_as_new(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    if not _closing_allowed(wfe, "ContinueAsNewWorkflowExecutionFailed", event_id):
        return
    version = attrs.get("workflowTypeVersion") or wfe.workflow_type.version
    wf_type = wfe.domain.get_type("workflow", wfe.workflow_type.name, version, ignore_empty=True)
    if not isinstance(wf_type, WorkflowType) or wf_type.status == "DEPRECATED":
        known = isinstance(wf_type, WorkflowType)
        cause = "WORKFLOW_TYPE_DOES_NOT_EXIST" if not known else "WORKFLOW_TYPE_DEPRECATED"
        wfe.add_event(
            "ContinueAsNewWorkflowExecutionFailed",
            cause=cause,
            decision_task_completed_event_id=event_id,
        )
        wfe.schedule_decision_task()
        return
    new = step.runs.new_execution(
        wfe.domain,
        wf_type,
        wfe.workflow_id,
        workflow_input=attrs.get("input"),
        tag_list=attrs.get("tagList", wfe.tag_list),
        task_list=(attrs.get("taskList") or {}).get("name") or wfe.task_list,
        execution_start_to_close_timeout=attrs.get("executionStartToCloseTimeout")
        or wfe.execution_start_to_close_timeout,
        task_start_to_close_timeout=attrs.get("taskStartToCloseTimeout")
        or wfe.task_start_to_close_timeout,
        child_policy=attrs.get("childPolicy") or wfe.child_policy,
        task_priority=attrs.get("taskPriority", wfe.task_priority),
        continued_execution_run_id=wfe.run_id,
        parent_link=wfe.parent_link,
    )
    if wfe.parent_link is not None and wfe.parent_link.parent.open:
        wfe.parent_link.parent.children[wfe.workflow_id] = new
    wfe.close(
        "CONTINUED_AS_NEW",
        "WorkflowExecutionContinuedAsNew",
        decision_task_completed_event_id=event_id,
        new_execution_run_id=new.run_id,
        input=new.input,
        execution_start_to_close_timeout=new.execution_start_to_close_timeout,
        task_list=new.task_list,
        task_start_to_close_timeout=new.task_start_to_close_timeout,
        child_policy=new.child_policy,
        tag_list=new.tag_list or None,
        task_priority=new.task_priority,
        workflow_type=new.workflow_type,
    )
    step.runs.add_execution(new)


def _record_marker(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    wfe.add_event(
        "MarkerRecorded",
        marker_name=attrs.get("markerName"),
        details=attrs.get("details"),
        decision_task_completed_event_id=event_id,
    )


def _start_timer(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    timer_id = attrs.get("timerId", "")
    cause = step.injected("StartTimer")
    if cause is None and timer_id in wfe.open_timers:
        cause = "TIMER_ID_ALREADY_IN_USE"
    elif cause is None and len(wfe.open_timers) >= OPEN_TIMERS_LIMIT:
        cause = "OPEN_TIMERS_LIMIT_EXCEEDED"
    if cause is not None:
        wfe.add_event(
            "StartTimerFailed",
            timer_id=timer_id,
            cause=cause,
            decision_task_completed_event_id=event_id,
        )
        wfe.schedule_decision_task()
        return
    fire_after = attrs.get("startToFireTimeout", "0")
    evt = wfe.add_event(
        "TimerStarted",
        timer_id=timer_id,
        control=attrs.get("control"),
        start_to_fire_timeout=fire_after,
        decision_task_completed_event_id=event_id,
    )
    started = evt.event_id

    def fire() -> None:
        entry = wfe.open_timers.get(timer_id)
        if not wfe.open or entry is None or entry[0] != started:
            return
        del wfe.open_timers[timer_id]
        wfe.add_event("TimerFired", timer_id=timer_id, started_event_id=started)
        wfe.schedule_decision_task()

    deadline = wfe.host.scheduler.call_later(float(fire_after), fire)
    wfe.open_timers[timer_id] = (started, deadline)


def _cancel_timer(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    timer_id = attrs.get("timerId", "")
    entry = wfe.open_timers.pop(timer_id, None)
    if entry is None:
        wfe.add_event(
            "CancelTimerFailed",
            timer_id=timer_id,
            cause="TIMER_ID_UNKNOWN",
            decision_task_completed_event_id=event_id,
        )
        wfe.schedule_decision_task()
        return
    entry[1].cancel()
    wfe.add_event(
        "TimerCanceled",
        timer_id=timer_id,
        started_event_id=entry[0],
        decision_task_completed_event_id=event_id,
    )


def _start_child(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    type_attrs = attrs.get("workflowType") or {}
    name, version = type_attrs.get("name", ""), type_attrs.get("version", "")
    child_id = attrs.get("workflowId", "")
    task_list = (attrs.get("taskList") or {}).get("name")
    evt = wfe.add_event(
        "StartChildWorkflowExecutionInitiated",
        workflow_id=child_id,
        workflow_type={"name": name, "version": version},
        control=attrs.get("control"),
        input=attrs.get("input"),
        execution_start_to_close_timeout=attrs.get("executionStartToCloseTimeout"),
        task_list=task_list,
        task_priority=attrs.get("taskPriority"),
        decision_task_completed_event_id=event_id,
        child_policy=attrs.get("childPolicy"),
        task_start_to_close_timeout=attrs.get("taskStartToCloseTimeout"),
        tag_list=attrs.get("tagList"),
    )
    initiated = evt.event_id

    def failed(cause: str) -> None:
        wfe.add_event(
            "StartChildWorkflowExecutionFailed",
            workflow_type={"name": name, "version": version},
            cause=cause,
            workflow_id=child_id,
            initiated_event_id=initiated,
            decision_task_completed_event_id=event_id,
            control=attrs.get("control"),
        )
        wfe.schedule_decision_task()

    injected = step.injected("StartChildWorkflowExecution")
    if injected is not None:
        return failed(injected)
    wf_type = wfe.domain.get_type("workflow", name, version, ignore_empty=True)
    if not isinstance(wf_type, WorkflowType):
        return failed("WORKFLOW_TYPE_DOES_NOT_EXIST")
    if wf_type.status == "DEPRECATED":
        return failed("WORKFLOW_TYPE_DEPRECATED")
    if step.runs.find_open(wfe.domain.name, child_id) is not None:
        return failed("WORKFLOW_ALREADY_RUNNING")
    if len(wfe.children) >= OPEN_CHILDREN_LIMIT:
        return failed("OPEN_CHILDREN_LIMIT_EXCEEDED")
    link = ParentLink(wfe, initiated)
    try:
        child = step.runs.new_execution(
            wfe.domain,
            wf_type,
            child_id,
            workflow_input=attrs.get("input"),
            tag_list=attrs.get("tagList"),
            task_list=task_list,
            execution_start_to_close_timeout=attrs.get("executionStartToCloseTimeout"),
            task_start_to_close_timeout=attrs.get("taskStartToCloseTimeout"),
            child_policy=attrs.get("childPolicy"),
            task_priority=attrs.get("taskPriority"),
            parent_link=link,
        )
    except SWFDefaultUndefinedFault as exc:  # a default the type does not define
        key = str(exc.message)
        cause = {
            "executionStartToCloseTimeout": "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED",
            "taskList": "DEFAULT_TASK_LIST_UNDEFINED",
            "taskStartToCloseTimeout": "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED",
            "childPolicy": "DEFAULT_CHILD_POLICY_UNDEFINED",
        }.get(key, "OPERATION_NOT_PERMITTED")
        return failed(cause)
    wfe.children[child_id] = child
    step.runs.add_execution(child)
    started = wfe.add_event(
        "ChildWorkflowExecutionStarted",
        workflow_execution=child.to_short_dict(),
        workflow_type=wf_type,
        initiated_event_id=initiated,
    )
    link.started_event_id = started.event_id
    wfe.schedule_decision_task()
    return None


def _external(
    step: Step,
    attrs: dict[str, Any],
    action: str,
    done_event: str,
    act: Callable[[Any, dict[str, Any], int], None],
    **initiated_attrs: Any,
) -> FollowUp:
    """An action on another execution: ``<action>Initiated`` now; after the whole response
    is applied, ``act`` on the target and ``done_event``, or ``<action>Failed`` when no such
    execution is open (as on SWF, the outcome reaches only a sender that is still open)."""
    wfe, event_id = step.run, step.event_id
    target_id, run_id = attrs.get("workflowId", ""), attrs.get("runId")
    evt = wfe.add_event(
        f"{action}Initiated",
        workflow_id=target_id,
        run_id=run_id,
        decision_task_completed_event_id=event_id,
        control=attrs.get("control"),
        **initiated_attrs,
    )
    initiated, sender = evt.event_id, wfe.to_short_dict()

    def deliver() -> None:
        target = step.runs.find_open(wfe.domain.name, target_id, run_id)
        if target is None:
            _outcome(
                wfe,
                f"{action}Failed",
                workflow_id=target_id,
                run_id=run_id,
                cause="UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
                initiated_event_id=initiated,
                decision_task_completed_event_id=event_id,
                control=attrs.get("control"),
            )
            return
        act(target, sender, initiated)
        _outcome(
            wfe,
            done_event,
            workflow_execution=target.to_short_dict(),
            initiated_event_id=initiated,
        )

    return deliver


def _signal_external(step: Step, attrs: dict[str, Any]) -> FollowUp:
    def act(target: Any, sender: dict[str, Any], initiated: int) -> None:
        target.signal(attrs.get("signalName", ""), attrs.get("input"), sender, initiated)

    return _external(
        step,
        attrs,
        "SignalExternalWorkflowExecution",
        "ExternalWorkflowExecutionSignaled",
        act,
        signal_name=attrs.get("signalName"),
        input=attrs.get("input"),
    )


def _cancel_external(step: Step, attrs: dict[str, Any]) -> FollowUp:
    def act(target: Any, sender: dict[str, Any], initiated: int) -> None:
        target.request_cancel(sender, initiated)

    return _external(
        step,
        attrs,
        "RequestCancelExternalWorkflowExecution",
        "ExternalWorkflowExecutionCancelRequested",
        act,
    )


def _outcome(wfe: LocalWorkflowExecution, event_type: str, **attributes: Any) -> None:
    """An external action's result: a closed run's history takes no more events."""
    if wfe.open:
        wfe.add_event(event_type, **attributes)
        wfe.schedule_decision_task()


def _schedule_lambda(step: Step, attrs: dict[str, Any]) -> None:
    wfe, event_id = step.run, step.event_id
    wfe.add_event(
        "ScheduleLambdaFunctionFailed",
        id=attrs.get("id"),
        name=attrs.get("name"),
        cause="LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION",
        decision_task_completed_event_id=event_id,
    )
    wfe.schedule_decision_task()


HANDLERS: dict[str, Handler] = {
    "CompleteWorkflowExecution": _complete,
    "FailWorkflowExecution": _fail,
    "CancelWorkflowExecution": _cancel,
    "ContinueAsNewWorkflowExecution": _continue_as_new,
    "ScheduleActivityTask": lambda step, attrs: activities.schedule(
        step.run, step.event_id, attrs, step.injected("ScheduleActivityTask")
    ),
    "RequestCancelActivityTask": lambda step, attrs: activities.request_cancel(
        step.run, step.event_id, attrs
    ),
    "RecordMarker": _record_marker,
    "StartTimer": _start_timer,
    "CancelTimer": _cancel_timer,
    "StartChildWorkflowExecution": _start_child,
    "SignalExternalWorkflowExecution": _signal_external,
    "RequestCancelExternalWorkflowExecution": _cancel_external,
    "ScheduleLambdaFunction": _schedule_lambda,
}
