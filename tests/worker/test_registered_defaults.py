"""The decorators' timeouts: checked when declared, and the heartbeat rule a worker enforces."""

from __future__ import annotations

import pytest

from flotod.services.registration import activity_type
from flotod.worker.registry import RegistrationError, Registry, activity, generator, unmet_heartbeat


def job() -> str:
    return "done"


def test_decorator_defaults_become_the_type_defaults_and_none_keeps_flotods() -> None:
    registry = Registry()
    activity("a", "1", start_to_close_timeout=5, heartbeat_timeout="NONE", registry=registry)(job)
    generator("g", "1", task_list="gens", registry=registry)(job)
    a, g = registry.get("a", "1"), registry.get("g", "1")
    assert a is not None and g is not None
    own = activity_type(a, "acts", 300).defaults()
    assert own["defaultTaskStartToCloseTimeout"] == "5"
    assert own["defaultTaskHeartbeatTimeout"] == "NONE"
    assert own["defaultTaskScheduleToStartTimeout"] == "3600"
    assert own["defaultTaskScheduleToCloseTimeout"] == "7200"
    assert own["defaultTaskList"] == {"name": "acts"}
    flotods = activity_type(g, "acts", 300).defaults()
    assert flotods["defaultTaskHeartbeatTimeout"] == "300"
    assert flotods["defaultTaskList"] == {"name": "gens"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"start_to_close_timeout": -1}, "activity a:1: start_to_close_timeout is -1"),
        ({"heartbeat_timeout": "1h"}, "heartbeat_timeout must be whole seconds"),
        ({"task_list": "a:b"}, "task_list 'a:b' is not a task list name"),
    ],
)
def test_bad_decorator_defaults_are_refused_naming_the_activity(
    kwargs: dict[str, object], words: str
) -> None:
    with pytest.raises(RegistrationError, match=words):
        activity("a", "1", registry=Registry(), **kwargs)(job)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("timeout", "beat", "unmet"),
    [(60, 90, True), (180, 90, False), (179, 90, True), (600, 0, True), ("NONE", 0, False)],
)
def test_a_heartbeat_timeout_the_worker_cannot_meet(
    timeout: int | str, beat: int, unmet: bool
) -> None:
    registry = Registry()
    activity("a", "1", heartbeat_timeout=timeout, registry=registry)(job)
    definition = registry.get("a", "1")
    assert definition is not None
    why = unmet_heartbeat(definition, beat)
    assert (why is not None) is unmet
    if why is not None:
        assert why.startswith("activity a:1: heartbeat_timeout=") and "set heartbeat_seconds" in why
