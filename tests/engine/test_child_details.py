"""A failed child's details in its parent's failure: one JSON document, not JSON in a string."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import decide
from flotod.specs import ChildWorkflow
from tests.engine.conftest import attrs, make_spec
from tests.engine.swfsim import SwfSim


def fail_parent_with_child_details(details: str) -> Any:
    """The parent's failure details after its only child failed with ``details``."""
    spec = make_spec(ChildWorkflow("c", "1", workflow_id="kid"))
    sim = SwfSim()
    sim.respond(decide(sim.decision_task(), spec, "wf"))
    sim.close_child("wf:kid", "ChildWorkflowExecutionFailed", reason="task_failed", details=details)
    final = decide(sim.decision_task(), spec, "wf")
    assert attrs(final[0])["reason"] == "task_failed"
    return json.loads(attrs(final[0])["details"])


def test_a_failed_childs_json_details_are_decoded_once() -> None:
    # What a flotod child records when one of its activities fails.
    child_details = {"failed_tasks": [{"task": "A", "reason": "OSError", "details": "disk full"}]}
    details = fail_parent_with_child_details(json.dumps(child_details))
    (failed,) = details["failed_tasks"]
    assert failed["task"] == "kid"
    assert failed["details"] == child_details


def test_a_failed_childs_text_details_stay_text() -> None:
    details = fail_parent_with_child_details("not json {")
    assert details["failed_tasks"][0]["details"] == "not json {"


def test_a_childs_deeply_nested_details_stay_text_and_never_raise() -> None:
    # Anyone who can fail the child controls this text: nesting past the recursion limit
    # must not make every replay of the parent raise.
    for depth in (500, 5000):  # one json.loads accepts, one it refuses with RecursionError
        deep = "[" * depth + "]" * depth
        details = fail_parent_with_child_details(deep)
        assert details["failed_tasks"][0]["details"] == deep
