"""Output that fits a terminal and survives a pipe: aligned tables, short values, JSON.

Tables go to stdout with no colour and no box drawing, so ``grep`` and ``awk`` work on them;
``--json`` prints exactly one JSON document per command for scripts.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO


def shorten(value: Any, width: int = 60) -> str:
    """One line of at most ``width`` characters: strings as they are, the rest as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 3, 1)] + "..."


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
    emit(json.dumps(value, indent=2, sort_keys=True, default=json_default, ensure_ascii=False), out)


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
