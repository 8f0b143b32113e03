"""SIGHUP support: re-read the config and sort the changes into "applied now" and "restart".

The declarations say which settings a running process can take on; the service applies the
new :class:`ServiceConfig` for those and logs the others, which keep their old values until
the next restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flotod.config.loader import load_config
from flotod.config.model import DaemonConfig, DeciderConfig, ServiceConfig
from flotod.config.settings import MASK, settings_of
from flotod.specs import DeciderSpec


@dataclass(frozen=True)
class Change:
    """One changed setting. A secret's ``old`` and ``new`` are the mask, never the values, so
    whatever logs a change cannot leak it (the configs hold the real values)."""

    key: str  # dotted, e.g. "worker.video.heartbeat_seconds"
    old: Any
    new: Any
    needs_restart: bool
    secret: bool = False


@dataclass(frozen=True)
class Reload:
    """The re-read config and what changed. ``config`` holds every new value; use
    :meth:`effective` for the one to run with (restart-only settings kept as they were)."""

    config: ServiceConfig
    changes: tuple[Change, ...]

    def effective(self, current: ServiceConfig) -> ServiceConfig:
        """``current`` with the applied changes taken over: what the process now runs with."""
        taken: dict[str, dict[str, Any]] = {}
        for change in self.applied:
            table, name = change.key.rsplit(".", 1)
            taken.setdefault(table, {})[name] = getattr(self._table(table), name)
        if "spec_file" in taken.get(current.table, {}):
            taken[current.table]["spec"] = self.config.decider.spec
        if "specs" in taken.get(current.table, {}):
            taken[current.table]["versions"] = self.config.decider.versions
        process = self.config.process
        if isinstance(process, DeciderConfig | DaemonConfig):
            # The allowlists with their defaults, which other tables of the config also shape
            # (flotod.config.allowed): always the reloaded config's.
            taken.setdefault(current.table, {})["allow"] = process.allow
        return replace(
            current,
            swf=replace(current.swf, **taken.get("swf", {})),
            logging=replace(current.logging, **taken.get("logging", {})),
            payloads=replace(current.payloads, **taken.get("payloads", {})),
            process=replace(current.process, **taken.get(current.table, {})),
        )

    def _table(self, table: str) -> Any:
        shared = {
            "swf": self.config.swf,
            "logging": self.config.logging,
            "payloads": self.config.payloads,
        }
        return shared.get(table, self.config.process)

    @property
    def applied(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.needs_restart)

    @property
    def needs_restart(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.needs_restart)


def _tables(config: ServiceConfig) -> list[tuple[str, str, Any]]:
    return [
        ("swf", "swf", config.swf),
        ("logging", "logging", config.logging),
        ("payloads", "payloads", config.payloads),
        (config.kind, config.table, config.process),
    ]


def _source_changed(old: ServiceConfig, new: ServiceConfig) -> bool:
    """A decider switching between spec_file, spec_object, dynamic and specs needs a
    restart."""
    if old.kind != "decider":
        return False
    keys = ("spec_file", "spec_object", "dynamic", "specs")
    return [bool(getattr(old.process, k)) for k in keys] != [
        bool(getattr(new.process, k)) for k in keys
    ]


def changed_versions(old: Mapping[str, DeciderSpec], new: Mapping[str, DeciderSpec]) -> list[str]:
    """The versions whose spec is new, different or gone, in the new table's order first."""
    changed = [v for v, spec in new.items() if old.get(v) != spec]
    return changed + [v for v in old if v not in new]


def _masked(value: Any) -> Any:
    return MASK if value else value


def diff_configs(old: ServiceConfig, new: ServiceConfig) -> tuple[Change, ...]:
    """Changed settings between two configs of the same process, in declaration order.

    A decider's spec whose file changed content (same path) counts as a change of
    ``spec_file`` (or of ``specs``), so editing the JSON and reloading is seen.
    """
    changes = []
    for (section, where, old_table), (_, _, new_table) in zip(
        _tables(old), _tables(new), strict=True
    ):
        for name, setting in settings_of(section).items():
            before, after = getattr(old_table, name), getattr(new_table, name)
            if name == "spec_file" and before == after and before:
                before, after = old_table.spec, new_table.spec
                if before == after:
                    continue
                before, after = "<previous spec>", "<new spec>"
            if name == "specs" and before == after and before:
                changed = changed_versions(old_table.versions, new_table.versions)
                if not changed:
                    continue
                before, after = "<previous specs>", f"<new specs of {', '.join(changed)}>"
            if before != after:
                restart = not setting.reloadable or _source_changed(old, new)
                if setting.secret:
                    before, after = _masked(before), _masked(after)
                changes.append(Change(f"{where}.{name}", before, after, restart, setting.secret))
    return tuple(changes)


def reload_config(current: ServiceConfig) -> Reload:
    """Re-read from the same path for the same process; raises ConfigError if now invalid
    (the service then keeps running with ``current`` and logs the problems)."""
    new = load_config(current.path, current.kind, current.instance)
    return Reload(new, diff_configs(current, new))
