"""Input decoding, result encoding and failure formatting, without SWF."""

from __future__ import annotations

import json

import pytest

from flotod.payloads import Payloads
from flotod.specs import ActivityTask
from flotod.swf import NO_RETRY
from flotod.swf.types import ActivityTask as ActivityTaskReceived
from flotod.swf.types import WorkflowExecution
from flotod.worker import RegistrationError, Registry, current_task
from flotod.worker.context import TaskInfo, details_text
from flotod.worker.execute import Outcome, decode_input, encode_result, failure_from_exception
from flotod.worker.offload import Offload
from flotod.worker.running import RunningTask


def test_decode_input_strips_the_reserved_key() -> None:
    assert decode_input('{"workflow": 1, "__flotod__": {"attempt": 2}}') == ({"workflow": 1}, 2)
    assert decode_input('{"__flotod__": {"attempt": true}}') == ({}, None)
    assert decode_input('{"a": 1}') == ({"a": 1}, None)
    assert decode_input("[1, 2]") == ([1, 2], None)
    assert decode_input("plain words") == ("plain words", None)
    assert decode_input("") == (None, None)


def test_deeply_nested_input_reaches_the_activity_as_text() -> None:
    """json.loads raised RecursionError, outside decode_input's ValueError handler."""
    text = "[" * 3000
    assert decode_input(text) == (text, None)


def test_results_are_always_json() -> None:
    reg = Registry()
    definition = reg.register("a", "1", lambda: None)
    assert encode_result(definition, "text").result == '"text"'
    assert encode_result(definition, 0).result == "0"
    assert encode_result(definition, None).result == "null"
    assert encode_result(definition, float("nan")).reason == "result is not JSON-serializable"
    assert encode_result(definition, {1, 2}).reason == "result is not JSON-serializable"
    # Any size: whether it fits SWF is decided after the payload rules (test_sizes_...).
    assert encode_result(definition, "x" * 40_000).status == "completed"


def _running(activity_id: str = "a1") -> RunningTask:
    task = ActivityTaskReceived(
        task_token="t",
        activity_id=activity_id,
        activity_type={"name": "a", "version": "1"},
        input="",
        workflow_execution=WorkflowExecution("wf", "run"),
        started_event_id=1,
    )
    info = TaskInfo("wf", "run", activity_id, "a", "1", None, "work")
    return RunningTask(task, info, None)


def test_sizes_are_checked_after_the_payload_rules() -> None:
    offload = Offload(Payloads.off(), NO_RETRY, lambda _: None)
    exactly = json.dumps("x" * (32_768 - 2))
    fits = offload.store_result(_running(), Outcome("completed", exactly), deadline=lambda: None)
    assert fits == Outcome("completed", exactly)
    over = offload.store_result(
        _running(), Outcome("completed", exactly + " "), deadline=lambda: None
    )
    assert over is not None and over.reason == "result too large"
    assert "is 32769 characters; SWF allows 32768" in over.details


def test_generator_results() -> None:
    def no_tasks() -> list[ActivityTask]:
        return []

    definition = Registry().register("g", "1", no_tasks, kind="generator")
    task = ActivityTask("x", "1", input={"day": "mon"})
    out = encode_result(definition, [task])
    assert out.status == "completed" and out.result is not None
    assert json.loads(out.result)[0]["id_"] == task.id_
    assert encode_result(definition, ()).result == "[]"
    bad = encode_result(definition, [task, "not a task"])
    assert bad.reason == "generator did not return a list of tasks"
    assert "list" in bad.details


def test_long_failures_are_trimmed_keeping_message_and_last_frames() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise RuntimeError("the real cause " + "m" * 50_000)
        deep(n - 1)

    with pytest.raises(RuntimeError) as info:
        deep(400)
    out = failure_from_exception(info.value)
    assert out.status == "failed"
    assert out.reason == "RuntimeError"
    assert len(out.details) <= 32_768
    assert out.details.startswith("the real cause")
    assert "traceback trimmed" in out.details
    assert out.details.rstrip().endswith("m")  # the final line of the traceback survives


def test_reason_names_the_exception_class_with_its_module() -> None:
    class Custom(Exception):
        pass

    reason = failure_from_exception(Custom("x")).reason
    assert reason.endswith("Custom") and reason.startswith(__name__)


def test_heartbeat_details_fit_swf() -> None:
    assert details_text({"step": 1}) == '{"step": 1}'
    assert details_text("as is") == "as is"
    assert len(details_text("x" * 5000)) == 2048


def test_current_task_outside_an_activity() -> None:
    with pytest.raises(RuntimeError, match="only available"):
        current_task()


def test_activities_take_one_context_argument_or_none() -> None:
    reg = Registry()

    def two(a: object, b: object) -> None:
        return None

    def optional(context: object = None) -> None:
        return None

    with pytest.raises(RegistrationError, match="2 arguments"):
        reg.register("two", "1", two)
    assert reg.register("opt", "1", optional).takes_context
    assert not reg.register("none", "1", lambda: None).takes_context
    with pytest.raises(RegistrationError):
        reg.register("", "1", lambda: None)
