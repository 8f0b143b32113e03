"""The operator commands with ``[payloads]`` on, against the embedded SWF and S3 on one port:
large inputs go to S3, results kept there are printed resolved, and one that cannot be read
is a one-line note, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from flotod.payloads import Payloads, is_envelope
from flotod.swf.credentials import resolve_credentials
from flotod.swf.s3 import S3Store
from tests.cli.conftest import Site
from tests.conftest import endpoint_client

BUCKET = "flotod-cli-payloads"
MB = 1024 * 1024


def plain_s3(url: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}),
    )


@pytest.fixture
def large(site: Site, capsys: pytest.CaptureFixture[str]) -> Site:
    """The site with [payloads] on (the bucket made with CreateBucket) and its types registered."""
    plain_s3(site.endpoint).create_bucket(Bucket=BUCKET)
    with (site.config / "flotod.toml").open("a") as toml:
        toml.write(f'[payloads]\ns3_bucket = "{BUCKET}"\n')
    code, _, err = site.run(capsys, "register")
    assert code == 0, err
    return site


def codec(site: Site) -> Payloads:
    """A fresh reader (empty cache), as another host's process would be."""
    store = S3Store.connect(
        endpoint_url=site.endpoint,
        region="us-east-1",
        credentials=resolve_credentials(endpoint_url=site.endpoint),
    )
    return Payloads(store, bucket=BUCKET, prefix="flotod/")


