"""Showing settings to people: ``--print-config`` as TOML, and the README's Markdown reference."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from flotod.config.model import ServiceConfig
from flotod.config.settings import (
    KINDS,
    MASK,
    REQUIRED,
    SHARED_SECTIONS,
    PathTable,
    Setting,
    settings_of,
    toml_repr,
)


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return toml_repr(value)


def _key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _inline_table(pairs: tuple[tuple[str, str], ...]) -> str:
    return "{ " + ", ".join(f"{_key(k)} = {toml_repr(v)}" for k, v in pairs) + " }"


def _table(section: str, values: dict[str, Any]) -> list[str]:
    lines = []
    for name, setting in settings_of(section).items():
        if name not in values:
            continue
        value = values[name]
        if setting.secret and value:
            value = MASK
        if isinstance(setting.type, PathTable):
            if value:  # an empty table is the default, and TOML would read {} as a mistake
                lines.append(f"{name} = {_inline_table(value)}")
            continue
        lines.append(f"{name} = {_value(value)}")
    return lines


def print_config(config: ServiceConfig) -> str:
    """The effective settings, defaults included, as TOML that loads back; secrets masked.

    Reading it back gives the same process settings (the masked secrets aside), which is what
    makes it useful for "what is this instance really running with".
    """
    files = ", ".join(str(f) for f in config.files)
    out = [f"# effective configuration of flotod {config.table}, read from {files}"]
    for section, values in (
        ("swf", asdict(config.swf)),
        ("logging", asdict(config.logging)),
        ("payloads", asdict(config.payloads)),
    ):
        out += ["", f"[{section}]", *_table(section, values)]
    process = {k: v for k, v in vars(config.process).items() if k != "spec"}
    if process.get("specs"):
        del process["workflow_type_version"]  # the keys of specs are the versions
    out += ["", f"[{config.kind}.{_key(config.instance)}]"]
    out += _table(config.kind, process)
    return "\n".join(out) + "\n"


def _default(setting: Setting) -> str:
    value = setting.default
    if isinstance(setting.type, PathTable):
        return "none"
    if value is REQUIRED:
        return "required"
    return f"`{_value(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    """Every setting, table by table, for the README; generated so it never goes stale."""
    titles = {
        "swf": "`[swf]`: the SWF endpoint, shared by every process on the host",
        "logging": "`[logging]`: shared by every process on the host",
        "payloads": "`[payloads]`: values past SWF's 32,768 characters, kept in S3",
        "decider": "`[decider.NAME]`: one table per decider instance (`flotod-decider@NAME`)",
        "worker": "`[worker.NAME]`: one table per worker instance (`flotod-worker@NAME`)",
        "daemon": "`[daemon.NAME]`: the child-workflow daemon (`flotod-daemon`)",
    }
    out = [
        "## Configuration reference",
        "",
        "Reload: *yes* means the setting takes effect on `systemctl reload` (SIGHUP); the others",
        "are logged and wait for a restart. Secret settings are masked by `--print-config`.",
    ]
    for section in (*SHARED_SECTIONS, *KINDS):
        out += ["", f"### {titles[section]}", ""]
        out += [
            "| Key | Type | Default | Reload | Description |",
            "| :-- | :-- | :-- | :-- | :-- |",
        ]
        for name, setting in settings_of(section).items():
            help_text = setting.help + (" Secret." if setting.secret else "")
            out.append(
                f"| `{name}` | {_cell(setting.type.describe())} | {_default(setting)} "
                f"| {'yes' if setting.reloadable else 'no'} | {_cell(help_text)} |"
            )
    return "\n".join(out) + "\n"
