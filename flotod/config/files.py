"""Reading ``--config PATH``: one TOML file, or every ``*.toml`` in a directory, merged.

Merging is table by table and key by key. Every value remembers the file it came from, so a
problem found later names the right file, and a key set in two files is reported with both.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flotod.config.settings import KINDS, SHARED_SECTIONS, toml_repr


@dataclass(frozen=True)
class Entry:
    value: Any
    file: Path


@dataclass
class RawConfig:
    """The merged, not yet validated content of the config files, with any problems so far."""

    path: Path
    files: list[Path] = field(default_factory=list)
    shared: dict[str, dict[str, Entry]] = field(default_factory=dict)
    # kind -> instance -> key -> entry
    instances: dict[str, dict[str, dict[str, Entry]]] = field(default_factory=dict)
    # (kind, instance) -> first file defining that table
    table_files: dict[tuple[str, str], Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # A file failed to parse: what seems missing may be in it, so don't report absences.
    unreadable: bool = False


def one_line(text: str) -> str:
    """A problem line with its control characters escaped (``\\n`` for a newline), so a key
    or value written in the file can never split it into lines that look like others."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    """A ' (did you mean "x"?)' suffix when a close candidate exists, else ""."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def config_files(path: Path) -> tuple[list[Path], list[str]]:
    """The files ``--config`` names, in merge order, and a problem if there are none."""
    try:
        if path.is_dir():
            files = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not files:
                return [], [f"{path}: no *.toml files in this directory"]
            return files, []
        if path.is_file():
            return [path], []
    except OSError as exc:  # e.g. a parent directory this user may not enter
        return [], [f"{path}: cannot read: {exc.strerror or exc}"]
    return [], [f"{path}: no such file or directory"]


def read_config(path: Path) -> RawConfig:
    """Parse and merge; collects every problem instead of stopping at the first."""
    raw = RawConfig(path=path)
    files, raw.problems = config_files(path)
    raw.files = files
    for file in files:
        document = _parse(file, raw.problems)
        if document is None:
            raw.unreadable = True
            continue
        _merge(raw, file, document)
    return raw


def _parse(file: Path, problems: list[str]) -> dict[str, Any] | None:
    """One file's TOML, or None with its problem: whatever the bytes, never an exception."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        problems.append(f"{file}: cannot read: {exc.strerror or exc}")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            f"{file}: not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            "(TOML files are UTF-8)"
        )
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{file}: TOML syntax error: {exc}")
    except RecursionError:
        problems.append(f"{file}: TOML syntax error: nested too deeply")
    return None


def _merge(raw: RawConfig, file: Path, document: dict[str, Any]) -> None:
    known = (*SHARED_SECTIONS, *KINDS)
    for name, table in document.items():
        if name not in known:
            raw.problems.append(f"{file}: [{name}]: unknown table{did_you_mean(name, known)}")
            continue
        if not isinstance(table, dict):
            shape = f"[{name}]" if name in SHARED_SECTIONS else f"[{name}.NAME] tables"
            raw.problems.append(f"{file}: {name}: expected {shape}, got {toml_repr(table)}")
            continue
        if name in SHARED_SECTIONS:
            _merge_keys(raw, file, name, table, raw.shared.setdefault(name, {}))
            continue
        per_kind = raw.instances.setdefault(name, {})
        for instance, body in table.items():
            where = f"{name}.{instance}"
            if not isinstance(body, dict):
                raw.problems.append(
                    f"{file}: {where}: expected a table [{name}.NAME] per instance, "
                    f"got {toml_repr(body)}"
                )
                continue
            raw.table_files.setdefault((name, instance), file)
            _merge_keys(raw, file, where, body, per_kind.setdefault(instance, {}))


def _merge_keys(
    raw: RawConfig, file: Path, where: str, table: dict[str, Any], into: dict[str, Entry]
) -> None:
    for key, value in table.items():
        previous = into.get(key)
        if previous is not None:
            raw.problems.append(f"{file}: {where}.{key}: already set in {previous.file}")
            continue
        into[key] = Entry(value, file)
