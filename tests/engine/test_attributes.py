"""One place derives an event's attributes key; malformed events read as empty."""

from __future__ import annotations

from pathlib import Path

from flotod.engine.attributes import attributes_key, event_attributes

FLOTOD = Path(__file__).resolve().parents[2] / "flotod"


def test_key_follows_swf_naming() -> None:
    assert attributes_key("ActivityTaskCompleted") == "activityTaskCompletedEventAttributes"
    assert attributes_key("") == "EventAttributes"  # no IndexError on a typeless event


def test_event_attributes_of_good_and_malformed_events() -> None:
    event = {"eventType": "TimerFired", "timerFiredEventAttributes": {"timerId": "t"}}
    assert event_attributes(event) == {"timerId": "t"}
    assert event_attributes({"eventType": "TimerFired"}) == {}
    assert event_attributes({"eventType": "TimerFired", "timerFiredEventAttributes": "x"}) == {}
    assert event_attributes({}) == {}


def test_no_module_spells_the_key_rule_again() -> None:
    """The rule lives in flotod/engine/attributes.py only; copies drift."""
    copies = [
        str(path.relative_to(FLOTOD))
        for path in FLOTOD.rglob("*.py")
        if path.name != "attributes.py" and '+ "EventAttributes"' in path.read_text()
    ]
    assert copies == []
