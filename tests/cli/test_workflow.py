"""The operator commands against the embedded SWF, run through ``flotod``'s own main()."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flotod.engine.handlers import SpecHandler
from flotod.examples import hello
from flotod.specs import load_decider_spec
from flotod.swf import SwfClient
from flotod.worker import ActivityWorker
from tests.cli.conftest import Site
from tests.conftest import endpoint_client
from tests.examples.harness import Loop


@pytest.fixture
def registered(site: Site, capsys: pytest.CaptureFixture[str]) -> Site:
    code, _, err = site.run(capsys, "register")
    assert code == 0, err
    return site


@pytest.fixture
def serving(registered: Site) -> Iterator[Site]:
    """The hello decider (the pure engine in a loop) and the real worker for the site."""
    swf = SwfClient.from_boto(endpoint_client(registered.endpoint))
    spec = load_decider_spec((registered.config / "specs" / "hello.json").read_bytes())
    loop = Loop(swf, hello.TASK_LIST, SpecHandler(spec), domain=registered.domain)
    worker = ActivityWorker(registered.domain, hello.ACTIVITY_TASK_LIST, swf=swf)
    thread = threading.Thread(target=worker.run, daemon=True)
    loop.thread.start()
    thread.start()
    yield registered
    loop.stop.set()
    worker.stop()
    loop.thread.join(10)
    thread.join(10)
    assert not loop.errors


def test_register_is_idempotent_and_reads_every_instance(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    first = site.run_json(capsys, "register")
    again = site.run_json(capsys, "register")
    assert isinstance(first, dict) and isinstance(again, dict)
    assert first["domain"] == site.domain and first["domain_created"] is True
    labels = {(t["kind"], t["name"], t["version"], t["task_list"]) for t in first["types"]}
    assert labels == {
        ("workflow", "hello", "v1", hello.TASK_LIST),
        ("activity", "hello", "v1", hello.ACTIVITY_TASK_LIST),
        ("workflow", "flotod_daemon", "v1", "flotod_daemon"),
        ("workflow", "flotod_daemon_child", "v1", "flotod_daemon"),
    }
    assert all(t["created"] for t in first["types"])
    assert again["domain_created"] is False
    assert not any(t["created"] for t in again["types"])
    code, out, _ = site.run(capsys, "register")
    assert code == 0 and "already registered" in out and "hello:v1" in out


def test_start_wait_prints_the_result_and_show_history_list_agree(
    serving: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = serving.run(capsys, "workflow", "start", "hello", "--id", "h1", "--wait")
    assert code == 0, err
    assert json.loads(out) == hello.EXPECTED_RESULT

    code, out, _ = serving.run(capsys, "workflow", "show", "h1")
    assert code == 0
    assert "COMPLETED" in out and "Hello, world!" in out

    shown = serving.run_json(capsys, "workflow", "show", "h1")
    assert isinstance(shown, dict)
    assert shown["outcome"]["status"] == "COMPLETED"
    assert shown["outcome"]["result"] == hello.EXPECTED_RESULT

    code, out, _ = serving.run(capsys, "workflow", "history", "h1")
    lines = out.splitlines()
    assert lines[0].split() == ["TIME", "AT", "EVENT", "TASK", "TOOK", "DETAIL"]
    completed = next(line for line in lines if "ActivityTaskCompleted" in line)
    assert "greet" in completed and "Hello, world!" in completed
    assert not any("DecisionTask" in line for line in lines)
    events = serving.run_json(capsys, "workflow", "history", "h1")
    assert isinstance(events, list)
    assert events[-1]["eventType"] == "WorkflowExecutionCompleted"

    closed = serving.run_json(capsys, "workflow", "list", "--closed")
    assert isinstance(closed, list)
    assert [(i["execution"]["workflowId"], i["closeStatus"]) for i in closed] == [
        ("h1", "COMPLETED")
    ]
    assert serving.run_json(capsys, "workflow", "list") == []


def test_text_input_is_sent_as_a_json_string(
    serving: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = serving.run(
        capsys, "workflow", "start", "hello", "--id", "h2", "--input", "{not json", "--wait"
    )
    # Text that is not JSON is sent as a JSON string, so hello still completes.
    assert code == 0, err
    assert json.loads(out) == hello.EXPECTED_RESULT


def test_signal_cancel_terminate_and_their_traces(
    registered: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # No decider runs here: the execution stays open while the operator acts on it.
    started = registered.run_json(capsys, "workflow", "start", "hello", "--id", "idle")
    assert isinstance(started, dict) and started["workflow_id"] == "idle"
    payload = tmp_path / "signal.json"
    payload.write_text('{"go": true}')
    code, out, err = registered.run(
        capsys, "workflow", "signal", "idle", "wake", "--input", f"@{payload}"
    )
    assert code == 0, err
    code, _, err = registered.run(capsys, "workflow", "cancel", "idle")
    assert code == 0, err
    listed = registered.run_json(capsys, "workflow", "list", "--id", "idle")
    assert isinstance(listed, list) and len(listed) == 1
    assert listed[0]["execution"]["runId"] == started["run_id"]
    code, _, err = registered.run(capsys, "workflow", "terminate", "idle", "--reason", "done")
    assert code == 0, err
    events: Any = registered.run_json(capsys, "workflow", "history", "idle")
    kinds = [e["eventType"] for e in events]
    assert "WorkflowExecutionSignaled" in kinds
    assert "WorkflowExecutionCancelRequested" in kinds
    assert kinds[-1] == "WorkflowExecutionTerminated"
    signaled = next(e for e in events if e["eventType"] == "WorkflowExecutionSignaled")
    assert json.loads(signaled["workflowExecutionSignaledEventAttributes"]["input"]) == {"go": True}
    code, out, _ = registered.run(capsys, "workflow", "show", "idle")
    assert "TERMINATED" in out and "done" in out


def test_expected_errors_are_one_line_with_an_exit_code(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = registered.run(capsys, "workflow", "show", "no-such-workflow")
    assert code == 69 and out == ""
    assert err.count("\n") == 1 and "no-such-workflow" in err and "Traceback" not in err

    code, _, err = registered.run(capsys, "workflow", "start", "hello", "--input", "@/nonexistent")
    assert code == 64 and err.count("\n") == 1 and "/nonexistent" in err

    code, _, err = registered.run(capsys, "workflow", "start", "no_such_type")
    assert code != 0 and err.count("\n") == 1

    code, out, err = registered.run(
        capsys, "workflow", "list", "--endpoint-url", "http://127.0.0.1:9"
    )
    assert code == 69 and out == ""
    assert err.count("\n") == 1 and "127.0.0.1:9" in err


def test_waiting_gives_up_after_timeout(
    registered: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = registered.run(
        capsys, "workflow", "start", "hello", "--id", "slow", "--wait", "--timeout", "0.5"
    )
    assert code == 69 and out == ""
    assert err.count("\n") == 1 and "did not close within 0.5 s" in err


def test_a_bad_config_stops_before_swf(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    (site.config / "flotod.toml").write_text("[swf]\ndomain = 3\n")
    code, out, err = site.run(capsys, "workflow", "list")
    assert code == 78 and out == ""
    assert "swf.domain" in err


def test_config_check_lists_every_instance(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = site.run(capsys, "config", "check")
    assert code == 0
    assert {line.split()[1] for line in out.splitlines()} == {
        "decider.hello",
        "worker.hello",
        "daemon.main",
    }
    (site.config / "specs" / "hello.json").unlink()
    (site.config / "more.toml").write_text(
        '[worker.broken]\ntask_list = "x"\nmodules = ["no.such"]\n'
    )
    code, out, _ = site.run(capsys, "config", "check", "--json")
    assert code == 78
    report = json.loads(out)
    assert report["ok"] is False
    assert report["instances"]["worker.hello"] == []
    assert any("hello.json" in p for p in report["instances"]["decider.hello"])
    assert any("no.such" in p for p in report["instances"]["worker.broken"])


def test_the_command_as_a_real_process(registered: Site) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flotod.cli.main",
            "workflow",
            "list",
            "--closed",
            "--json",
            "--config",
            str(registered.config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flotod.cli.main",
            "workflow",
            "show",
            "missing",
            "--config",
            str(registered.config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 69
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
