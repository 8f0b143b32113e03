"""The daemon's pure logic says, in a note, how many children are open and requests wait:
the service sets its gauges from it (the logic itself does no I/O)."""

from __future__ import annotations

from typing import Any

from flotod.engine.daemon import STATE_NOTE, decide_daemon
from tests.engine.test_daemon import SPEC, History, settings


def state(notes: list[dict[str, Any]]) -> tuple[int, int]:
    [note] = [n for n in notes if n["event"] == STATE_NOTE]
    assert note["level"] == "debug"
    return note["children"], note["waiting"]


def test_state_note_counts_open_children_and_waiting_requests() -> None:
    history = History()
    for i in range(3):
        history.signal({"decider_spec": SPEC, "workflow_id": f"c{i}"})
    first = decide_daemon(history.events, settings(max_children=2))
    # Counted as they will be once these decisions are applied: two children starting.
    assert state(first.notes) == (2, 1)
    history.apply(first.decisions)
    assert state(decide_daemon(history.events, settings(max_children=2)).notes) == (2, 1)


def test_state_note_when_continuing_as_new() -> None:
    history = History()
    for i in range(3):
        history.signal({"decider_spec": SPEC, "workflow_id": f"c{i}"})
    history.apply(decide_daemon(history.events, settings(max_children=1)).decisions)
    small = settings(max_children=1, continue_after_events=len(history.events))
    out = decide_daemon(history.events, small)
    assert [d["decisionType"] for d in out.decisions] == ["ContinueAsNewWorkflowExecution"]
    assert state(out.notes) == (1, 2)
