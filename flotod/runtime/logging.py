"""Logging for the services: structlog for flotod's own records, stdlib routed through it.

One record is one line (or one journal entry), tracebacks included, so a record is never split
across lines that other processes' lines can interleave with. Context bound with
``structlog.contextvars.bind_contextvars(workflow_id=..., run_id=..., activity_id=...)`` lands
on every record, and under systemd becomes journal fields (``WORKFLOW_ID=...``) that
``journalctl -u flotod-worker@video WORKFLOW_ID=abc`` filters on.

Calling :func:`configure_logging` again (e.g. after a SIGHUP changed the level) replaces the
previous setup.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.contextvars import merge_contextvars

from flotod.runtime.journal import DEFAULT_SOCKET, JournalSender, field_name

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR, "critical": logging.CRITICAL}  # fmt: skip
# syslog priorities, as journald and the "<N>" stderr prefix understand them
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}
FORMATS = ("auto", "journal", "logfmt", "json")
JOURNAL_SOCKET_ENV = "FLOTOD_JOURNAL_SOCKET"
# Libraries whose INFO/DEBUG chatter drowns flotod's own records.
NOISY_LOGGERS = ("boto3", "botocore", "urllib3", "s3transfer")

EventDict = MutableMapping[str, Any]
_FIRST = ("timestamp", "level", "event")
Processor = Callable[[Any, str, EventDict], EventDict]


def journal_stream_matches(stream: TextIO, environ: MutableMapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal connection systemd gave us ($JOURNAL_STREAM)."""
    value = (environ if environ is not None else os.environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    try:
        info = os.fstat(stream.fileno())
        return (info.st_dev, info.st_ino) == (int(device), int(inode))
    except (AttributeError, OSError, ValueError):
        return False


def resolve_format(format: str, stream: TextIO) -> str:
    """``auto`` becomes journal under systemd, logfmt on a terminal, json otherwise."""
    if format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {format!r}")
    if format != "auto":
        return format
    if journal_stream_matches(stream):
        return "journal"
    isatty = getattr(stream, "isatty", None)
    return "logfmt" if isatty is not None and isatty() else "json"


_BARE = re.compile(r"[^\s\"=\\]+")


def _logfmt_value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif value is None:
        return "null"
    elif isinstance(value, int | float):
        return str(value)
    else:
        text = json.dumps(value, default=str)
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def render_logfmt(event: EventDict) -> str:
    keys = [k for k in _FIRST if k in event] + [k for k in event if k not in _FIRST]
    return " ".join(f"{k}={_logfmt_value(event[k])}" for k in keys)


_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


def render_json(event: EventDict) -> str:
    ordered = {k: event[k] for k in _FIRST if k in event}
    ordered.update(event)  # keys already placed keep their position
    return _JSON.encode(ordered)


_NOT_FIELDS = frozenset(("event", "level", "timestamp"))
# Multi-line texts kept out of MESSAGE's one-line summary: each is a field of its own.
_LONG_FIELDS = frozenset(("exception", "traceback"))


def _field_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    return json.dumps(value, default=str)


def journal_fields(event: EventDict, identifier: str) -> dict[str, str]:
    """MESSAGE reads well in plain ``journalctl``; every key is also its own field.

    One pass over the record: under systemd this runs for every record a service writes.
    """
    name = str(event.get("event", ""))
    fields = {
        "MESSAGE": name,
        "PRIORITY": str(PRIORITIES.get(str(event.get("level")), 6)),
        "SYSLOG_IDENTIFIER": identifier,
        "EVENT": name,
    }
    summary: list[str] = []
    exception = None
    for key, value in event.items():
        if key in _NOT_FIELDS:
            continue
        if key == "exception":
            exception = value
        elif key not in _LONG_FIELDS:
            summary.append(f"{key}={_logfmt_value(value)}")
        field = field_name(key)
        if field is not None and field not in fields:
            fields[field] = _field_text(value)
    if summary:
        fields["MESSAGE"] = name + " " + " ".join(summary)
    if exception is not None:
        fields["MESSAGE"] += "\n" + str(exception)
    return fields


class _Sink:
    """The end of every pipeline: writes one record, to the journal or as one stream line."""

    def __init__(self, format: str, stream: TextIO, identifier: str, journal_socket: str) -> None:
        self.format = format
        self.stream = stream
        self.identifier = identifier
        self.journal = JournalSender(journal_socket) if format == "journal" else None
        # Under systemd a stderr line starting "<N>" gets priority N in the journal.
        self.prefix_priority = format == "journal" and journal_stream_matches(stream)
        self._lock = threading.Lock()

    def emit(self, event: EventDict) -> None:
        if self.journal is not None:
            if self.journal.send(journal_fields(event, self.identifier)):
                return
            if self.prefix_priority:  # journald stamps the time itself
                priority = PRIORITIES.get(str(event.get("level")), 6)
                line = f"<{priority}>{render_logfmt(event)}"
            else:
                line = render_logfmt(_add_timestamp(None, "", event))
        elif self.format == "json":
            line = render_json(event)
        else:
            line = render_logfmt(event)
        if self.format != "json":  # JSON escapes every newline itself
            line = line.replace("\n", "\\n")
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed stderr must not take the service down

    def __call__(self, logger: Any, method_name: str, event: EventDict) -> str:
        """The last processor of structlog's chain, and the first step after the bridge's.

        It also does the level, exception and timestamp steps itself: one call per record
        instead of four, on a path a busy worker takes twice per task.
        """
        event.setdefault("level", _LEVEL_ALIASES.get(method_name, method_name))
        if "exc_info" in event:
            _exception_field(logger, method_name, event)
        if self.journal is None:  # journald stamps its own entries
            _add_timestamp(logger, method_name, event)
        self.emit(event)
        # Returning (to structlog's ReturnLogger, which discards it) instead of raising
        # DropEvent spares every record an exception.
        return ""

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


_LEVEL_ALIASES = {"warn": "warning", "exception": "error", "msg": "info"}


# The formatted second, reused while it lasts: a busy worker writes hundreds of records a second
# and strftime was a measurable share of its CPU (py-spy, bench/e2e.py). A (second, text) pair
# is replaced as a whole, so threads racing on it at worst format the same second twice.
_second: tuple[int, str] = (-1, "")


def _add_timestamp(logger: Any, method_name: str, event: EventDict) -> EventDict:
    global _second
    now = time.time()
    whole = int(now)
    cached = _second
    if cached[0] != whole:
        cached = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
        _second = cached
    event.setdefault("timestamp", f"{cached[1]}.{int(now % 1 * 1000):03d}Z")
    return event


def drop_empty(logger: Any, method_name: str, event: EventDict) -> EventDict:
    """Leave out fields whose value is None (``reason=null`` says nothing on a success)."""
    empty = [key for key, value in event.items() if value is None]
    for key in empty:
        del event[key]
    return event


def _exception_field(logger: Any, method_name: str, event: EventDict) -> EventDict:
    """Turn exc_info into one ``exception`` string: the traceback stays inside the record."""
    exc_info = event.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event["exception"] = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    return event


class _StdlibBridge(logging.Handler):
    """Sends records of stdlib loggers (boto3, botocore, libraries) through the same pipeline."""

    def __init__(self, chain: list[Processor], sink: _Sink) -> None:
        super().__init__()
        self.chain = chain
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event: EventDict = {"event": record.getMessage(), "logger": record.name}
            if record.exc_info:
                event["exc_info"] = record.exc_info
            method = record.levelname.lower()
            for processor in self.chain:
                event = processor(None, method, event)
            self.sink(None, method, event)
        except Exception:
            self.handleError(record)


_state: dict[str, Any] = {}


def configure_logging(
    level: str = "info",
    format: str = "auto",
    stream: TextIO | None = None,
    *,
    identifier: str | None = None,
    journal_socket: str | None = None,
) -> str:
    """Set up structlog and stdlib logging for this process; returns the format chosen.

    ``identifier`` is the journal's SYSLOG_IDENTIFIER (default: the program's name).
    ``journal_socket`` defaults to $FLOTOD_JOURNAL_SOCKET, else journald's own socket: the
    variable lets tests (or a container with a relocated journal) receive the entries.
    """
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    out = stream if stream is not None else sys.stderr
    chosen = resolve_format(format, out)
    name = identifier or os.path.basename(sys.argv[0] or "flotod") or "flotod"
    previous = _state.pop("sink", None)
    if previous is not None:
        previous.close()
    socket_path = journal_socket or os.environ.get(JOURNAL_SOCKET_ENV) or DEFAULT_SOCKET
    sink = _Sink(chosen, out, name, socket_path)
    _state["sink"] = sink
    tail: list[Processor] = [merge_contextvars, drop_empty]
    structlog.configure(
        processors=[*tail, sink],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StdlibBridge)]:
        root.removeHandler(handler)
    root.addHandler(_StdlibBridge(tail, sink))
    root.setLevel(LEVELS[level])
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, LEVELS[level]))
    return chosen
