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
    events: Sequence[Mapping[str, Any]], started_event_id: int | None = None, checked: int = 0
) -> None:
    """Raise :class:`IncompleteHistoryError` unless ``events`` are 1, 2, 3, ... from
    WorkflowExecutionStarted on, reaching ``started_event_id`` (the decision task's
    DecisionTaskStarted) when it is given.

    ``checked``: the first events were found whole before (a kept replay state read them), so
    only their ends are looked at again and the check of a held run's task costs its new
    events, not its whole history.
    """
    if not events:
        raise IncompleteHistoryError("the history is empty: it must start at event 1")
    first = events[0]
    if not isinstance(first, Mapping):
        raise IncompleteHistoryError(f"history item 1 is not an event: {first!r:.80}")
    if first.get("eventId") != 1 or first.get("eventType") != "WorkflowExecutionStarted":
        raise IncompleteHistoryError(
            f"the history starts with event {first.get('eventId')!r} "
            f"({first.get('eventType')!r}), not event 1 (WorkflowExecutionStarted)"
        )
    start = 1
    if 1 < checked <= len(events):
        anchor = events[checked - 1]
        if isinstance(anchor, Mapping) and anchor.get("eventId") == checked:
            start = checked
    for position in range(start, len(events)):
        event = events[position]
        if not isinstance(event, Mapping):
            raise IncompleteHistoryError(
                f"history item {position + 1} is not an event: {event!r:.80}"
            )
        if event.get("eventId") != position + 1:
            raise IncompleteHistoryError(
                f"the history jumps from event {position} to {event.get('eventId')!r}"
            )
    if started_event_id is not None and len(events) < started_event_id:
        raise IncompleteHistoryError(
            f"the history ends at event {len(events)}, before the task's started event "
            f"{started_event_id}"
        )
