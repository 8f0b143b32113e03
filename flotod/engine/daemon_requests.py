"""What a ``startChildWorkflowExecution`` signal asks for, and the child's own input.

A signal is validated once, here, into a :class:`ChildRequest`; anything wrong becomes a
:class:`Rejected` reason the daemon records in its history. The child workflow carries its spec
in its own input (:func:`child_input`), so any daemon process can decide for it later
(:func:`read_child_input`). Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flotod.engine.allowlist import ALLOW_ALL, Allowlist, describe_refusal
from flotod.engine.attributes import attributes_key, event_attributes
from flotod.engine.decide import decide, workflow_input
from flotod.engine.decisions import (
    MAX_DECISIONS,
    MAX_ID,
    MAX_PAYLOAD,
    fail_workflow,
    signal_external,
    to_json,
)
from flotod.errors import SpecError
from flotod.safe_json import loads
from flotod.specs import DeciderSpec, decider_spec_from_dict, to_jsonable

START_SIGNAL = "startChildWorkflowExecution"
CLOSED_SIGNAL = "flotod.childClosed"
REJECTED_MARKER = "flotod.rejectedSignal"  # details: {"key", "reason", "workflow_id"?}
REJECTED_BATCH_MARKER = "flotod.rejectedSignals"  # details: {"rejected": [those, ...]}
DAEMON_TYPE = ("flotod_daemon", "v1")
CHILD_TYPE = ("flotod_daemon_child", "v1")
_CHILD_KEY = "flotod_daemon_child"


class Rejected(ValueError):
    """A signal the daemon cannot act on; the message is the reason recorded in its marker."""


@dataclass(frozen=True)
class ChildRequest:
    """A validated request: the spec in flotod's JSON form, the child's input, an optional id."""

    spec: dict[str, Any]
    input: Any
    has_input: bool
    workflow_id: str | None

    def to_carried(self) -> dict[str, Any]:
        """The form kept in a continued daemon run's input."""
        out: dict[str, Any] = {"decider_spec": self.spec}
        if self.has_input:
            out["input"] = self.input
        if self.workflow_id is not None:
            out["workflow_id"] = self.workflow_id
        return out


