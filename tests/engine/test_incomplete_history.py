"""A history that does not run from event 1 to the task's started event is refused, not decided.

A decider reading part of a history would believe finished tasks never ran and schedule them
again; the service must not answer such a task at all (SWF redelivers it after its timeout).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flotod.engine import IncompleteHistoryError, Replays, decide, decide_dynamic
from flotod.errors import FlotodError
from flotod.specs import ActivityTask, to_jsonable
from tests.engine.conftest import kinds, make_spec
from tests.engine.swfsim import SwfSim

SPEC = make_spec(ActivityTask("a", "1", activity_id="A"), ActivityTask("b", "1", activity_id="B"))


def finished_a_history() -> list[dict[str, Any]]:
    """A's activity completed; the current task's events end with its DecisionTaskStarted."""
    sim = SwfSim(input=json.dumps({"activity_tasks": to_jsonable(list(SPEC.activity_tasks))}))
    sim.respond(decide(sim.decision_task(), SPEC))
    sim.complete_activity("A", "1")
    sim.complete_activity("B", "2")
    return sim.decision_task()


def cut(events: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    if how == "empty":
        return []
    if how == "starts_at_5":
        return events[4:]
    if how == "gap":
        return events[:3] + events[5:]
    if how == "not_an_event":
        return [*events[:2], "garbage", *events[3:]]  # type: ignore[list-item]
    if how == "no_start_event":
        return [{**events[0], "eventType": "WorkflowExecutionSignaled"}, *events[1:]]
    raise AssertionError(how)


CUTS = ["empty", "starts_at_5", "gap", "no_start_event", "not_an_event"]


def test_the_complete_history_is_decided() -> None:
    events = finished_a_history()
    assert kinds(decide(events, SPEC, started_event_id=events[-1]["eventId"])) == [
        "CompleteWorkflowExecution"
    ]


@pytest.mark.parametrize("how", CUTS)
def test_decide_refuses_an_incomplete_history(how: str) -> None:
    events = cut(finished_a_history(), how)
    with pytest.raises(IncompleteHistoryError) as caught:
        decide(events, SPEC)
    assert isinstance(caught.value, FlotodError)


@pytest.mark.parametrize("how", CUTS)
def test_decide_dynamic_refuses_an_incomplete_history(how: str) -> None:
    events = cut(finished_a_history(), how)
    with pytest.raises(IncompleteHistoryError):
        decide_dynamic(events, make_spec())


@pytest.mark.parametrize("how", CUTS)
def test_replays_refuses_an_incomplete_history_and_keeps_what_it_had(how: str) -> None:
    events = finished_a_history()
    replays = Replays(SPEC)
    replays.decide("run", events[:3])  # kept: events 1-3, so every cut touches what is new
    with pytest.raises(IncompleteHistoryError):
        replays.decide("run", cut(events, how))
    assert replays.known("run") == 3
    assert kinds(replays.decide("run", events)) == ["CompleteWorkflowExecution"]


def test_a_history_that_stops_before_the_started_event_is_refused() -> None:
    events = finished_a_history()
    last = events[-1]["eventId"]
    with pytest.raises(IncompleteHistoryError, match=str(last)):
        decide(events[:-2], SPEC, started_event_id=last)
    with pytest.raises(IncompleteHistoryError):
        decide_dynamic(events[:-2], make_spec(), started_event_id=last)
    with pytest.raises(IncompleteHistoryError):
        Replays(SPEC).decide("run", events[:-2], started_event_id=last)


class Untouchable(dict):  # type: ignore[type-arg]
    """An event the check must not read again: the kept state read it on an earlier task."""

    def get(self, *args: Any) -> Any:
        raise AssertionError("an event the kept state already read was checked again")


def test_a_held_run_is_checked_only_for_its_new_events() -> None:
    """A held run's task costs its new events, not the whole history: the 5,000-event task of
    a sticky decider cost 2.4x the CPU of a 100-event one while every task re-checked every
    event (bench/sticky.py; target 1.5x)."""
    sim = SwfSim(input="{}")
    replays = Replays(SPEC, max_events=1000)
    first = sim.decision_task()
    sim.respond(replays.decide(("w", "r"), first))
    sim.complete_activity("A", "1")
    events = sim.decision_task()
    read = len(first)
    again = [e if i in (0, read - 1) or i >= read else Untouchable(e) for i, e in enumerate(events)]
    assert kinds(replays.decide(("w", "r"), again)) == kinds(decide(events, SPEC))
    assert replays.held == 1
