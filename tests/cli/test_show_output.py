"""What ``flotod workflow`` prints of workflow data: escaped for a terminal, whole with
``--full``, cut with a visible marker otherwise, and still exact JSON with ``--json``.

The executions are closed by hand through the embedded SWF (poll the decision task, answer
with the closing decision), so each test chooses exactly the data a workflow carries.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from flotod.examples import hello
from flotod.swf import SwfClient
from tests.cli.conftest import Site
from tests.conftest import endpoint_client

# Terminal controls a workflow result or failure could carry: clear screen, bell, an 8-bit
# CSI, a right-to-left override, backspace, carriage return, DEL.
HOSTILE = "ok\x1b[2J\x07\x9b31m\u202eevil\x08\rX\x7f"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\x08", "\r", "\x7f")


@pytest.fixture
def registered(site: Site, capsys: pytest.CaptureFixture[str]) -> Site:
    code, _, err = site.run(capsys, "register")
    assert code == 0, err
    return site


def close_by_hand(site: Site, decision: dict[str, Any]) -> None:
    """Answer the next decision task of the hello task list with ``decision``."""
    swf = SwfClient.from_boto(endpoint_client(site.endpoint))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        task = swf.poll_for_decision_task(site.domain, hello.TASK_LIST)
        if task is not None:
            swf.respond_decision_task_completed(task.task_token, [decision])
            return
    raise AssertionError("no decision task arrived")


def complete(result: str) -> dict[str, Any]:
    return {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": result},
    }


def fail(reason: str, details: str) -> dict[str, Any]:
    return {
        "decisionType": "FailWorkflowExecution",
        "failWorkflowExecutionDecisionAttributes": {"reason": reason, "details": details},
    }


def started(site: Site, capsys: pytest.CaptureFixture[str], workflow_id: str) -> None:
    code, _, err = site.run(capsys, "workflow", "start", "hello", "--id", workflow_id)
    assert code == 0, err


def assert_escaped(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


def test_results_and_history_are_escaped_for_the_terminal(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    started(registered, capsys, "hostile")
    close_by_hand(registered, complete(json.dumps(HOSTILE, ensure_ascii=False)))

    code, out, _ = registered.run(capsys, "workflow", "show", "hostile")
    assert code == 0
    assert_escaped(out)
    # One line: the carriage return is white space there, as newlines and tabs are.
    assert "ok\\x1b[2J\\x07\\x9b31m\\u202eevil\\x08 X\\x7f" in out

    code, out, _ = registered.run(capsys, "workflow", "history", "hostile")
    assert code == 0
    assert_escaped(out)
    assert '"ok\\u001b[2J' in out  # the closing event's result as recorded: JSON text

    # --json: the exact value back, and no raw controls in the document either.
    for argv in (("show", "hostile"), ("history", "hostile")):
        code, out, _ = registered.run(capsys, "workflow", *argv, "--json")
        assert code == 0
        assert_escaped(out)
        json.loads(out)
    shown: Any = registered.run_json(capsys, "workflow", "show", "hostile")
    assert shown["outcome"]["result"] == HOSTILE
    events: Any = registered.run_json(capsys, "workflow", "history", "hostile")
    closing = events[-1]["workflowExecutionCompletedEventAttributes"]["result"]
    assert json.loads(closing) == HOSTILE


def test_start_wait_escapes_a_text_result_and_a_failure(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    for workflow_id, decision in (
        ("text", complete(json.dumps(HOSTILE))),
        ("failed", fail("bad\x1b]0;title\x07", json.dumps({"why": HOSTILE}))),
    ):
        closer = threading.Thread(target=close_by_hand, args=(registered, decision))
        closer.start()
        code, out, err = registered.run(
            capsys, "workflow", "start", "hello", "--id", workflow_id, "--wait", "--timeout", "30"
        )
        closer.join(30)
        assert_escaped(out + err)
        if workflow_id == "text":
            assert code == 0 and out == "ok\\x1b[2J\\x07\\x9b31m\\u202eevil\\x08\\x0dX\\x7f\n"
        else:
            assert code == 1 and out == ""
            assert "FAILED: bad\\x1b]0;title\\x07" in err


def test_show_cuts_long_details_with_a_marker_and_full_prints_them_whole(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = "\n".join(f'  File "/opt/acme/step{i}.py", line {i}, in run' for i in range(80))
    details = f"disk full: /var/lib/acme\n\nTraceback (most recent call last):\n{trace}"
    started(registered, capsys, "long")
    close_by_hand(registered, fail("OSError", details))

    code, out, _ = registered.run(capsys, "workflow", "show", "long")
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("details")]
    assert "disk full" in line
    assert "--full" in line and "more characters" in line  # the marker says what is missing
    assert "step79.py" not in out

    code, out, _ = registered.run(capsys, "workflow", "show", "long", "--full")
    assert code == 0
    # Every line of the details, each indented under the key so none can pass for a field.
    for detail_line in details.splitlines():
        assert f"  {detail_line}".rstrip() in out
    assert "more characters" not in out
    keys = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert keys == ["workflow", "type", "status", "started", "closed", "reason", "details"]


def test_a_failed_childs_details_show_as_an_object(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    # The parent's failure as the engine now records it: the child's details decoded once.
    child = {"failed_tasks": [{"task": "A", "reason": "OSError", "details": "disk full"}]}
    parent = {"failed_tasks": [{"task": "kid", "reason": "task_failed", "details": child}]}
    started(registered, capsys, "parent")
    close_by_hand(registered, fail("task_failed", json.dumps(parent)))

    shown: Any = registered.run_json(capsys, "workflow", "show", "parent")
    assert shown["outcome"]["details"] == parent
    code, out, _ = registered.run(capsys, "workflow", "show", "parent", "--full")
    assert code == 0
    text = out.split("details", 1)[1]
    assert json.loads(text) == parent  # pretty JSON, one document, no escaped JSON inside
    assert '\\"' not in out
