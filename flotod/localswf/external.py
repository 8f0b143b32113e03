"""Decisions that reach other runs: starting a child, signalling or cancelling another run.

A child starts within the response that asks for it; a signal or a cancellation only starts
(its ``...Initiated`` event) and reaches the target once the whole response is applied, so its
outcome is never an event the response's own closing decision could have seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.swf.exceptions import SWFDefaultUndefinedFault
from moto.swf.models.workflow_type import WorkflowType

from flotod.localswf.execution import LocalWorkflowExecution, ParentLink
from flotod.localswf.step import FollowUp, Step

OPEN_CHILDREN_LIMIT = 1000


def start_child(step: Step, attrs: dict[str, Any]) -> None:
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


def signal_external(step: Step, attrs: dict[str, Any]) -> FollowUp:
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


def cancel_external(step: Step, attrs: dict[str, Any]) -> FollowUp:
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