def _spec_value(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return loads(raw)
        except ValueError as exc:
            raise Rejected(f"decider_spec is a string but not JSON: {exc}") from None
    return raw


def parse_request(
    payload: Any,
    domain: str,
    daemon_workflow_id: str,
    allow: Allowlist = ALLOW_ALL,
    max_payload: int = MAX_PAYLOAD,
) -> ChildRequest:
    """Validate a signal's decoded input (a dict, or JSON text of one); raise Rejected.

    ``daemon_workflow_id`` goes into the child's input, so it counts towards ``max_payload``
    (SWF's limit, or a larger bound when large payloads go to S3).
    ``allow`` bounds what the spec's tasks may name and the child's workflow id.
    """
    if isinstance(payload, str):
        try:
            payload = loads(payload)
        except ValueError as exc:
            raise Rejected(f"signal input is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Rejected("signal input must be a JSON object with a decider_spec")
    unknown = sorted(set(payload) - {"decider_spec", "input", "workflow_id"})
    if unknown:
        raise Rejected(f"signal input has unknown keys: {', '.join(unknown)}")
    if "decider_spec" not in payload:
        raise Rejected("signal input has no decider_spec")
    try:
        spec = decider_spec_from_dict(_spec_value(payload["decider_spec"]))
    except SpecError as exc:
        raise Rejected(f"invalid decider_spec: {exc}") from None
    if spec.domain is not None and spec.domain != domain:
        raise Rejected(f"decider_spec domain {spec.domain!r} is not the daemon's {domain!r}")
    workflow_id = payload.get("workflow_id")
    if workflow_id is not None and (
        not isinstance(workflow_id, str) or not workflow_id or len(workflow_id) > MAX_ID
    ):
        raise Rejected("workflow_id must be a string of 1 to 256 characters")
    if workflow_id is not None and not allow.child_id_allowed(workflow_id):
        raise Rejected(f"workflow_id {workflow_id!r} is not allowed")
    refused = allow.refusal(spec.tasks_by_id.values(), spec.default_activity_task_list)
    if refused is not None:
        raise Rejected(f"not_allowed: {describe_refusal(refused)}")
    request = ChildRequest(
        spec=to_jsonable(spec),
        input=payload.get("input"),
        has_input="input" in payload,
        workflow_id=workflow_id,
    )
    size = len(child_input(request, daemon_workflow_id))
    if size > max_payload:
        allows = "SWF allows" if max_payload == MAX_PAYLOAD else "the limit is"
        raise Rejected(f"the child's input would be {size} characters; {allows} {max_payload}")
    return request


def child_input(request: ChildRequest, daemon_workflow_id: str) -> str:
    """The child workflow's input: its spec, its own input and where to report its end."""
    body: dict[str, Any] = {"decider_spec": request.spec, "daemon_workflow_id": daemon_workflow_id}
    if request.has_input:
        body["input"] = request.input
    return to_json({_CHILD_KEY: body})


@dataclass(frozen=True)
class ChildInput:
    spec: DeciderSpec
    input_text: str | None  # what the engine sees as the workflow input
    daemon_workflow_id: str | None


def read_child_input(raw: str | None) -> ChildInput:
    """Parse a child's input; raise SpecError naming what is wrong."""
    try:
        value = loads(raw or "")
    except ValueError as exc:
        raise SpecError(f"child workflow input is not JSON: {exc}") from None
    body = value.get(_CHILD_KEY) if isinstance(value, dict) else None
    if not isinstance(body, dict):
        raise SpecError(f"child workflow input has no {_CHILD_KEY!r} object")
    spec = decider_spec_from_dict(body.get("decider_spec"))
    daemon_id = body.get("daemon_workflow_id")
    return ChildInput(
        spec=spec,
        input_text=to_json(body["input"]) if "input" in body else None,
        daemon_workflow_id=daemon_id if isinstance(daemon_id, str) and daemon_id else None,
    )


def with_input(events: list[dict[str, Any]], input_text: str | None) -> list[dict[str, Any]]:
    """A copy of ``events`` whose WorkflowExecutionStarted input is ``input_text``."""
    out = []
    for event in events:
        if event.get("eventType") == "WorkflowExecutionStarted":
            attrs = dict(event_attributes(event))
            attrs.pop("input", None)
            if input_text is not None:
                attrs["input"] = input_text
            out.append({**event, attributes_key("WorkflowExecutionStarted"): attrs})
        else:
            out.append(event)
    return out


def decide_child(
    events: list[dict[str, Any]],
    workflow_id: str,
    run_id: str,
    allow: Allowlist = ALLOW_ALL,
    max_payload: int = MAX_PAYLOAD,
) -> tuple[list[dict[str, Any]], str | None]:
    """Decisions for a child the daemon started, and an error note when its input is broken.

    The engine runs the spec from the child's input, seeing the request's ``input`` as the
    workflow input. With its closing decision the child signals the daemon workflow
    (``flotod.childClosed``, in the same response, as SWF only initiates the signal there),
    so a continued daemon run frees its slot. A close SWF refused is retried without a second
    signal: the first was initiated all the same. ``allow`` is checked again here, where a
    generator's output joins the spec (and a child started before a narrower config).
    """
    try:
        parsed = read_child_input(workflow_input(events))
    except Exception as exc:  # SpecError, or a bug: either way this child cannot run
        if any(e.get("eventType") in _CLOSED for e in events):
            return [], str(exc)
        return [fail_workflow("invalid_child_input", {"error": str(exc)})], str(exc)
    decisions = decide(
        with_input(events, parsed.input_text),
        parsed.spec,
        workflow_id,
        allow=allow,
        max_payload=max_payload,
    )
    closing = any(x.get("decisionType") in _REPORTED_CLOSES for x in decisions)
    if closing and parsed.daemon_workflow_id and not _signalled(events):
        signal = signal_external(
            parsed.daemon_workflow_id,
            CLOSED_SIGNAL,
            to_json({"workflow_id": workflow_id, "run_id": run_id}),
        )
        # A response full to the decision cap sends the signal alone and closes next time.
        decisions = [signal, *decisions] if len(decisions) < MAX_DECISIONS else [signal]
    return decisions, None


def _signalled(events: list[dict[str, Any]]) -> bool:
    return any(
        event.get("eventType") == "SignalExternalWorkflowExecutionInitiated"
        and event_attributes(event).get("signalName") == CLOSED_SIGNAL
        for event in events
    )


_CLOSED = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionContinuedAsNew",
        "WorkflowExecutionTerminated",
        "WorkflowExecutionTimedOut",
    }
)
_REPORTED_CLOSES = frozenset(
    {"CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution"}
)
