"""Decision dicts for RespondDecisionTaskCompleted, and the SWF limits they must respect.

Everything the decider sends goes through these builders, so the size limits are enforced in
one place: reasons are cut to 256 characters and details written by flotod are shrunk to fit,
while task inputs and workflow results that are too large are refused by the caller.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from flotod.specs.limits import MAX_SECONDS, clamp_seconds

MAX_DECISIONS = 100
MAX_OPEN_ACTIVITIES = 1000
MAX_OPEN_TIMERS = 1000
MAX_OPEN_CHILDREN = 1000
MAX_PAYLOAD = 32768
# With [payloads] on, values past MAX_PAYLOAD are stored in S3 after the engine decides, so
# the engine only stops a runaway value, clearly, before it is built, sent and stored.
MAX_OFFLOADED = 256 * 1024 * 1024
MAX_REASON = 256
MAX_ID = 256
MAX_TIMER_SECONDS = MAX_SECONDS
REJECTED_REASON = "decision_rejected"

CLOSING_DECISIONS = frozenset(
    {
        "CompleteWorkflowExecution",
        "FailWorkflowExecution",
        "CancelWorkflowExecution",
        "ContinueAsNewWorkflowExecution",
    }
)

# The closing decisions after which no run of the workflow follows (not a continue-as-new).
FINAL_DECISIONS = CLOSING_DECISIONS - {"ContinueAsNewWorkflowExecution"}

Decision = dict[str, Any]


def to_json(value: Any) -> str:
    """Compact, key-sorted JSON, so that one value always gives one text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_limit(offloaded: bool) -> int:
    """The longest task input or workflow result the engine builds: SWF's own limit unless
    large payloads leave SWF (``[payloads]`` with a bucket). The one place that decides it."""
    return MAX_OFFLOADED if offloaded else MAX_PAYLOAD


def closes_workflow(decisions: Sequence[Mapping[str, Any]]) -> bool:
    """True when the decision list ends the execution (complete, fail, cancel, continue)."""
    return any(d.get("decisionType") in CLOSING_DECISIONS for d in decisions)


def ends_workflow(decisions: Sequence[Mapping[str, Any]]) -> bool:
    """True when the decisions close the run with no next run: complete, fail or cancel."""
    return any(d.get("decisionType") in FINAL_DECISIONS for d in decisions)


