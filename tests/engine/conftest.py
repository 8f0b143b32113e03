"""Shared helpers for the decider tests: specs, a recording worker and decision accessors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flotod.engine import Replays, decide
from flotod.engine import decide as whole_replay_decide
from flotod.specs import DeciderSpec, Task
from tests.engine.swfsim import Event


@pytest.fixture(autouse=True)
def every_decision_also_incremental(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every decide() of these tests also runs through Replays, which must answer the same.

    Replays continues a kept state with only the new events; here every scenario of the engine
    tests (retries, generators, children, timers, limits, cancellation) checks that this equals
    replaying the whole history. Runs are told apart by their events, not trusted by number:
    a test may decide for several executions under one workflow id.
    """
    memos: dict[int, Replays] = {}
    seen: dict[tuple[int, str | None], list[Event]] = {}

    def checked(
        events: list[Event],
        spec: DeciderSpec,
        workflow_id: str | None = None,
        started_event_id: int | None = None,
    ) -> list[dict[str, Any]]:
        full = whole_replay_decide(events, spec, workflow_id, started_event_id=started_event_id)
        memo = memos.setdefault(id(spec), Replays(spec))
        key = (id(spec), workflow_id)
        before = seen.get(key, [])
        if events[: len(before)] != before:
            memo.drop(key)
        seen[key] = [dict(e) for e in events]
        incremental = memo.decide(key, events, workflow_id, started_event_id=started_event_id)
        assert incremental == full, "Replays answered differently from a whole replay"
        return full

    for module in {request.module, __import__(__name__, fromlist=["decide"])}:
        if getattr(module, "decide", None) is whole_replay_decide:
            monkeypatch.setattr(module, "decide", checked)


def make_spec(*tasks: Task, repeat: bool = False, task_list: str | None = "acts") -> DeciderSpec:
    return DeciderSpec(
        domain="d",
        task_list="decider",
        activity_tasks=list(tasks),
        default_activity_task_list=task_list,
        repeat_workflow=repeat,
    )


def decider_for(spec: DeciderSpec, workflow_id: str | None = "wf-1") -> Any:
    def run(events: list[Event]) -> list[dict[str, Any]]:
        return decide(events, spec, workflow_id)

    return run


def attrs(decision: dict[str, Any]) -> dict[str, Any]:
    kind = decision["decisionType"]
    return decision[kind[0].lower() + kind[1:] + "DecisionAttributes"]  # type: ignore[no-any-return]


def kinds(decisions: list[dict[str, Any]]) -> list[str]:
    return [d["decisionType"] for d in decisions]


class Recorder:
    """A worker that records each call's context and answers from a table of results."""

    def __init__(self, results: dict[str, Any] | None = None) -> None:
        self.results = results or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, activity_id: str, name: str, version: str, context: Any) -> str | None:
        self.calls.append((activity_id, context))
        value = self.results.get(activity_id, {"done": activity_id})
        if callable(value):
            value = value(context)
        return value if isinstance(value, str) or value is None else json.dumps(value)

    def context(self, activity_id: str) -> dict[str, Any]:
        matches = [c for a, c in self.calls if a == activity_id]
        assert matches, f"{activity_id} never ran"
        return matches[-1]

    def order(self) -> list[str]:
        return [a for a, _ in self.calls]
