"""What each decision of RespondDecisionTaskCompleted does, as SWF does it.

A decision SWF would refuse for a reason of state (unknown type, id in use, new events
since the task started) becomes the matching ``...Failed`` event and a new decision task,
never an HTTP error and never a stuck workflow. Events a response's own decisions cause are
not "new" to it: a close in the same response as a signal to another run succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.swf.exceptions import SWFValidationException
from moto.swf.models.workflow_type import WorkflowType

from flotod.localswf import activities, external
from flotod.localswf.step import FollowUp, Runs, Step

if TYPE_CHECKING:
    from flotod.localswf.execution import LocalWorkflowExecution, RunDecisionTask
    from flotod.localswf.faults import DecisionFaults

Handler = Callable[[Step, dict[str, Any]], "FollowUp | None"]
OPEN_TIMERS_LIMIT = 1000


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
    "StartChildWorkflowExecution": external.start_child,
    "SignalExternalWorkflowExecution": external.signal_external,
    "RequestCancelExternalWorkflowExecution": external.cancel_external,
    "ScheduleLambdaFunction": _schedule_lambda,
}
