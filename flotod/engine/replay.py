"""Replay a recorded history through a spec and say whether the spec still decides the same.

A spec change is safe for the runs in flight only if, given what each of their decision tasks
saw, the new spec decides what the old one did: otherwise the next decision task of such a run
finds a history its spec never made. :func:`replay_check` answers that without SWF: for each
DecisionTaskCompleted of the history it decides on the events up to that task's
DecisionTaskStarted (exactly what the decider was given: later events, even those recorded
before the answer, belong to the next task) and compares the result, in order, with the
decisions the history shows (:mod:`flotod.engine.recorded`). It stops at the first
difference, since everything after it was decided from a state the new spec never reaches.

Pure: events and a spec (or a decision handler) in, a :class:`ReplayResult` out.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from flotod.engine.decisions import Decision
from flotod.engine.recorded import (
    HistoryError,
    RecordedDecision,
    RecordedTask,
    check_events,
    normal,
    recorded_tasks,
)
from flotod.engine.replays import Replays
from flotod.specs import DeciderSpec
from flotod.swf.types import DecisionTask, WorkflowExecution

__all__ = ["Divergence", "HistoryError", "ReplayResult", "replay_check"]

SHOWN = 240  # characters of a value a divergence shows


class _Answer(Protocol):
    decisions: list[Decision]


class DecisionHandler(Protocol):
    """What the services decide with (``flotod.engine.handlers``): a task in, an answer out;
    ``forget`` drops what it kept for a run."""

    def __call__(self, task: Any) -> _Answer: ...

    def forget(self, workflow_id: str, run_id: str) -> None: ...


@dataclass(frozen=True)
class Divergence:
    """The first decision task where the spec and the history part ways."""

    task: int  # which completed decision task of the run, from 1
    scheduled_event_id: int
    started_event_id: int
    completed_event_id: int
    position: int  # the first decision that differs, from 1
    ids: tuple[str, ...]  # the activity, timer, child... ids involved
    differences: tuple[str, ...]
    history: tuple[str, ...]  # what the history shows was decided, one line each
    spec: tuple[str, ...]  # what the spec decides now

    def line(self) -> str:
        """Where and the first thing that differs, on one line (for a log record)."""
        what = " ".join(d.strip() for d in self.differences[:3])
        return f"decision task {self.task} diverges at decision {self.position}: {what}"

    def text(self) -> str:
        """One readable block: where, what differs, and both decision lists."""
        lines = [
            f"decision task {self.task} (events {self.scheduled_event_id} scheduled, "
            f"{self.started_event_id} started, {self.completed_event_id} completed) "
            f"diverges at decision {self.position}:"
        ]
        lines += [f"  {d}" for d in self.differences]
        lines.append("  the history shows:")
        lines += [f"    {n}. {s}" for n, s in enumerate(self.history, 1)] or ["    nothing"]
        lines.append("  the spec decides:")
        lines += [f"    {n}. {s}" for n, s in enumerate(self.spec, 1)] or ["    nothing"]
        return "\n".join(lines)


@dataclass(frozen=True)
class ReplayResult:
    agreed: bool
    decision_tasks: int  # completed decision tasks compared (the diverging one included)
    divergence: Divergence | None = None

    def summary(self) -> str:
        tasks = f"{self.decision_tasks} decision task{'' if self.decision_tasks == 1 else 's'}"
        if self.divergence is None:
            return f"{tasks} agree"
        return f"diverges at decision task {self.divergence.task} of {tasks} checked"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def replay_check(
    events: Sequence[Mapping[str, Any]],
    spec: DeciderSpec | DecisionHandler,
    *,
    workflow_id: str | None = None,
    run_id: str = "",
) -> ReplayResult:
    """Replay ``events`` (a run's whole history, ascending, in SWF's JSON shapes) through
    ``spec``, decision task by decision task; raises HistoryError if they cannot be replayed.

    SWF's history does not name its own run, and the decider uses the workflow id in child
    workflow ids: give ``workflow_id`` when known. Without it, it is read back from the first
    child workflow the run started (``<workflow id>:<task id>``); runs without children do not
    need it.
    """
    checked = check_events(events)
    tasks = recorded_tasks(checked)
    wid = workflow_id if workflow_id is not None else _workflow_id_from_children(checked)
    decide = _decider(spec, checked, wid or "", run_id)
    if not isinstance(spec, DeciderSpec):
        # A handler keeps replay states by run, and a file names no run: whatever it kept
        # under this name belongs to another history.
        spec.forget(wid or "", run_id)
    try:
        return _check_tasks(tasks, checked, decide)
    finally:
        if not isinstance(spec, DeciderSpec):
            spec.forget(wid or "", run_id)


def _check_tasks(
    tasks: Sequence[RecordedTask], events: Sequence[Mapping[str, Any]], decide: Any
) -> ReplayResult:
    index = {e["eventId"]: i for i, e in enumerate(events)}
    for task in tasks:
        seen = events[: index[task.started_event_id] + 1]
        try:
            decisions = decide(task, seen)
        except Exception as exc:  # a handler that raises decides nothing: say so, go on
            return ReplayResult(False, task.number, _raised(task, exc))
        divergence = _compare(task, decisions)
        if divergence is not None:
            return ReplayResult(False, task.number, divergence)
    return ReplayResult(True, len(tasks))


def _decider(
    spec: DeciderSpec | DecisionHandler,
    events: Sequence[Mapping[str, Any]],
    workflow_id: str,
    run_id: str,
) -> Any:
    key = (workflow_id, run_id)
    if isinstance(spec, DeciderSpec):
        # Each task's events continue the last one's: replay only what is new.
        replays = Replays(spec, max_events=len(events))

        def by_spec(_task: RecordedTask, seen: Sequence[Mapping[str, Any]]) -> list[Decision]:
            return replays.decide(key, seen, workflow_id or None)

        return by_spec

    started = events[0].get("workflowExecutionStartedEventAttributes") or {}
    workflow_type = started.get("workflowType") or {}

    def by_handler(task: RecordedTask, seen: Sequence[Mapping[str, Any]]) -> list[Decision]:
        answer = spec(
            DecisionTask(
                task_token="flotod-replay",
                workflow_execution=WorkflowExecution(workflow_id, run_id),
                workflow_type=dict(workflow_type),
                events=list(seen),  # type: ignore[arg-type]  # read, never changed
                started_event_id=task.started_event_id,
                previous_started_event_id=task.previous_started_event_id,
            )
        )
        return list(answer.decisions)

    return by_handler


def _workflow_id_from_children(events: Sequence[Mapping[str, Any]]) -> str | None:
    for event in events:
        if event["eventType"] != "StartChildWorkflowExecutionInitiated":
            continue
        attrs = event.get("startChildWorkflowExecutionInitiatedEventAttributes") or {}
        try:
            control = json.loads(attrs.get("control") or "")
        except (TypeError, ValueError):
            continue
        child_id = attrs.get("workflowId")
        if not isinstance(control, dict) or not isinstance(child_id, str):
            continue
        suffix = f":{control.get('task')}"
        if control.get("flotod") == "child" and child_id.endswith(suffix):
            return child_id[: -len(suffix)]
    return None


# -- comparing --------------------------------------------------------------------------------


def _attributes(decision: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = str(decision.get("decisionType"))
    attrs = decision.get(kind[:1].lower() + kind[1:] + "DecisionAttributes")
    return attrs if isinstance(attrs, Mapping) else {}


def _differences(recorded: RecordedDecision, decision: Mapping[str, Any]) -> list[str]:
    """What differs between a decision and its recorded event; [] when they agree."""
    kind = decision.get("decisionType")
    if kind != recorded.decision_type:
        return [f"the history shows {recorded.decision_type}, the spec decides {kind}"]
    attrs = _attributes(decision)
    out = []
    for name, was in recorded.values.items():
        now = normal(attrs.get(name))
        if name in recorded.optional and (now is None or was is None):
            continue  # SWF put in the default, or did not say: not comparable
        if now != was:
            out.append(f"{name} differs:")
            label = f"history (event {recorded.event_id}): "
            out.append(f"  {label}{show(was)}")
            out.append(f"  {'spec:'.ljust(len(label))}{show(now)}")
            where = json_difference(was, now)
            if where:
                out.append(f"  {where}")
    return out


def _compare(task: RecordedTask, decisions: Sequence[Mapping[str, Any]]) -> Divergence | None:
    recorded = task.decisions
    for i in range(max(len(recorded), len(decisions))):
        was = recorded[i] if i < len(recorded) else None
        now = decisions[i] if i < len(decisions) else None
        if was is not None and now is not None:
            found = _differences(was, now)
            ids = {identify(was.values), identify_decision(now)}
        elif was is not None:
            found = [f"the spec does not decide {describe_recorded(was)} (event {was.event_id})"]
            ids = {identify(was.values)}
        else:
            assert now is not None
            found = [f"the spec also decides {describe_decision(now)}, which the history lacks"]
            ids = {identify_decision(now)}
        if found:
            return Divergence(
                task=task.number,
                scheduled_event_id=task.scheduled_event_id,
                started_event_id=task.started_event_id,
                completed_event_id=task.completed_event_id,
                position=i + 1,
                ids=tuple(sorted(x for x in ids if x)),
                differences=tuple(found),
                history=tuple(describe_recorded(r) for r in recorded),
                spec=tuple(describe_decision(d) for d in decisions),
            )
    return None


def _raised(task: RecordedTask, exc: Exception) -> Divergence:
    return Divergence(
        task=task.number,
        scheduled_event_id=task.scheduled_event_id,
        started_event_id=task.started_event_id,
        completed_event_id=task.completed_event_id,
        position=1,
        ids=(),
        differences=(f"the spec raised {type(exc).__name__}: {safe(str(exc))}",),
        history=tuple(describe_recorded(r) for r in task.decisions),
        spec=(),
    )


# -- showing ----------------------------------------------------------------------------------

_ID_FIELDS = ("activityId", "timerId", "workflowId", "markerName", "id")


def identify(attrs: Mapping[str, Any]) -> str:
    """The id a decision is known by ('' for closing decisions, which have none)."""
    for name in _ID_FIELDS:
        value = attrs.get(name)
        if isinstance(value, str) and value:
            return safe(value)
    return ""


def identify_decision(decision: Mapping[str, Any]) -> str:
    return identify(_attributes(decision))


def _describe(kind: str, attrs: Mapping[str, Any]) -> str:
    parts = [safe(kind)]
    name = identify(attrs)
    if name:
        parts.append(name)
    for field in ("activityType", "workflowType"):
        value = attrs.get(field)
        if isinstance(value, Mapping):
            parts.append(f"({safe(str(value.get('name')))}:{safe(str(value.get('version')))})")
    if attrs.get("startToFireTimeout") is not None:
        parts.append(f"({safe(str(attrs['startToFireTimeout']))} s)")
    if kind == "FailWorkflowExecution" and attrs.get("reason"):
        parts.append(f"(reason {show(attrs['reason'], 60)})")
    return " ".join(parts)


def describe_recorded(recorded: RecordedDecision) -> str:
    text = f"{_describe(recorded.decision_type, recorded.values)} [event {recorded.event_id}]"
    if recorded.cause is not None:
        text += f" refused by SWF: {safe(recorded.cause)}"
    return text


def describe_decision(decision: Mapping[str, Any]) -> str:
    return _describe(str(decision.get("decisionType")), _attributes(decision))


def safe(text: str) -> str:
    """Text from a workflow, with control and format characters escaped: a history cannot
    move the cursor or rewrite the line of whoever reads the divergence."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in text
    )


