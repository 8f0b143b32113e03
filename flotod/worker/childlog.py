"""An activity process's log records and output, relayed to the worker that runs it.

An activity process has no logging of its own worth the name: its stdlib records, structlog
records and printed lines would reach the journal bare, without the task's ids and at the
wrong priority. Here they travel up the activity's pipe instead, and the worker's lane logs
them in the task's context, as if the activity had run on a thread.
"""

from __future__ import annotations

import io
import logging
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Any

import structlog
from structlog.contextvars import merge_contextvars

Send = Callable[[tuple[str, Any]], None]

_LEVEL_NAMES = {"warn": "warning", "exception": "error", "msg": "info", "fatal": "critical"}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}  # fmt: skip
_PLAIN = (str, int, float, bool, type(None))


def _picklable(event: dict[str, Any]) -> dict[str, Any]:
    """The record as it can cross the pipe: values that do not pickle become their repr."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        kept = value
        if not isinstance(value, _PLAIN):
            try:
                pickle.dumps(value)
            except Exception:
                kept = repr(value)
        out[str(key)] = kept
    return out


def _exception_text(exc_info: Any) -> str | None:
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        return "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    return None


class _Forward:
    """The last processor of structlog's chain in the activity process."""

    def __init__(self, send: Send) -> None:
        self.send = send

    def __call__(self, logger: Any, method_name: str, event_dict: Any) -> str:
        event = dict(event_dict)
        event.setdefault("level", _LEVEL_NAMES.get(method_name, method_name))
        if "exc_info" in event:
            text = _exception_text(event.pop("exc_info"))
            if text:
                event["exception"] = text
        self.send(("log", _picklable(event)))
        return ""


class _Relay(logging.Handler):
    """The activity process's root handler: stdlib records go up the pipe."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event: dict[str, Any] = {
                "event": record.getMessage(),
                "logger": record.name,
                "level": record.levelname.lower(),
            }
            if record.exc_info:
                text = _exception_text(record.exc_info)
                if text:
                    event["exception"] = text
            self.send(("log", _picklable(dict(merge_contextvars(None, "", event)))))
        except Exception:
            self.handleError(record)


class _Lines(io.TextIOBase):
    """A stdout or stderr whose every line becomes a record at ``level``."""

    def __init__(self, send: Send, name: str, level: str) -> None:
        self.send = send
        self.name = name
        self.level = level
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line)
        return len(text)

    def finish(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = ""

    def _line(self, line: str) -> None:
        event = {"event": line, "logger": self.name, "level": self.level}
        self.send(("log", dict(merge_contextvars(None, "", event))))


def install(send: Send, level: int) -> None:
    """In the activity process: route structlog, stdlib logging, stdout and stderr to ``send``.

    ``level`` is the worker's: records below it are not worth a trip through the pipe.
    """
    structlog.configure(
        processors=[merge_contextvars, _Forward(send)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.handlers[:] = [_Relay(send)]
    root.setLevel(level)
    sys.stdout = _Lines(send, "stdout", "info")
    sys.stderr = _Lines(send, "stderr", "warning")


def finish() -> None:
    """Send what was printed without a final newline; call before the process reports."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Lines):
            stream.finish()


def relay(event: dict[str, Any]) -> None:
    """In the worker: log a record from an activity process in the calling task's context."""
    level = _LEVELS.get(str(event.pop("level", "info")), logging.INFO)
    name = str(event.pop("event", ""))
    event.pop("timestamp", None)
    structlog.get_logger().log(level, name, **event)