def a_megabyte() -> dict[str, Any]:
    return {"files": [os.urandom(16).hex() for _ in range(MB // 40)]}


def history(site: Site, workflow_id: str) -> list[dict[str, Any]]:
    swf = endpoint_client(site.endpoint)
    run = swf.list_open_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"][0]["execution"]
    events: list[dict[str, Any]] = swf.get_workflow_execution_history(
        domain=site.domain, execution=run
    )["events"]
    return events


def test_start_with_a_megabyte_input_file_keeps_it_in_s3(
    large: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    value = a_megabyte()
    (tmp_path / "input.json").write_text(json.dumps(value))
    code, out, err = large.run(
        capsys, "workflow", "start", "hello", "--id", "big-in", "--input", f"@{tmp_path}/input.json"
    )
    assert code == 0, err
    assert out.startswith("started big-in")
    sent = history(large, "big-in")[0]["workflowExecutionStartedEventAttributes"]["input"]
    assert is_envelope(sent) and len(sent) < 400
    assert f'"uri":"s3://{BUCKET}/flotod/big-in/no-run/input/' in sent
    assert json.loads(codec(large).decode(sent)) == value
    shown = large.run_json(capsys, "workflow", "show", "big-in")
    assert isinstance(shown, dict)
    assert (shown["input"], shown["input_unresolved"]) == (value, None)


def test_a_small_input_still_travels_as_itself(
    large: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = large.run(
        capsys, "workflow", "start", "hello", "--id", "small-in", "--input", '{"a": 1}'
    )
    assert code == 0, err
    sent = history(large, "small-in")[0]["workflowExecutionStartedEventAttributes"]["input"]
    assert sent == '{"a": 1}'


def test_a_large_signal_input_goes_to_s3_too(
    large: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert large.run(capsys, "workflow", "start", "hello", "--id", "sig")[0] == 0
    value = a_megabyte()
    (tmp_path / "s.json").write_text(json.dumps(value))
    code, _, err = large.run(
        capsys, "workflow", "signal", "sig", "go", "--input", f"@{tmp_path}/s.json"
    )
    assert code == 0, err
    [signalled] = [
        e for e in history(large, "sig") if e["eventType"] == "WorkflowExecutionSignaled"
    ]
    sent = signalled["workflowExecutionSignaledEventAttributes"]["input"]
    assert "/flotod/sig/no-run/signal.go/" in sent
    assert json.loads(codec(large).decode(sent)) == value


def test_too_large_without_a_bucket_is_a_usage_error_not_an_swf_error(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = site.run(
        capsys, "workflow", "start", "hello", "--input", json.dumps("x" * 40_000)
    )
    assert code == 64
    assert "input is 40,002 characters and SWF takes at most 32,768" in err
    assert "[payloads] s3_bucket" in err


def complete_with(site: Site, workflow_id: str, result: str) -> None:
    """Answer the run's first decision task by hand with ``result`` (the services' side of
    payloads is not needed to show one)."""
    swf = endpoint_client(site.endpoint)
    task = swf.poll_for_decision_task(domain=site.domain, taskList={"name": "hello_decider"})
    assert task["workflowExecution"]["workflowId"] == workflow_id
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[
            {
                "decisionType": "CompleteWorkflowExecution",
                "completeWorkflowExecutionDecisionAttributes": {"result": result},
            }
        ],
    )


def test_show_prints_a_megabyte_result_resolved(
    large: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert large.run(capsys, "workflow", "start", "hello", "--id", "big-out")[0] == 0
    value = a_megabyte()
    reference = codec(large).encode(
        json.dumps(value), workflow_id="big-out", run_id="r", name="result"
    )
    complete_with(large, "big-out", reference)

    code, out, err = large.run(capsys, "workflow", "show", "big-out")
    assert code == 0, err
    [line] = [line for line in out.splitlines() if line.startswith("result")]
    assert '{"files": ["' + value["files"][0] in line  # the value, cut to one line
    assert "flotod.payload" not in out

    code, out, _ = large.run(capsys, "workflow", "show", "big-out", "--full")
    assert code == 0 and value["files"][-1] in out

    shown = large.run_json(capsys, "workflow", "show", "big-out")
    assert isinstance(shown, dict)
    assert shown["outcome"]["result"] == value and shown["outcome"]["unresolved"] is None

    # history --json shows what SWF holds: the reference (flotod replay resolves it)
    events = large.run_json(capsys, "workflow", "history", "big-out")
    assert isinstance(events, list)
    closing = events[-1]["workflowExecutionCompletedEventAttributes"]["result"]
    assert closing == reference


def test_show_says_in_one_line_when_the_result_is_gone(
    large: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert large.run(capsys, "workflow", "start", "hello", "--id", "gone")[0] == 0
    reference = codec(large).encode(
        json.dumps(a_megabyte()), workflow_id="gone", run_id="r", name="result"
    )
    uri = json.loads(reference)["uri"]
    complete_with(large, "gone", reference)
    plain_s3(large.endpoint).delete_object(Bucket=BUCKET, Key=uri.split(f"{BUCKET}/", 1)[1])

    code, out, err = large.run(capsys, "workflow", "show", "gone")
    assert code == 0, err
    assert "Traceback" not in out + err
    [note] = [line for line in out.splitlines() if line.startswith("note")]
    assert f"value not resolved: payload_missing: {uri}: the object does not exist" in note
    shown = large.run_json(capsys, "workflow", "show", "gone")
    assert isinstance(shown, dict) and shown["outcome"]["unresolved"].startswith("payload_missing")


def test_a_repeating_workflows_last_result_kept_in_s3_is_resolved(large: Site) -> None:
    """The flotod.result marker a repeating run records can be a reference too."""
    from flotod.cli.repeats import result_marker
    from flotod.engine.decisions import RESULT_MARKER

    value = a_megabyte()
    reference = codec(large).encode(json.dumps(value), workflow_id="rep", run_id="r", name="m")
    events = [
        {
            "eventType": "MarkerRecorded",
            "markerRecordedEventAttributes": {"markerName": RESULT_MARKER, "details": reference},
        }
    ]
    assert result_marker(events, codec(large)) == (True, value, None)
    uri = json.loads(reference)["uri"]
    plain_s3(large.endpoint).delete_object(Bucket=BUCKET, Key=uri.split(f"{BUCKET}/", 1)[1])
    found, shown, note = result_marker(events, codec(large))
    assert found and shown["uri"] == uri
    assert note is not None and note.startswith("payload_missing: ")
