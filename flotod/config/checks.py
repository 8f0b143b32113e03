"""Checks that need more than one key, or that touch code and files: the kind-specific rules.

Each check reads the already converted values (a key that failed conversion is simply absent)
and appends problem lines; none raises, so every problem reaches the operator at once.
"""

from __future__ import annotations

import copy
import importlib
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flotod.config.codepath import import_failure_hint, unreadable_package
from flotod.config.files import Entry
from flotod.config.model import ServiceConfig
from flotod.errors import FlotodError
from flotod.specs import DeciderSpec, load_decider_spec
from flotod.worker.registry import belongs, default_registry, unmet_heartbeat

_SOURCES = ("spec_file", "spec_object", "dynamic", "specs")

AWS_CREDENTIALS_FILE = Path("/etc/flotod/aws-credentials")
"""The file the units hand to boto3 with ``LoadCredential=aws:...``."""


def _file_of(key: str, entries: dict[str, Entry], table_file: Path) -> Path:
    entry = entries.get(key)
    return entry.file if entry is not None else table_file


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


def _import_error(module: str, exc: BaseException) -> str:
    first = _first_line(exc)
    line = f'module "{module}" does not import: {type(exc).__name__}: {first}'.rstrip(": ")
    return line + import_failure_hint(exc, module)


def check_credentials(
    values: dict[str, Any], entries: dict[str, Entry], problems: list[str]
) -> None:
    """Static keys come in pairs and exclude a profile: half a credential is always a mistake.

    A key written but refused by its own check counts as present: its line already says what
    is wrong with it, and "expected both together" would only mislead.
    """

    def given(key: str) -> bool:
        return bool(values.get(key)) or (key in entries and key not in values)

    key_id, secret = given("access_key_id"), given("secret_access_key")
    if key_id != secret:
        present = "access_key_id" if key_id else "secret_access_key"
        file = entries[present].file
        problems.append(
            f"{file}: swf.{present}: expected access_key_id and secret_access_key together"
        )
    if (key_id or secret) and values.get("profile"):
        file = entries["profile"].file
        problems.append(f"{file}: swf.profile: expected either a profile or static keys, not both")


@dataclass(frozen=True)
class DeciderLogic:
    """What a decider table decides with: one spec, or one per workflow type version
    (``specs``); neither for a dynamic decider."""

    spec: DeciderSpec | None = None
    versions: dict[str, DeciderSpec] = field(default_factory=dict)


def load_decider_logic(
    where: str,
    values: dict[str, Any],
    entries: dict[str, Entry],
    table_file: Path,
    swf_values: dict[str, Any],
    problems: list[str],
) -> DeciderLogic:
    """Exactly one of spec_file, spec_object, dynamic, specs; load the specs and check they fit.

    A source written but refused by its own check counts as chosen (its line says what is
    wrong) and is not loaded.
    """
    chosen = [k for k in _SOURCES if values.get(k) or (k in entries and k not in values)]
    if len(chosen) != 1:
        got = " and ".join(chosen) if chosen else "none"
        problems.append(
            f"{table_file}: {where}: expected exactly one of spec_file, spec_object, "
            f"dynamic = true, specs, got {got}"
        )
        return DeciderLogic()
    if values.get("default_activity_task_list") and chosen[0] != "dynamic":
        file = _file_of("default_activity_task_list", entries, table_file)
        problems.append(
            f"{file}: {where}.default_activity_task_list: only for dynamic = true "
            "(a spec names its own default activity task list)"
        )
    if chosen[0] == "specs":
        _check_versions_table(where, values, entries, table_file, problems)
    if chosen[0] == "dynamic" or chosen[0] not in values:
        return DeciderLogic()
    if chosen[0] == "specs":
        versions = {}
        for version, spec_file in values["specs"]:
            key = f"specs.{version}"
            loaded = _spec_from_file(where, key, spec_file, entries["specs"].file, problems)
            if loaded is not None:
                versions[version] = _fitted(
                    where, key, loaded, values, swf_values, entries["specs"].file, problems
                )
        return DeciderLogic(versions=versions)
    key = chosen[0]
    if key == "spec_file":
        spec = _spec_from_file(where, key, values[key], entries[key].file, problems)
    else:
        spec = _spec_from_object(where, values[key], entries[key].file, problems)
    if spec is None:
        return DeciderLogic()
    return DeciderLogic(_fitted(where, key, spec, values, swf_values, entries[key].file, problems))


def _check_versions_table(
    where: str,
    values: dict[str, Any],
    entries: dict[str, Entry],
    table_file: Path,
    problems: list[str],
) -> None:
    """``specs`` names the versions of one workflow type: workflow_type_name's."""
    file = _file_of("specs", entries, table_file)
    if not values.get("workflow_type_name") and "workflow_type_name" not in entries:
        problems.append(
            f"{file}: {where}.specs: needs workflow_type_name (the table's keys are its versions)"
        )
    if "workflow_type_version" in entries:
        problems.append(
            f"{entries['workflow_type_version'].file}: {where}.workflow_type_version: not with "
            "specs (the keys of specs are the versions)"
        )


def _fitted(
    where: str,
    key: str,
    spec: DeciderSpec,
    values: dict[str, Any],
    swf_values: dict[str, Any],
    file: Path,
    problems: list[str],
) -> DeciderSpec:
    _check_spec_fits(where, key, spec, values, swf_values, file, problems)
    if spec.domain is None and isinstance(swf_values.get("domain"), str):
        # A spec that names no domain runs in the config's; a copy, so a spec_object shared
        # by several tables (or a reload) is never changed in place.
        spec = copy.copy(spec)
        spec.domain = swf_values["domain"]
    return spec


