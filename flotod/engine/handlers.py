"""Decision handlers: what a decision poller runs for each task. Pure: a task in, an answer out.

A handler may keep what helps with a run's next task (its replay state) and nothing that
needs I/O. The services' pollers, the examples' harness and the tests use these same objects,
so what is tested is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flotod.engine.allowlist import ALLOW_ALL, Allowlist
from flotod.engine.daemon import DaemonSettings, decide_daemon
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE, decide_child
from flotod.engine.decide import decide, decide_dynamic
from flotod.engine.decisions import MAX_PAYLOAD, Decision
from flotod.engine.replays import DEFAULT_MAX_EVENTS, Replays
from flotod.specs import DeciderSpec
from flotod.swf.types import DecisionTask


@dataclass
class Answer:
    """The decisions for one task, and notes (an ``event`` name, a ``level`` and fields) for
    the service to log: the handler itself writes nothing."""

    decisions: list[Decision]
    notes: list[dict[str, Any]] = field(default_factory=list)
    # Decided from the replay state kept since the run's previous task (read only news).
    held: bool = False


class Handler(Protocol):
    def __call__(self, task: DecisionTask) -> Answer: ...

    def forget(self, workflow_id: str, run_id: str) -> None:
        """The run closed: drop whatever was kept for it."""


class SpecHandler:
    """A static spec. With ``max_events`` > 0 each run's replay state is kept (bounded by the
    events read), so a run's next task replays only its new events. Raises
    IncompleteHistoryError for events that do not run from event 1 to the task's started
    event: such a task must not be answered. ``max_payload``: see
    :func:`flotod.engine.decisions.payload_limit`."""

    def __init__(
        self, spec: DeciderSpec, max_events: int = 0, max_payload: int = MAX_PAYLOAD
    ) -> None:
        self.spec = spec
        self.max_payload = max_payload
        self.replays = (
            Replays(spec, max_events=max_events, max_payload=max_payload) if max_events else None
        )

    def __call__(self, task: DecisionTask) -> Answer:
        execution = task.workflow_execution
        started = task.started_event_id
        if self.replays is None:
            workflow_id = execution.workflow_id
            return Answer(
                decide(
                    task.events,
                    self.spec,
                    workflow_id,
                    started_event_id=started,
                    max_payload=self.max_payload,
                )
            )
        key = (execution.workflow_id, execution.run_id)
        # held: the kept state had read up to the run's previous task (this process decided
        # it), and replaying went on from there.
        known, continued = self.replays.known(key), self.replays.held
        decisions = self.replays.decide(
            key, task.events, execution.workflow_id, started_event_id=started
        )
        held = self.replays.held > continued and 0 < known == task.previous_started_event_id
        return Answer(decisions, held=held)

    def forget(self, workflow_id: str, run_id: str) -> None:
        if self.replays is not None:
            self.replays.drop((workflow_id, run_id))


class DynamicHandler:
    """Each execution carries its tasks in its input; ``defaults`` gives the rest, and
    ``allow`` bounds what those tasks may name."""

    def __init__(
        self, defaults: DeciderSpec, allow: Allowlist = ALLOW_ALL, max_payload: int = MAX_PAYLOAD
    ) -> None:
        self.spec = defaults
        self.allow = allow
        self.max_payload = max_payload

    def __call__(self, task: DecisionTask) -> Answer:
        workflow_id = task.workflow_execution.workflow_id
        return Answer(
            decide_dynamic(
                task.events,
                self.spec,
                workflow_id,
                started_event_id=task.started_event_id,
                allow=self.allow,
                max_payload=self.max_payload,
            )
        )

    def forget(self, workflow_id: str, run_id: str) -> None:
        """Nothing is kept between tasks."""


@dataclass(frozen=True)
class DaemonHandler:
    """Tasks on the daemon's task list: the daemon workflow's own (its signals start children)
    and its children's (each carries its spec in its input), told apart by workflow type."""

    domain: str
    task_list: str
    max_children: int
    continue_after_events: int
    child_timeout_seconds: int
    allow: Allowlist = ALLOW_ALL
    max_payload: int = MAX_PAYLOAD  # a child's input and result (decisions.payload_limit)

    def __call__(self, task: DecisionTask) -> Answer:
        kind = (task.workflow_type.get("name"), task.workflow_type.get("version"))
        execution = task.workflow_execution
        if kind == DAEMON_TYPE:
            settings = DaemonSettings(
                domain=self.domain,
                workflow_id=execution.workflow_id,
                run_id=execution.run_id,
                task_list=self.task_list,
                max_children=self.max_children,
                continue_after_events=self.continue_after_events,
                child_timeout_seconds=self.child_timeout_seconds,
                allow=self.allow,
                max_payload=self.max_payload,
            )
            outcome = decide_daemon(task.events, settings)
            return Answer(outcome.decisions, outcome.notes)
        if kind == CHILD_TYPE:
            decisions, error = decide_child(
                task.events, execution.workflow_id, execution.run_id, self.allow, self.max_payload
            )
            notes = [] if error is None else [_note("daemon.bad_child_input", error=error)]
            return Answer(decisions, notes)
        return Answer(
            [], [_note("daemon.unknown_workflow_type", workflow_type=f"{kind[0]}:{kind[1]}")]
        )

    def forget(self, workflow_id: str, run_id: str) -> None:
        """Nothing is kept between tasks."""


def with_max_payload(logic: DeciderSpec | Handler, max_payload: int) -> DeciderSpec | Handler:
    """``logic`` (a spec or a decider's handler) deciding with ``max_payload``: what replays
    a run that was decided with large payloads in S3 (flotod replay). A daemon's handler and
    others come back as they are."""
    if isinstance(logic, DeciderSpec):
        return SpecHandler(logic, DEFAULT_MAX_EVENTS, max_payload)
    if isinstance(logic, SpecHandler):
        events = logic.replays.max_events if logic.replays is not None else 0
        return SpecHandler(logic.spec, events, max_payload)
    if isinstance(logic, DynamicHandler):
        return DynamicHandler(logic.spec, logic.allow, max_payload)
    rebuilt = getattr(logic, "with_max_payload", None)  # VersionedHandler (it imports us)
    if callable(rebuilt):
        return rebuilt(max_payload)  # type: ignore[no-any-return]
    return logic


def _note(event: str, level: str = "error", **fields: Any) -> dict[str, Any]:
    return {"event": event, "level": level, **fields}
