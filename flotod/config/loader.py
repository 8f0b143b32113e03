"""``load_config``: from ``--config PATH`` to a frozen :class:`ServiceConfig`, or a ConfigError.

Every problem is collected (one line each, naming the file, the key and what was expected)
so an operator fixes a config in one round instead of one error per restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flotod.config.allowed import build_allowlist
from flotod.config.checks import check_credentials, import_worker_modules, load_decider_logic
from flotod.config.codepath import apply_code_paths
from flotod.config.files import Entry, RawConfig, did_you_mean, one_line, read_config
from flotod.config.model import (
    DaemonConfig,
    DeciderConfig,
    LoggingConfig,
    PayloadsConfig,
    ProcessConfig,
    ServiceConfig,
    SwfConfig,
    WorkerConfig,
)
from flotod.config.settings import KINDS, Invalid, Kind, masked_repr, settings_of, toml_repr
from flotod.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/flotod")


def convert_table(
    where: str, entries: dict[str, Entry], table_file: Path | None, problems: list[str]
) -> dict[str, Any]:
    """Check one table against its declarations; defaults fill what the file leaves out.

    ``where`` is the dotted table name (``swf`` or ``worker.video``); its first part picks
    the declarations.
    """
    declared = settings_of(where.split(".", 1)[0])
    values: dict[str, Any] = {}
    for key, entry in entries.items():
        setting = declared.get(key)
        if setting is None:
            hint = did_you_mean(key, tuple(declared))
            problems.append(f"{entry.file}: {where}.{key}: unknown setting{hint}")
            continue
        try:
            values[key] = setting.convert(entry.value)
        except Invalid as exc:
            got = masked_repr(entry.value) if setting.secret else toml_repr(entry.value)
            problems.append(f"{entry.file}: {where}.{key}: expected {exc}, got {got}")
    for key, setting in declared.items():
        if key in entries:
            continue
        if setting.required:
            location = table_file if table_file is not None else "config"
            problems.append(
                f"{location}: {where}.{key}: missing, expected {setting.type.describe()}"
            )
        else:
            values[key] = setting.default
    return values


def select_instance(
    raw: RawConfig, kind: Kind, instance: str | None, problems: list[str]
) -> str | None:
    """Pick ``[kind.instance]``; without --instance, the only one there is."""
    names = sorted(raw.instances.get(kind, {}))
    where = raw.path
    if raw.unreadable and (instance not in names if instance else len(names) != 1):
        return None
    if instance is not None:
        if instance in names:
            return instance
        listed = ", ".join(names) if names else "none"
        hint = did_you_mean(instance, names)
        problems.append(
            f"{where}: {kind}.{instance}: no such instance{hint}; {kind} instances: {listed}"
        )
        return None
    if len(names) == 1:
        return names[0]
    if not names:
        problems.append(f"{where}: {kind}: no [{kind}.NAME] table")
    else:
        problems.append(
            f"{where}: {kind}: several instances ({', '.join(names)}): choose one with --instance"
        )
    return None


def _build_process(
    kind: Kind,
    where: str,
    values: dict[str, Any],
    raw: RawConfig,
    table_file: Path,
    swf_values: dict[str, Any],
    problems: list[str],
) -> ProcessConfig | None:
    """Run the kind's own checks; build the dataclass only when nothing at all is wrong.

    A decider's or worker's python_path and virtualenv are applied first: its spec_object and
    modules are imported from there. A decider's or daemon's allowlists get the defaults only
    the whole config knows.
    """
    entries = raw.instances[kind][where.split(".", 1)[1]]
    if kind in ("decider", "worker"):
        apply_code_paths(where, values, entries, problems)
    if kind == "decider":
        logic = load_decider_logic(where, values, entries, table_file, swf_values, problems)
        if problems:
            return None
        return DeciderConfig(
            **values,
            spec=logic.spec,
            versions=logic.versions,
            allow=build_allowlist(kind, values, raw),
        )
    if kind == "worker":
        import_worker_modules(where, values, entries, problems)
        return WorkerConfig(**values) if not problems else None
    if problems:
        return None
    return DaemonConfig(**values, allow=build_allowlist(kind, values, raw))


def load_config(path: str | Path, kind: str, instance: str | None = None) -> ServiceConfig:
    """Read, merge and validate; raises ConfigError listing every problem found.

    Only the shared tables and the selected ``[kind.instance]`` table are validated, so a
    mistake in another service's table never stops this one. Worker modules are imported and
    decider specs loaded here: a service that starts has working code to run.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    config_path = Path(path)
    raw = read_config(config_path)
    problems = raw.problems
    if not raw.files:
        raise ConfigError([one_line(p) for p in problems])
    swf_values = convert_table("swf", raw.shared.get("swf", {}), None, problems)
    log_values = convert_table("logging", raw.shared.get("logging", {}), None, problems)
    payload_values = convert_table("payloads", raw.shared.get("payloads", {}), None, problems)
    check_credentials(swf_values, raw.shared.get("swf", {}), problems)
    chosen = select_instance(raw, kind, instance, problems)
    process: ProcessConfig | None = None
    if chosen is not None:
        where = f"{kind}.{chosen}"
        entries = raw.instances[kind][chosen]
        table_file = raw.table_files[(kind, chosen)]
        values = convert_table(where, entries, table_file, problems)
        process = _build_process(kind, where, values, raw, table_file, swf_values, problems)
    if problems or process is None or chosen is None:
        raise ConfigError([one_line(p) for p in problems])
    return ServiceConfig(
        kind=kind,
        instance=chosen,
        swf=SwfConfig(**swf_values),
        logging=LoggingConfig(**log_values),
        process=process,
        path=config_path,
        files=tuple(raw.files),
        payloads=PayloadsConfig(**payload_values),
    )


def check_shared(path: str | Path) -> list[str]:
    """The problems of the files and of their shared tables alone ([swf], [logging],
    [payloads]): what a
    host with no instance table yet (a fresh install) can get wrong."""
    raw = read_config(Path(path))
    problems = raw.problems
    swf_values = convert_table("swf", raw.shared.get("swf", {}), None, problems)
    convert_table("logging", raw.shared.get("logging", {}), None, problems)
    convert_table("payloads", raw.shared.get("payloads", {}), None, problems)
    check_credentials(swf_values, raw.shared.get("swf", {}), problems)
    return [one_line(p) for p in problems]


def list_instances(path: str | Path) -> dict[str, list[str]]:
    """The instance names of every kind, e.g. for a "check every service on this host" command
    that then calls :func:`load_config` for each. Raises ConfigError if the files don't parse."""
    raw = read_config(Path(path))
    if raw.unreadable or not raw.files:
        raise ConfigError([one_line(p) for p in raw.problems])
    return {kind: sorted(raw.instances.get(kind, {})) for kind in KINDS}
