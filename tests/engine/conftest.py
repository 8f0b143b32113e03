"""Shared helpers for the decider tests: specs, a recording worker and decision accessors."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import decide
from flotod.specs import DeciderSpec, Task
from tests.engine.swfsim import Event


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