def schedule_activity(
    activity_id: str,
    name: str,
    version: str,
    input_text: str,
    task_list: str | None,
    timeouts: Mapping[str, str] | None = None,
) -> Decision:
    """``timeouts`` (SWF attribute name to text) override the type's registered defaults."""
    attrs: dict[str, Any] = {
        "activityType": {"name": name, "version": version},
        "activityId": activity_id,
        "input": input_text,
        **(timeouts or {}),
    }
    if task_list is not None:
        attrs["taskList"] = {"name": task_list}
    return {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": attrs}


def start_timer(timer_id: str, seconds: int, control: str) -> Decision:
    """``seconds`` is brought within SWF's 8 digits: one delay over it (say from a retry
    strategy) would make SWF refuse every decision of the response, again at every task."""
    return {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {
            "timerId": timer_id,
            "startToFireTimeout": str(clamp_seconds(seconds)),
            "control": control,
        },
    }


def start_child(
    workflow_id: str,
    name: str,
    version: str,
    input_text: str,
    task_list: str | None,
    control: str,
    execution_timeout_seconds: int | None = None,
    timeouts: Mapping[str, str] | None = None,
) -> Decision:
    """Without ``execution_timeout_seconds`` (or an ``executionStartToCloseTimeout`` in
    ``timeouts``, SWF attribute name to text) the child type's registered default applies."""
    attrs: dict[str, Any] = {
        "workflowType": {"name": name, "version": version},
        "workflowId": workflow_id,
        "input": input_text,
        "control": control,
        "childPolicy": "TERMINATE",
        **(timeouts or {}),
    }
    if task_list is not None:
        attrs["taskList"] = {"name": task_list}
    if execution_timeout_seconds is not None:
        attrs["executionStartToCloseTimeout"] = str(execution_timeout_seconds)
    return {
        "decisionType": "StartChildWorkflowExecution",
        "startChildWorkflowExecutionDecisionAttributes": attrs,
    }


def request_cancel_activity(activity_id: str) -> Decision:
    return {
        "decisionType": "RequestCancelActivityTask",
        "requestCancelActivityTaskDecisionAttributes": {"activityId": activity_id},
    }


def cancel_timer(timer_id: str) -> Decision:
    return {"decisionType": "CancelTimer", "cancelTimerDecisionAttributes": {"timerId": timer_id}}


def request_cancel_external(workflow_id: str, run_id: str | None) -> Decision:
    attrs = {"workflowId": workflow_id}
    if run_id:
        attrs["runId"] = run_id
    return {
        "decisionType": "RequestCancelExternalWorkflowExecution",
        "requestCancelExternalWorkflowExecutionDecisionAttributes": attrs,
    }


def complete_workflow(result_text: str) -> Decision:
    return {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": result_text},
    }


def fail_workflow(reason: str, details: Any) -> Decision:
    """``details`` is any JSON value; it is shrunk until it fits SWF's 32,768 characters."""
    return {
        "decisionType": "FailWorkflowExecution",
        "failWorkflowExecutionDecisionAttributes": {
            "reason": trim(reason, MAX_REASON),
            "details": fit_details(details),
        },
    }


def decision_rejected(message: str, refused: Sequence[Mapping[str, Any]] = ()) -> list[Decision]:
    """What to answer a decision task with after SWF refused its decisions (``refused``) with
    a ValidationException saying ``message``: a FailWorkflowExecution carrying the message.

    SWF records nothing for a refused response, so deciding again would send the same
    decisions at every decision task timeout until the run reaches 25,000 events; failing
    says why in the history instead. The message is cut to fit SWF's limit on details.
    """
    kinds = Counter(str(x.get("decisionType")) for x in refused)
    details = {"error": message, "refused": dict(sorted(kinds.items()))}
    return [fail_workflow(REJECTED_REASON, details)]


def cancel_workflow(details: str) -> Decision:
    return {
        "decisionType": "CancelWorkflowExecution",
        "cancelWorkflowExecutionDecisionAttributes": {"details": trim(details, MAX_PAYLOAD)},
    }


# Attributes of WorkflowExecutionStarted that a continued run keeps, so that it runs on the
# same task list with the same timeouts instead of the workflow type's defaults.
_CARRIED_ON = (
    "taskList",
    "taskPriority",
    "executionStartToCloseTimeout",
    "taskStartToCloseTimeout",
    "childPolicy",
    "tagList",
    "lambdaRole",
)


def continue_as_new(
    input_text: str | None,
    started: Mapping[str, Any],
    *,
    child_policy: str | None = None,
    task_list: str | None = None,
) -> Decision:
    """The next run keeps ``started``'s settings; ``child_policy`` and ``task_list`` override."""
    attrs: dict[str, Any] = {k: started[k] for k in _CARRIED_ON if started.get(k)}
    if input_text is not None:
        attrs["input"] = input_text
    if child_policy is not None:
        attrs["childPolicy"] = child_policy
    if task_list is not None:
        attrs["taskList"] = {"name": task_list}
    return {
        "decisionType": "ContinueAsNewWorkflowExecution",
        "continueAsNewWorkflowExecutionDecisionAttributes": attrs,
    }


def record_marker(name: str, details: Any) -> Decision:
    """``details`` is any JSON value, shrunk to fit like a failure's details."""
    return {
        "decisionType": "RecordMarker",
        "recordMarkerDecisionAttributes": {"markerName": name, "details": fit_details(details)},
    }


# The marker a repeating workflow's run records its result in before continuing as new.
RESULT_MARKER = "flotod.result"


def record_result(result_text: str) -> Decision:
    """The run's result (JSON text that already fits SWF's limit) in a ``flotod.result``
    marker, recorded as is (never shrunk: a cut result would read as a different one)."""
    return {
        "decisionType": "RecordMarker",
        "recordMarkerDecisionAttributes": {"markerName": RESULT_MARKER, "details": result_text},
    }


def signal_external(workflow_id: str, signal_name: str, input_text: str) -> Decision:
    """A signal to the open run of ``workflow_id`` (whichever run that is when it lands)."""
    return {
        "decisionType": "SignalExternalWorkflowExecution",
        "signalExternalWorkflowExecutionDecisionAttributes": {
            "workflowId": workflow_id,
            "signalName": signal_name,
            "input": input_text,
        },
    }


def trim(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fit_details(details: Any, limit: int = MAX_PAYLOAD) -> str:
    """JSON of ``details``, with its long strings and lists cut until the text fits ``limit``."""
    text = to_json(details)
    for cap in (4096, 1024, 256, 64):
        if len(text) <= limit:
            return text
        text = to_json(_shrink(details, cap))
    return trim(text, limit)


def _shrink(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        return trim(value, cap)
    if isinstance(value, list):
        items = [_shrink(v, cap) for v in value[:cap]]
        if len(value) > cap:
            items.append(f"... {len(value) - cap} more")
        return items
    if isinstance(value, dict):
        return {k: _shrink(v, cap) for k, v in value.items()}
    return value
