"""The logging fast path: cached timestamp seconds, a sink that returns, one line a record."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from flotod.runtime import logging as flog


def _expected(now: float) -> str:
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(now % 1 * 1000):03d}Z"


@pytest.mark.parametrize(
    "clock",
    [
        [1_700_000_000.998, 1_700_000_000.999, 1_700_000_001.001, 1_700_000_000.5],
        [0.25, 59.999, 60.0, 86_399.9, 86_400.0],
    ],
)
def test_timestamp_follows_the_clock_across_second_boundaries(
    monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> None:
    for now in clock:
        monkeypatch.setattr(time, "time", lambda now=now: now)
        event = flog._add_timestamp(None, "info", {"event": "x"})
        assert event["timestamp"] == _expected(now)


def test_timestamp_set_by_the_caller_is_kept() -> None:
    event = flog._add_timestamp(None, "info", {"event": "x", "timestamp": "given"})
    assert event["timestamp"] == "given"


def test_json_line_order_and_one_line_per_record_from_both_paths() -> None:
    """The sink ends structlog's chain by returning, and the stdlib bridge calls it directly:
    each record must still be written exactly once, with the reading keys first."""
    import io
    import json
    import logging

    import structlog
    from structlog.contextvars import bound_contextvars

    out = io.StringIO()
    flog.configure_logging("info", "json", out)
    try:
        with bound_contextvars(workflow_id="wf-1", attempt=2):
            result = structlog.get_logger("t").info("task.done", seconds=0.5, note="a\nb")
        logging.getLogger("botocore.endpoint").warning("retrying %s", "Poll")
    finally:
        flog.configure_logging("info", "json", io.StringIO())
    assert result == ""  # what structlog's ReturnLogger hands back: nothing was raised
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert list(first)[:3] == ["timestamp", "level", "event"]
    assert first["event"] == "task.done" and first["level"] == "info"
    assert (first["workflow_id"], first["attempt"], first["note"]) == ("wf-1", 2, "a\nb")
    assert list(second)[:3] == ["timestamp", "level", "event"]
    assert (second["event"], second["level"], second["logger"]) == (
        "retrying Poll",
        "warning",
        "botocore.endpoint",
    )
