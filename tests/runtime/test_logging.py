"""Log records: fields, formats, stdlib routing, and the journal's native wire format."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
import structlog

from flotod.runtime.logging import configure_logging, resolve_format

from .conftest import Datagrams

pytestmark = pytest.mark.usefixtures("reset_logging")


def parse_journal(payload: bytes) -> dict[str, bytes]:
    """The native protocol read independently: KEY=value lines, or KEY + LE64 length + data."""
    fields: dict[str, bytes] = {}
    pos = 0
    while pos < len(payload):
        newline = payload.index(b"\n", pos)
        line = payload[pos:newline]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value
            pos = newline + 1
        else:
            (size,) = struct.unpack("<Q", payload[newline + 1 : newline + 9])
            start = newline + 9
            fields[line.decode()] = payload[start : start + size]
            assert payload[start + size : start + size + 1] == b"\n"
            pos = start + size + 1
    return fields


def json_records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_records_carry_bound_context_and_levels() -> None:
    stream = io.StringIO()
    assert configure_logging("info", "json", stream) == "json"
    log = structlog.get_logger()
    structlog.contextvars.bind_contextvars(workflow_id="wf-1", run_id="run-9")
    log.info("activity.completed", activity_id="a1", seconds=1.5)
    log.debug("not shown at info")
    log.warning("slow poll")
    [first, second] = json_records(stream)
    assert first["event"] == "activity.completed"
    assert first["level"] == "info"
    assert (first["workflow_id"], first["run_id"], first["activity_id"]) == ("wf-1", "run-9", "a1")
    assert first["seconds"] == 1.5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(first["timestamp"]))
    assert list(first)[:3] == ["timestamp", "level", "event"]
    assert second["level"] == "warning"


def test_traceback_stays_in_one_record() -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError:
        structlog.get_logger().exception("task.failed", activity_id="a2")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "error"
    assert str(record["exception"]).startswith("Traceback (most recent call last):")
    assert str(record["exception"]).endswith("KeyError: 'missing'")


def test_stdlib_logging_goes_through_the_same_pipeline() -> None:
    stream = io.StringIO()
    configure_logging("debug", "json", stream)
    structlog.contextvars.bind_contextvars(task_list="video")
    logging.getLogger("botocore.endpoint").info("sending request")
    logging.getLogger("botocore.endpoint").warning("retrying %s", "PollForActivityTask")
    logging.getLogger("flotod.something").debug("library %d", 7)
    records = json_records(stream)
    assert [(r["logger"], r["level"], r["event"]) for r in records] == [
        ("botocore.endpoint", "warning", "retrying PollForActivityTask"),
        ("flotod.something", "debug", "library 7"),
    ]
    assert all(r["task_list"] == "video" for r in records)


def test_logfmt_lines_are_readable_and_escaped() -> None:
    stream = io.StringIO()
    configure_logging("info", "logfmt", stream)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        structlog.get_logger().error("decision.failed", workflow_id="wf 2", ok=False, exc_info=True)
    [line] = stream.getvalue().splitlines()
    assert re.fullmatch(
        r'timestamp=\S+Z level=error event=decision\.failed workflow_id="wf 2" ok=false '
        r'exception="Traceback \(most recent call last\):\\n.*ValueError: bad\\nthing"',
        line,
    )


def test_reconfigure_changes_level_and_format() -> None:
    stream = io.StringIO()
    configure_logging("warning", "json", stream)
    log = structlog.get_logger()
    log.info("dropped")
    configure_logging("debug", "logfmt", stream)
    log.debug("kept")
    assert stream.getvalue().splitlines()[-1].endswith("level=debug event=kept")
    assert "dropped" not in stream.getvalue()


def test_auto_format_picks_by_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    assert resolve_format("auto", io.StringIO()) == "json"
    primary, secondary = os.openpty()
    with open(secondary, "w") as tty:
        assert resolve_format("auto", tty) == "logfmt"
    os.close(primary)
    with (tmp_path / "stderr").open("w") as stream:
        assert resolve_format("auto", stream) == "json"
        info = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        assert resolve_format("auto", stream) == "journal"
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino + 1}")
        assert resolve_format("auto", stream) == "json"
    with pytest.raises(ValueError, match="log format"):
        resolve_format("xml", io.StringIO())


def test_journal_native_fields_on_the_wire(datagrams: Datagrams) -> None:
    stream = io.StringIO()
    chosen = configure_logging(
        "info", "journal", stream, identifier="flotod-worker", journal_socket=datagrams.path
    )
    assert chosen == "journal"
    structlog.contextvars.bind_contextvars(workflow_id="abc", run_id="r1", task_list="video")
    structlog.get_logger().warning(
        "activity.heartbeat_late", activity_id="act-1", attempt=2, tags=["a b", 'q"'], ok=True
    )
    fields = parse_journal(datagrams.recv())
    event, *pairs = fields["MESSAGE"].split(b" ")
    assert event == b"activity.heartbeat_late"
    # bound context comes in the order its variables were first created: compare as a set
    assert b" ".join(pairs).startswith(b'activity_id=act-1 attempt=2 tags="[\\"a b\\", ')
    assert {p for p in pairs if p.startswith((b"workflow_id", b"run_id", b"task_list"))} == {
        b"workflow_id=abc",
        b"run_id=r1",
        b"task_list=video",
    }
    assert fields["PRIORITY"] == b"4"
    assert fields["SYSLOG_IDENTIFIER"] == b"flotod-worker"
    assert fields["EVENT"] == b"activity.heartbeat_late"
    assert fields["WORKFLOW_ID"] == b"abc"
    assert fields["RUN_ID"] == b"r1"
    assert fields["ACTIVITY_ID"] == b"act-1"
    assert fields["TASK_LIST"] == b"video"
    assert fields["ATTEMPT"] == b"2"
    assert json.loads(fields["TAGS"]) == ["a b", 'q"']
    assert fields["OK"] == b"true"
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in fields)
    assert stream.getvalue() == ""


def test_journal_multiline_values_use_the_length_prefixed_form(datagrams: Datagrams) -> None:
    configure_logging("info", "journal", io.StringIO(), journal_socket=datagrams.path)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger().exception("task.crashed", **{"odd-key": "x", "_private": "y"})
    payload = datagrams.recv()
    assert b"\nEXCEPTION\n" in payload
    fields = parse_journal(payload)
    assert fields["PRIORITY"] == b"3"
    assert fields["EXCEPTION"].startswith(b"Traceback (most recent call last):")
    assert fields["EXCEPTION"].endswith(b"RuntimeError: boom")
    assert fields["MESSAGE"].startswith(b"task.crashed odd-key=x _private=y\nTraceback")
    assert fields["ODD_KEY"] == b"x"
    assert fields["PRIVATE"] == b"y"


def test_journal_oversized_entry_goes_through_a_memfd(datagrams: Datagrams) -> None:
    configure_logging("info", "journal", io.StringIO(), journal_socket=datagrams.path)
    big = "x" * 600_000  # larger than any default datagram limit
    structlog.get_logger().info("big.result", result=big)
    datagrams.sock.settimeout(2)
    data, fds, _, _ = socket.recv_fds(datagrams.sock, 16, 1)
    assert data == b""
    [fd] = fds
    with os.fdopen(fd, "rb") as memfd:
        memfd.seek(0)  # the sender's write offset is shared; journald reads from the start
        fields = parse_journal(memfd.read())
    assert fields["EVENT"] == b"big.result"
    assert fields["RESULT"] == big.encode()


def test_journal_unreachable_falls_back_to_stderr_lines(short_dir: Path) -> None:
    stream = io.StringIO()
    configure_logging("info", "journal", stream, journal_socket=str(short_dir / "none"))
    structlog.get_logger().info("still.logged", workflow_id="w")
    assert re.fullmatch(
        r"timestamp=\S+Z level=info event=still\.logged workflow_id=w\n", stream.getvalue()
    )


def test_journal_fallback_prefixes_priority_on_the_journal_stream(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (short_dir / "stderr").open("w+") as stream:
        info = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        configure_logging("info", "auto", stream, journal_socket=str(short_dir / "none"))
        structlog.get_logger().error("lost.journal")
        stream.seek(0)
        assert stream.read() == "<3>level=error event=lost.journal\n"


def test_python_systemd_gets_ready_key_value_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Debian's python3-systemd, entries go through its ``sendv`` (no per-entry stack
    walk for CODE_FILE); an unreachable journal still falls back to a stderr line."""
    import sys
    import types

    from flotod.runtime.journal import DEFAULT_SOCKET

    sent: list[tuple[str, ...]] = []
    reachable = [True]

    def sendv(*lines: str) -> None:
        if not reachable[0]:
            raise OSError("journal gone")
        sent.append(lines)

    systemd = types.ModuleType("systemd")
    journal = types.ModuleType("systemd.journal")
    journal.sendv = sendv  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "systemd", systemd)
    monkeypatch.setitem(sys.modules, "systemd.journal", journal)
    stream = io.StringIO()
    configure_logging(
        "info", "journal", stream, identifier="flotod-decider", journal_socket=DEFAULT_SOCKET
    )
    log = structlog.get_logger()
    log.info("decision.completed", workflow_id="w\n1", decisions=["A"], closing=False)
    (lines,) = sent
    fields = dict(line.split("=", 1) for line in lines)
    message = 'decision.completed workflow_id="w\\n1" decisions="[\\"A\\"]" closing=false'
    assert fields["MESSAGE"] == message
    assert fields["WORKFLOW_ID"] == "w\n1"  # sendv sends values with newlines intact
    assert (fields["PRIORITY"], fields["EVENT"]) == ("6", "decision.completed")
    assert fields["CLOSING"] == "false"
    assert fields["SYSLOG_IDENTIFIER"] == "flotod-decider"
    assert json.loads(fields["DECISIONS"]) == ["A"]
    assert not any(name.startswith("CODE_") for name in fields)
    reachable[0] = False
    log.warning("swf.retry", attempt=2)
    assert len(sent) == 1
    assert "swf.retry" in stream.getvalue() and "attempt=2" in stream.getvalue()


def test_empty_fields_are_left_out(datagrams: Any) -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    structlog.contextvars.bind_contextvars(attempt=None, workflow_id="wf-1")
    structlog.get_logger().info("activity.completed", reason=None, closing_reason=None, n=0)
    logging.getLogger("lib").warning("plain")
    [first, second] = json_records(stream)
    assert first == {
        "timestamp": first["timestamp"],
        "level": "info",
        "event": "activity.completed",
        "workflow_id": "wf-1",
        "n": 0,
    }
    assert "attempt" not in second
    configure_logging("info", "journal", io.StringIO(), journal_socket=datagrams.path)
    structlog.get_logger().info("decider.decided", closing_reason=None)
    fields = parse_journal(datagrams.recv())
    assert "CLOSING_REASON" not in fields and "ATTEMPT" not in fields
    assert fields["MESSAGE"] == b"decider.decided workflow_id=wf-1"
