"""Output that fits a terminal and survives a pipe: aligned tables, short values, JSON.

Tables go to stdout with no colour and no box drawing, so ``grep`` and ``awk`` work on them;
``--json`` prints exactly one JSON document per command for scripts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

# What a terminal acts on instead of showing: C0 and C1 controls, DEL, and the Unicode marks
# that reorder or break lines (bidi overrides and isolates, line and paragraph separators).
# Workflow data comes from whoever can start, signal or fail a workflow; printed raw, it can
# clear the screen, retitle the window or make one value look like another.
_MARKS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_RE = re.compile(f"[\x00-\x1f\x7f-\x9f{_MARKS}]")
_UNSAFE_KEEP_LINES_RE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_MARKS}]")  # not \t \n
# JSON escapes C0 controls itself; with ensure_ascii=False the rest would pass raw.
_UNSAFE_IN_JSON_RE = re.compile(f"[\x7f-\x9f{_MARKS}]")
_SPACES_RE = re.compile("[ \t\r\n]+")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep_lines: bool = False) -> str:
    """``text`` with every terminal control written as a visible escape (``\\x1b``,
    ``\\u202e``); ``keep_lines`` leaves newlines and tabs for multi-line output."""
    pattern = _UNSAFE_KEEP_LINES_RE if keep_lines else _UNSAFE_RE
    return pattern.sub(_escape, text)


def json_text(value: Any, indent: int | None = None) -> str:
    """JSON that stays valid and equal to ``value`` but shows no terminal control raw."""
    text = json.dumps(
        value, indent=indent, sort_keys=True, default=json_default, ensure_ascii=False
    )
    return _UNSAFE_IN_JSON_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten(value: Any, width: int = 60, hint: str | None = None) -> str:
    """One escaped line of at most ``width`` characters (plus the marker): strings as they
    are, the rest as JSON. A cut ends in "..."; with ``hint`` the marker also says how much is
    missing and how to see it."""
    text = value if isinstance(value, str) else json_text(value)
    text = printable(_SPACES_RE.sub(" ", text).strip())
    if len(text) <= width:
        return text
    if hint is None:
        return text[: max(width - 3, 1)] + "..."
    return f"{text[:width]}... [{len(text) - width} more characters; {hint}]"


def clock(value: datetime | None) -> str:
    """A timestamp in local time to the second, or "-"."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    """Compact and readable: 0.25s, 12.3s, 4m05s, 2h07m."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def emit(text: str, out: TextIO | None = None) -> None:
    """Print a line; a reader that went away (``| head``) ends output quietly, not with a
    traceback."""
    stream = out or sys.stdout
    try:
        print(text, file=stream)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO | None = None) -> None:
    """Left-aligned columns; the last column takes what is left of the terminal's width."""
    stream = out or sys.stdout
    rows = [[printable(cell) for cell in row[:-1]] + list(row[-1:]) for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    total = shutil.get_terminal_size((120, 24)).columns
    used = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(10, min(widths[-1], total - used))
    for row in (headers, *rows):
        cells = [*row[:-1], shorten(row[-1], widths[-1])]
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells))
        emit(line.rstrip(), stream)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(value: Any, out: TextIO | None = None) -> None:
    emit(json_text(value, indent=2), out)


class Progress:
    """A single rewritten status line on a terminal; silent when stderr is not one."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.active = self.stream.isatty()
        self._shown = False

    def update(self, text: str) -> None:
        if self.active:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False
