"""Golden histories: checked-in JSON histories and the decisions they must give.

Each fixture holds a spec in its JSON form, a complete history as boto3 returns it, and the
decisions reviewed when it was recorded; a change in behaviour shows up as a diff here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flotod.engine import decide
from flotod.specs import decider_spec_from_dict

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_golden_history(path: Path) -> None:
    fixture = load(path)
    spec = decider_spec_from_dict(fixture["spec"])
    decisions = decide(fixture["history"], spec, fixture["workflow_id"])
    assert decisions == fixture["expected"], fixture["about"]


def test_fixtures_exist() -> None:
    assert len(FIXTURES) >= 3


def test_golden_history_prefix_after_last_decision_gives_nothing_new() -> None:
    """Right after a DecisionTaskCompleted with no new event, nothing is sent twice."""
    fixture = load(Path(__file__).parent / "fixtures" / "a_b_then_c.json")
    spec = decider_spec_from_dict(fixture["spec"])
    history = fixture["history"]
    last_completed = max(
        i for i, e in enumerate(history) if e["eventType"] == "DecisionTaskCompleted"
    )
    assert decide(history[: last_completed + 1], spec) == []