def resolve_spec_path(spec_file: str, config_file: Path) -> Path:
    """A relative spec_file is relative to the config file that names it, not to the cwd."""
    path = Path(spec_file)
    return path if path.is_absolute() else config_file.parent / path


def _spec_from_file(
    where: str, key: str, spec_file: str, file: Path, problems: list[str]
) -> DeciderSpec | None:
    path = resolve_spec_path(spec_file, file)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        problems.append(f"{file}: {where}.{key}: no such file {path}")
        return None
    except OSError as exc:
        problems.append(f"{file}: {where}.{key}: cannot read {path}: {exc.strerror or exc}")
        return None
    prefix = f"{file}: {where}.{key}: {path} is not a valid decider spec"
    try:
        return load_decider_spec(text)
    except FlotodError as exc:
        problems.append(f"{prefix}: {exc}")
    except RecursionError:
        problems.append(f"{prefix}: JSON nested too deeply")
    except Exception as exc:  # whatever a file's content makes the codec raise is its fault
        problems.append(f"{prefix}: {type(exc).__name__}: {_first_line(exc)}")
    return None


def _spec_from_object(
    where: str, reference: str, file: Path, problems: list[str]
) -> DeciderSpec | None:
    module_name, _, attribute = reference.partition(":")
    prefix = f"{file}: {where}.spec_object"
    try:
        value: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        problems.append(f"{prefix}: {_import_error(module_name, exc)}")
        return None
    shell = unreadable_package(value)
    if shell is not None:
        problems.append(f'{prefix}: module "{module_name}" does not import: {shell}')
        return None
    for part in attribute.split("."):
        if not hasattr(value, part):
            problems.append(f'{prefix}: "{module_name}" has no attribute "{attribute}"')
            return None
        value = getattr(value, part)
    if not isinstance(value, DeciderSpec):
        problems.append(
            f"{prefix}: expected {reference} to be a DeciderSpec, got {type(value).__name__}"
        )
        return None
    return value


def _check_spec_fits(
    where: str,
    key: str,
    spec: DeciderSpec,
    values: dict[str, Any],
    swf_values: dict[str, Any],
    file: Path,
    problems: list[str],
) -> None:
    """The decider polls [swf].domain and its own task_list: a spec naming others is a mistake."""
    domain = swf_values.get("domain")
    if domain is not None and spec.domain is not None and spec.domain != domain:
        problems.append(
            f'{file}: {where}.{key}: the spec\'s domain "{spec.domain}" differs from '
            f'swf.domain "{domain}"'
        )
    task_list = values.get("task_list")
    if task_list is not None and spec.task_list is not None and spec.task_list != task_list:
        problems.append(
            f'{file}: {where}.{key}: the spec\'s task_list "{spec.task_list}" differs from '
            f'{where}.task_list "{task_list}"'
        )


def import_worker_modules(
    where: str, values: dict[str, Any], entries: dict[str, Entry], problems: list[str]
) -> None:
    """Importing is the check: it registers the module's activities, or fails loudly now.
    Then each activity's own heartbeat timeout must be one ``heartbeat_seconds`` can meet."""
    modules = values.get("modules")
    if not modules:
        return
    file = entries["modules"].file
    imported_ok = []
    for module in modules:
        try:
            imported = importlib.import_module(module)
        except (Exception, SystemExit) as exc:
            problems.append(f"{file}: {where}.modules: {_import_error(module, exc)}")
            continue
        shell = unreadable_package(imported)
        if shell is not None:
            problems.append(f'{file}: {where}.modules: module "{module}" does not import: {shell}')
        else:
            imported_ok.append(module)
    heartbeat_seconds = values.get("heartbeat_seconds")
    if isinstance(heartbeat_seconds, int):
        check_heartbeats(where, imported_ok, heartbeat_seconds, entries, problems)


def check_heartbeats(
    where: str,
    modules: list[str],
    heartbeat_seconds: int,
    entries: dict[str, Entry],
    problems: list[str],
) -> None:
    """One line per activity of ``modules`` whose heartbeat timeout the worker cannot meet."""
    entry = entries.get("heartbeat_seconds") or entries["modules"]
    for definition in default_registry:
        if not belongs(definition, modules):
            continue
        why = unmet_heartbeat(definition, heartbeat_seconds)
        if why is not None:
            problems.append(f"{entry.file}: {where}.heartbeat_seconds: {why}")


def secret_file_warnings(
    config: ServiceConfig, credentials_file: Path = AWS_CREDENTIALS_FILE
) -> list[str]:
    """One line per file holding a secret that every user on the host can read.

    The files checked: each config file that sets a non-empty ``swf.secret_access_key``, and
    ``credentials_file`` (the AWS credentials the units load) if it exists. These are warnings,
    not problems: the service still starts, since refusing would stop it over a mode an
    operator fixes with one chmod. Call it once at service start and log each line.
    """
    holders: list[tuple[Path, str]] = []
    for file in config.files:
        try:
            with file.open("rb") as handle:
                swf = tomllib.load(handle).get("swf")
        except (OSError, ValueError):
            continue  # the loader read it a moment ago; a file changing now is not our concern
        if isinstance(swf, dict) and swf.get("secret_access_key"):
            holders.append((file, "swf.secret_access_key"))
    if credentials_file.is_file():
        holders.append((credentials_file, "AWS credentials"))
    warnings = []
    for file, what in holders:
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except OSError:
            continue
        if mode & stat.S_IROTH:
            warnings.append(
                f"{file}: holds {what} and is readable by every user (mode {mode:04o}): "
                f"chmod o-r {file} (the package ships its config files 0640 root:flotod)"
            )
    return warnings
