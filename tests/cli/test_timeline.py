"""The history timeline on a hand-written history: tasks named, durations measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flotod.cli.timeline import timeline

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def ev(event_id: int, seconds: float, kind: str, **attrs: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventTimestamp": T0 + timedelta(seconds=seconds),
        "eventType": kind,
        kind[0].lower() + kind[1:] + "EventAttributes": attrs,
    }


HISTORY = [
    ev(1, 0, "WorkflowExecutionStarted", input='{"x": 1}'),
    ev(2, 0, "DecisionTaskScheduled"),
    ev(3, 0.1, "DecisionTaskStarted", scheduledEventId=2),
    ev(4, 0.2, "DecisionTaskCompleted", scheduledEventId=2, startedEventId=3),
    ev(5, 0.2, "ActivityTaskScheduled", activityId="copy", activityType={"name": "c"}),
    ev(6, 0.2, "TimerStarted", timerId="wait", startToFireTimeout="2"),
    ev(7, 0.5, "ActivityTaskStarted", scheduledEventId=5),
    ev(8, 1.7, "ActivityTaskFailed", scheduledEventId=5, startedEventId=7, reason="IOError"),
    ev(9, 2.2, "TimerFired", timerId="wait", startedEventId=6),
    ev(10, 3.0, "WorkflowExecutionFailed", reason="task_failed"),
]


def test_rows_name_tasks_and_measure_what_ended() -> None:
    rows = {r.event_id: r for r in timeline(HISTORY)}
    assert set(rows) == {1, 5, 6, 7, 8, 9, 10}  # decision-task bookkeeping hidden
    assert rows[7].task == "copy"  # named through its scheduled event
    assert rows[8].task == "copy" and rows[8].detail == "IOError"
    assert rows[8].duration == 1.5  # from scheduling, through the started event
    assert rows[9].duration == 2.0
    assert rows[10].duration == 3.0 and rows[10].detail == "task_failed"
    assert rows[1].detail == '{"x": 1}' and rows[1].offset == 0.0


def test_decision_tasks_on_request() -> None:
    rows = timeline(HISTORY, include_decisions=True)
    assert [r.event_id for r in rows] == list(range(1, 11))
    completed = rows[3]
    assert completed.event == "DecisionTaskCompleted" and completed.duration == 0.2
