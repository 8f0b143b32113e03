"""The decider: the complete history of an execution and its spec in, decisions out.

``decide`` is a pure function. It rebuilds every task's state from the whole history on each
call, so a timed-out decision task, two deciders on one task list or a restarted decider need
no special handling, and it never raises: anything that goes wrong becomes a
FailWorkflowExecution with a short reason, so a workflow never hangs on a broken decider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flotod import safe_json
from flotod.engine import decisions as d
from flotod.engine.allowlist import Allowlist
from flotod.engine.attributes import event_attributes
from flotod.engine.completeness import check_complete
from flotod.engine.graph import CHILD, TIMER, Node, TaskGraph
from flotod.engine.history import (
    TIMER_CONTINUE,
    TIMER_RETRY,
    Event,
    Replay,
    child_control,
    timer_control,
)
from flotod.errors import SpecError
from flotod.specs import ActivityTask, ChildWorkflow, DeciderSpec, Timer
from flotod.specs.canonical import stable_hash
from flotod.specs.codec import tasks_from_list
from flotod.specs.tasks import timeout_attributes

RESERVED_KEY = "__flotod__"
_MISSING = object()


class _Fail(Exception):
    """Raised inside the decider to replace every decision with one FailWorkflowExecution."""

    def __init__(self, reason: str, details: Any) -> None:
        self.reason = reason
        self.details = details
        super().__init__(reason)


def workflow_input(events: Iterable[Event]) -> str | None:
    """The raw ``input`` of WorkflowExecutionStarted (None when absent or no such event)."""
    for event in events:
        if event.get("eventType") == "WorkflowExecutionStarted":
            attrs = event_attributes(event)
            value = attrs.get("input")
            return value if isinstance(value, str) else None
    return None


def decide(
    events: Sequence[Event],
    spec: DeciderSpec,
    workflow_id: str | None = None,
    *,
    started_event_id: int | None = None,
    allow: Allowlist | None = None,
    max_payload: int = d.MAX_PAYLOAD,
) -> list[d.Decision]:
    """Decisions for the execution whose complete, ascending history is ``events``.

    ``workflow_id`` (from the decision task) makes child workflow ids readable
    (``<workflow id>:<task id>``); without it they derive from the start event.
    ``started_event_id`` (the task's DecisionTaskStarted) is an event ``events`` must reach.
    ``allow`` bounds a spec that came with the run (see :mod:`flotod.engine.allowlist`): a task
    that names something outside it, generated ones included, fails the run (``not_allowed``)
    before anything is scheduled.
    ``max_payload`` (:func:`flotod.engine.decisions.payload_limit`): the longest task input
    or result the run may build before it fails with ``payload_too_large``.

    Raises :class:`~flotod.errors.IncompleteHistoryError`, and nothing else, when the events
    do not run from event 1 (to ``started_event_id``): such a task must not be answered.
    """
    check_complete(events, started_event_id)
    try:
        state = replay(events, spec)
    except Exception as exc:  # a decider must answer; the reason says what broke
        return [decider_error(exc)]
    if allow is not None and not state.closed:
        nodes = state.graph.nodes.values()
        refused = allow.refusal((n.task for n in nodes), spec.default_activity_task_list)
        if refused is not None:
            return _Decider(state, spec, workflow_id).failing(
                d.fail_workflow("not_allowed", refused)
            )
    return decide_from(state, spec, workflow_id, max_payload)


def replay(events: Sequence[Event], spec: DeciderSpec) -> Replay:
    """The state of an execution after reading ``events`` (may raise on a malformed event)."""
    return Replay(TaskGraph(spec.tasks_by_id)).read(events)


def decider_error(exc: Exception) -> d.Decision:
    return d.fail_workflow("decider_error", {"error": f"{type(exc).__name__}: {exc}"})


def decide_from(
    state: Replay, spec: DeciderSpec, workflow_id: str | None, max_payload: int = d.MAX_PAYLOAD
) -> list[d.Decision]:
    """Decisions for an execution already replayed into ``state``, which this only reads."""
    decider = _Decider(state, spec, workflow_id, max_payload)
    try:
        return decider.run()
    except _Fail as fail:
        return decider.failing(d.fail_workflow(fail.reason, fail.details))
    except Exception as exc:
        return decider.failing(decider_error(exc))


def decide_dynamic(
    events: Sequence[Event],
    defaults: DeciderSpec,
    workflow_id: str | None = None,
    *,
    started_event_id: int | None = None,
    allow: Allowlist | None = None,
    max_payload: int = d.MAX_PAYLOAD,
) -> list[d.Decision]:
    """Like :func:`decide`, with the tasks read from the input's ``activity_tasks`` list."""
    check_complete(events, started_event_id)
    try:
        spec = _dynamic_spec(events, defaults)
    except _Fail as fail:
        if _is_closed(events):
            return []
        return [d.fail_workflow(fail.reason, fail.details)]
    except Exception as exc:
        return [d.fail_workflow("decider_error", {"error": f"{type(exc).__name__}: {exc}"})]
    return decide(
        events,
        spec,
        workflow_id,
        started_event_id=started_event_id,
        allow=allow,
        max_payload=max_payload,
    )


def _is_closed(events: Sequence[Event]) -> bool:
    from flotod.engine.history import CLOSED_EVENTS  # noqa: PLC0415 (history imports decide)

    return any(e.get("eventType") in CLOSED_EVENTS for e in events)


def _parse_input(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return safe_json.loads(raw)
    except ValueError as exc:
        raise _Fail(
            "invalid_workflow_input",
            {"error": f"workflow input is not JSON: {exc}", "input": d.trim(raw, 200)},
        ) from None


def _dynamic_spec(events: Sequence[Event], defaults: DeciderSpec) -> DeciderSpec:
    value = _parse_input(workflow_input(events))
    if not isinstance(value, dict) or "activity_tasks" not in value:
        raise _Fail(
            "missing_activity_tasks",
            {"error": "workflow input must be a JSON object with an 'activity_tasks' list"},
        )
    try:
        tasks = tasks_from_list(value["activity_tasks"], "input.activity_tasks")
        return DeciderSpec(
            domain=defaults.domain,
            task_list=defaults.task_list,
            activity_tasks=tasks,
            default_activity_task_list=defaults.default_activity_task_list,
            repeat_workflow=defaults.repeat_workflow,
        )
    except SpecError as exc:
        raise _Fail("invalid_activity_tasks", {"error": str(exc)}) from None


class _Decider:
    """One decision: replay the history, then plan what is due within SWF's limits."""

    def __init__(
        self,
        state: Replay,
        spec: DeciderSpec,
        workflow_id: str | None,
        max_payload: int = d.MAX_PAYLOAD,
    ):
        self.spec = spec
        self.max_payload = max_payload
        self.workflow_id = workflow_id
        self.state = state
        self.graph = state.graph
        self._input: Any = _MISSING

    def run(self) -> list[d.Decision]:
        state = self.state
        if state.closed:
            return []
        self._check_closing_failures()
        if state.cancel_requested:
            return self._cancel()
        if state.problems:
            first = state.problems[0]
            details = [{"reason": p.reason, **p.details} for p in state.problems]
            raise _Fail(first.reason, details[0] if len(details) == 1 else details)
        if state.failed_tasks:
            failed = list(state.failed_tasks.values())
            reason = failed[0]["why"]
            raise _Fail(reason, {"failed_tasks": failed})
        self.workflow_value()  # a bad input fails the workflow even when nothing reads it
        plan = self._plan()
        if plan:
            return self._limit(plan)
        if state.open_activities or state.open_children or state.retry_wait or state.refused_wait:
            return []
        if state.open_timers:  # a firing timer wakes the decider again
            return []
        if self.graph.all_done:
            return self._close()
        raise _Fail(
            "no_progress",
            {"error": "nothing is open and nothing can be scheduled", "waiting": self._waiting()},
        )

    def _check_closing_failures(self) -> None:
        """A closing decision SWF refused for a reason other than new events: do not loop."""
        for event_type, cause in self.state.closing_failures:
            if cause == "UNHANDLED_DECISION":
                continue
            if event_type == "FailWorkflowExecutionFailed":
                continue  # nothing better to send than the failure again
            raise _Fail(
                "closing_decision_failed", {"event": event_type, "cause": cause or "unknown"}
            )

    def _waiting(self) -> list[str]:
        return [n.id for n in self.graph.nodes.values() if not n.done][:20]

    def workflow_value(self) -> Any:
        if self._input is _MISSING:
            self._input = _parse_input(self.state.input)
        return self._input

    # -- planning -----------------------------------------------------------------------------

    def _plan(self) -> list[d.Decision]:
        state = self.state
        plan: list[d.Decision] = []
        self._open = {
            "activity": len(state.open_activities),
            "timer": len(state.open_timers),
            "child": len(state.open_children),
        }
        for task_id, delay in state.retry_wait.items():
            if self._room("timer", d.MAX_OPEN_TIMERS):
                attempt = self.graph.nodes[task_id].attempts + 1
                plan.append(
                    d.start_timer(
                        self._timer_id(f"retry:{task_id}:{attempt}"),
                        delay,
                        timer_control(TIMER_RETRY, task_id),
                    )
                )
        for task_id, delay in state.refused_wait.items():
            if self._room("timer", d.MAX_OPEN_TIMERS):
                refused = self.graph.nodes[task_id].refusals
                plan.append(
                    d.start_timer(
                        self._timer_id(f"refused:{task_id}:{refused}"),
                        delay,
                        timer_control(TIMER_RETRY, task_id),
                    )
                )
        for task_id in state.retry_due:
            self._schedule(self.graph.nodes[task_id], plan)
        for task_id in self.graph.ready:
            self._schedule(self.graph.nodes[task_id], plan)
        return plan

    def _room(self, kind: str, limit: int) -> bool:
        if self._open[kind] >= limit:
            return False
        self._open[kind] += 1
        return True

    def _schedule(self, node: Node, plan: list[d.Decision]) -> None:
        task = node.task
        if node.kind == TIMER:
            assert isinstance(task, Timer)
            if self._room("timer", d.MAX_OPEN_TIMERS):
                plan.append(
                    d.start_timer(node.id, task.delay_in_seconds, timer_control("task", node.id))
                )
        elif node.kind == CHILD:
            assert isinstance(task, ChildWorkflow)
            if self._room("child", d.MAX_OPEN_CHILDREN):
                context = self._context(node)
                if task.input is not None:
                    context["child_workflow"] = task.input
                plan.append(
                    d.start_child(
                        self._child_id(node.id),
                        task.workflow_type_name,
                        task.workflow_type_version,
                        self._payload(node.id, context),
                        task.task_list,
                        child_control(node.id),
                        timeouts=timeout_attributes(task),
                    )
                )
        else:
            assert isinstance(task, ActivityTask)
            if self._room("activity", d.MAX_OPEN_ACTIVITIES):
                context = self._context(node)
                if task.input is not None:
                    context["activity_task"] = task.input
                context[RESERVED_KEY] = {"attempt": node.attempts + 1}
                plan.append(
                    d.schedule_activity(
                        node.id,
                        task.name,
                        task.version,
                        self._payload(node.id, context),
                        task.task_list or self.spec.default_activity_task_list,
                        timeout_attributes(task),
                    )
                )

    def _context(self, node: Node) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if not node.requires:
            context["workflow"] = self.workflow_value()
        for req in node.requires:
            self.graph.outputs(req, context)
        return context

    def _payload(self, task_id: str, value: Any) -> str:
        text = d.to_json(value)
        if len(text) > self.max_payload:
            raise _Fail(
                "payload_too_large",
                {
                    "task": task_id,
                    "payload": "input",
                    "size": len(text),
                    "limit": self.max_payload,
                },
            )
        return text

    def _timer_id(self, wanted: str) -> str:
        """``wanted`` unless too long or equal to a task id (task timers use task ids)."""
        if len(wanted) <= d.MAX_ID and wanted not in self.graph.nodes:
            return wanted
        return f"{wanted[:200]}~{stable_hash(wanted, length=32)}"

    def _child_id(self, task_id: str) -> str:
        if self.workflow_id:
            prefix = self.workflow_id
        else:
            started = self.state.started
            prefix = stable_hash(
                str(started.get("workflowType")),
                str(started.get("input")),
                str(started.get("continuedExecutionRunId")),
                str(started.get("parentWorkflowExecution")),
                str(self.state.started_at),
                length=20,
            )
        wanted = f"{prefix}:{task_id}"
        if len(wanted) <= d.MAX_ID:
            return wanted
        return f"{wanted[:200]}~{stable_hash(wanted, length=40)}"

    def _limit(self, plan: list[d.Decision]) -> list[d.Decision]:
        """At most 100 decisions; when some are held back, the last slot is a 0-second timer
        (unless one is already running) so that a decision task certainly follows."""
        if len(plan) <= d.MAX_DECISIONS:
            return plan
        if any(t.kind == TIMER_CONTINUE for t in self.state.open_timers.values()):
            return plan[: d.MAX_DECISIONS]
        if (
            len(self.state.open_timers)
            + sum(1 for x in plan[: d.MAX_DECISIONS - 1] if x["decisionType"] == "StartTimer")
            >= d.MAX_OPEN_TIMERS
        ):
            return plan[: d.MAX_DECISIONS]
        return [*plan[: d.MAX_DECISIONS - 1], self._continue_timer()]

    def _continue_timer(self) -> d.Decision:
        timer_id = self._timer_id(f"flotod.continue.{self.state.continue_timers + 1}")
        return d.start_timer(timer_id, 0, timer_control(TIMER_CONTINUE, None))

    # -- closing ------------------------------------------------------------------------------

    def _close(self) -> list[d.Decision]:
        """Complete with the result; a repeating workflow instead records the result in a
        ``flotod.result`` marker and continues as new in the same response, since a run that
        continues as new has no result of its own."""
        text = self._result_text()
        if self.spec.repeat_workflow:
            return [
                d.record_result(text),
                d.continue_as_new(self.state.input, self.state.started),
            ]
        return [d.complete_workflow(text)]

    def _result_text(self) -> str:
        result = self.graph.final_result()
        text = d.to_json(result)
        if len(text) > self.max_payload:
            sizes = {k: len(d.to_json(v)) for k, v in result.items()}
            largest = sorted(sizes, key=lambda k: -sizes[k])[:10]
            raise _Fail(
                "payload_too_large",
                {
                    "payload": "workflow result",
                    "size": len(text),
                    "limit": self.max_payload,
                    "largest": {k: sizes[k] for k in largest},
                },
            )
        return text

    def failing(self, failure: d.Decision) -> list[d.Decision]:
        """``failure``, after asking every open child to cancel.

        SWF applies the child policy only when a run is terminated or times out, never when
        its decider fails it: children nobody asks run on and keep their workflow ids, so a
        re-run of this workflow would collide with them. (A run completes only once nothing is
        open, so completing never leaves children behind.)
        """
        plan = [
            d.request_cancel_external(c.workflow_id, c.run_id)
            for c in self.state.open_children.values()
            if not c.cancel_requested
        ]
        if len(plan) < d.MAX_DECISIONS:
            return [*plan, failure]
        return [*plan[: d.MAX_DECISIONS - 1], self._continue_timer()]

    def _cancel(self) -> list[d.Decision]:
        state = self.state
        plan: list[d.Decision] = [
            d.request_cancel_activity(a.task_id)
            for a in state.open_activities.values()
            if not a.cancel_requested
        ]
        plan.extend(d.cancel_timer(timer_id) for timer_id in state.open_timers)
        plan.extend(
            d.request_cancel_external(c.workflow_id, c.run_id)
            for c in state.open_children.values()
            if not c.cancel_requested
        )
        if len(plan) < d.MAX_DECISIONS:
            return [*plan, d.cancel_workflow("cancel requested")]
        return [*plan[: d.MAX_DECISIONS - 1], self._continue_timer()]


def closing_reason(decisions: Sequence[Mapping[str, Any]]) -> str | None:
    """The reason of a FailWorkflowExecution in ``decisions``, for logs; None otherwise."""
    for decision in decisions:
        if decision.get("decisionType") == "FailWorkflowExecution":
            attrs = decision.get("failWorkflowExecutionDecisionAttributes") or {}
            reason = attrs.get("reason")
            return reason if isinstance(reason, str) else None
    return None
