"""The one check a history passes before it is replayed: it is whole.

A decider that reads part of a history believes finished tasks never ran and schedules them
again. SWF numbers events 1, 2, 3 ... from WorkflowExecutionStarted; a decision task's
events reach its DecisionTaskStarted. Anything else (the client's fallback can produce an
empty list, a lost page leaves a gap) is refused, so the task is left unanswered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flotod.errors import IncompleteHistoryError


def check_complete(
    events: Sequence[Mapping[str, Any]], started_event_id: int | None = None
) -> None:
    """Raise :class:`IncompleteHistoryError` unless ``events`` are 1, 2, 3, ... from
    WorkflowExecutionStarted on, reaching ``started_event_id`` (the decision task's
    DecisionTaskStarted) when it is given.

    Only numbers and the first event's type are looked at: cheap next to the replay itself.
    """
    if not events:
        raise IncompleteHistoryError("the history is empty: it must start at event 1")
    for position, event in enumerate(events, 1):
        if not isinstance(event, Mapping):
            raise IncompleteHistoryError(f"history item {position} is not an event: {event!r:.80}")
    first = events[0]
    if first.get("eventId") != 1 or first.get("eventType") != "WorkflowExecutionStarted":
        raise IncompleteHistoryError(
            f"the history starts with event {first.get('eventId')!r} "
            f"({first.get('eventType')!r}), not event 1 (WorkflowExecutionStarted)"
        )
    for expected, event in enumerate(events, 1):
        if event.get("eventId") != expected:
            raise IncompleteHistoryError(
                f"the history jumps from event {expected - 1} to {event.get('eventId')!r}"
            )
    if started_event_id is not None and len(events) < started_event_id:
        raise IncompleteHistoryError(
            f"the history ends at event {len(events)}, before the task's started event "
            f"{started_event_id}"
        )
