"""Each setting is declared once: the config dataclasses take their fields from the declarations.

A default or a choice written twice drifts; these tests tie every dataclass field to exactly one
declaration (same name, same default, same type, choices as a ``Literal``) and back.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest

from flotod.config import (
    SETTINGS,
    DaemonConfig,
    DeciderConfig,
    LoggingConfig,
    PayloadsConfig,
    SwfConfig,
    WorkerConfig,
)
from flotod.config.settings import (
    Boolean,
    Integer,
    Listen,
    PathTable,
    Setting,
    Text,
    TextList,
    settings_of,
)

DATACLASS_OF: dict[str, type[Any]] = {
    "swf": SwfConfig,
    "logging": LoggingConfig,
    "payloads": PayloadsConfig,
    "decider": DeciderConfig,
    "worker": WorkerConfig,
    "daemon": DaemonConfig,
}
# Fields that hold what the loader made of the settings, not a setting of their own.
DERIVED = {"decider": {"spec", "versions", "allow"}, "daemon": {"allow"}}


def setting_fields(section: str) -> dict[str, dataclasses.Field[Any]]:
    cls = DATACLASS_OF[section]
    skip = DERIVED.get(section, set())
    return {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}


def expected_annotation(setting: Setting) -> Any:
    kind = setting.type
    if isinstance(kind, Text):
        return Literal[kind.choices] if kind.choices else str
    if isinstance(kind, Integer):
        return int
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Listen):
        return str
    if isinstance(kind, PathTable):
        return tuple[tuple[str, str], ...]
    assert isinstance(kind, TextList)
    return tuple[str, ...]


def test_every_section_has_a_dataclass() -> None:
    assert {s.section for s in SETTINGS} == set(DATACLASS_OF)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"{s.section}.{s.name}")
def test_every_declaration_is_exactly_one_field_with_its_default_and_type(
    setting: Setting,
) -> None:
    fields = setting_fields(setting.section)
    assert setting.name in fields, f"{setting.section}.{setting.name} has no field"
    field = fields[setting.name]
    if setting.required:
        assert field.default is dataclasses.MISSING
        assert field.default_factory is dataclasses.MISSING
    else:
        assert field.default == setting.default
        assert type(field.default) is type(setting.default)
    hints = get_type_hints(DATACLASS_OF[setting.section])
    assert hints[setting.name] == expected_annotation(setting)
    assert field.repr is not setting.secret
    assert field.metadata.get("setting") is setting


@pytest.mark.parametrize("section", sorted(DATACLASS_OF))
def test_every_field_is_declared(section: str) -> None:
    assert list(setting_fields(section)) == [
        name for name in settings_of(section) if name in setting_fields(section)
    ]
    assert set(setting_fields(section)) == set(settings_of(section))


def test_choice_settings_are_literals_a_type_checker_sees() -> None:
    hints = get_type_hints(WorkerConfig)
    assert get_origin(hints["executor"]) is Literal
    assert get_args(hints["executor"]) == ("thread", "process")
    assert get_args(get_type_hints(LoggingConfig)["level"]) == ("debug", "info", "warning", "error")