def show(value: Any, width: int = SHOWN) -> str:
    """A value as JSON, shortened: strings quoted (so '' and "null" differ from absent),
    except JSON objects and lists in a string (inputs, results), shown as they are."""
    if value is None:
        text = "absent"
    elif _is_json_container(value):
        text = safe(value)  # a JSON input or result reads best as itself
    else:
        text = safe(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_json_container(value: Any) -> bool:
    if not isinstance(value, str) or value[:1] not in ("{", "["):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def json_difference(was: Any, now: Any) -> str:
    """Where two JSON texts first differ (``at $.A.x: 1 in the history, 2 in the spec``), or
    '' when either is not JSON (the texts above say it all)."""
    if not isinstance(was, str) or not isinstance(now, str):
        return ""
    try:
        a, b = json.loads(was), json.loads(now)
    except ValueError:
        return ""
    if a == b:
        return "the same JSON value written differently"
    path, x, y = _first_difference(a, b, "$")
    return f"first difference at {safe(path)}: {_side(x)} in the history, {_side(y)} in the spec"


_NOTHING = object()


def _side(value: Any) -> str:
    """A value inside a JSON document: JSON's null is a value, a missing key is nothing."""
    if value is _NOTHING:
        return "nothing"
    text = safe(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= 80 else text[:77] + "..."


def _first_difference(a: Any, b: Any, path: str) -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            x, y = a.get(key, _NOTHING), b.get(key, _NOTHING)
            if x != y:
                return _first_difference(x, y, f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else _NOTHING
            y = b[i] if i < len(b) else _NOTHING
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return path, a, b
