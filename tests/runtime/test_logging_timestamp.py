"""The record timestamp reuses the formatted second; it must still be exact across seconds."""

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
