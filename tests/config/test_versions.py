"""``specs``: one decider table serving several versions of its workflow type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flotod.config import load_config, print_config
from flotod.config.reload import reload_config
from flotod.errors import ConfigError
from flotod.services.registration import types_for
from flotod.specs import ActivityTask, DeciderSpec
from tests.config.conftest import HELLO_SPEC, Write

TABLE = '[decider.x]\ntask_list = "hello_decider"\nworkflow_type_name = "order"\n'


def spec_with(activity: str) -> str:
    spec = dict(HELLO_SPEC)
    spec["activity_tasks"] = [
        {"type": "flotod.specs.ActivityTask", "name": activity, "version": "v1"}
    ]
    return json.dumps(spec)


def names(spec: DeciderSpec) -> list[str]:
    return [t.name for t in spec.activity_tasks if isinstance(t, ActivityTask)]


@pytest.fixture
def two_versions(write: Write) -> Path:
    write("specs/order-v1.json", spec_with("first"))
    write("specs/order-v2.json", spec_with("second"))
    return write(
        "flotod.toml",
        TABLE + 'specs = { v1 = "specs/order-v1.json", v2 = "specs/order-v2.json" }\n',
    )


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, "decider")
    return info.value.problems


def test_each_version_loads_its_own_spec_and_is_registered(two_versions: Path) -> None:
    decider = load_config(two_versions, "decider").decider
    assert decider.spec is None
    assert list(decider.versions) == ["v1", "v2"]
    assert names(decider.versions["v2"]) == ["second"]
    types = types_for(load_config(two_versions, "decider"))
    assert [(t.name, t.version, t.task_list) for t in types] == [
        ("order", "v1", "hello_decider"),
        ("order", "v2", "hello_decider"),
    ]


def test_print_config_shows_the_table_and_loads_back(two_versions: Path, write: Write) -> None:
    printed = print_config(load_config(two_versions, "decider"))
    assert 'specs = { v1 = "specs/order-v1.json", v2 = "specs/order-v2.json" }' in printed
    assert "specs = {}" not in print_config(
        load_config(write("one.toml", TABLE + "dynamic = true\n"), "decider")
    )
    again = write("printed.toml", printed)
    assert load_config(again, "decider").decider.versions.keys() == {"v1", "v2"}


def test_the_versions_need_a_type_name_and_no_other_version(write: Write) -> None:
    write("specs/order-v1.json", spec_with("first"))
    path = write(
        "a.toml",
        '[decider.x]\ntask_list = "hello_decider"\nworkflow_type_version = "v9"\n'
        'specs = { v1 = "specs/order-v1.json" }\n',
    )
    assert problems_of(path) == [
        f"{path}: decider.x.specs: needs workflow_type_name (the table's keys are its versions)",
        f"{path}: decider.x.workflow_type_version: not with specs (the keys of specs are the "
        "versions)",
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("{}", "a table"),
        ('"specs/order-v1.json"', '"specs/order-v1.json"'),
        ("{ v1 = 3 }", "a table"),
    ],
)
def test_specs_must_be_a_table_of_paths(write: Write, value: str, got: str) -> None:
    path = write("a.toml", TABLE + f"specs = {value}\n")
    assert problems_of(path) == [
        f"{path}: decider.x.specs: expected a table of at least one of workflow type versions "
        f"(1 to 64 characters) to paths without control characters, got {got}"
    ]


def test_a_version_whose_file_is_bad_is_named(write: Write) -> None:
    write("specs/order-v1.json", spec_with("first"))
    write("specs/order-v2.json", "{")
    path = write(
        "a.toml", TABLE + 'specs = { v1 = "specs/order-v1.json", v2 = "specs/order-v2.json" }\n'
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: decider.x.specs.v2: ")
    assert "order-v2.json is not a valid decider spec" in problem


def test_specs_and_spec_file_together_are_refused(write: Write, hello_spec: Path) -> None:
    path = write(
        "a.toml", TABLE + f'spec_file = "{hello_spec}"\nspecs = {{ v1 = "{hello_spec}" }}\n'
    )
    assert problems_of(path) == [
        f"{path}: decider.x: expected exactly one of spec_file, spec_object, dynamic = true, "
        "specs, got spec_file and specs"
    ]


def test_a_reload_sees_which_versions_changed(two_versions: Path, write: Write) -> None:
    current = load_config(two_versions, "decider")
    write("specs/order-v2.json", spec_with("changed"))
    reload = reload_config(current)
    [change] = reload.applied
    assert (change.key, change.old, change.new) == (
        "decider.x.specs",
        "<previous specs>",
        "<new specs of v2>",
    )
    taken = reload.effective(current).decider.versions
    assert names(taken["v2"]) == ["changed"]
    assert taken["v1"] == current.decider.versions["v1"]


def test_every_version_is_a_child_type_the_config_serves(two_versions: Path, write: Write) -> None:
    """A dynamic decider's default allowlist names the config's workflow types: each version."""
    write("dyn.toml", '[decider.dyn]\ntask_list = "dyn"\ndynamic = true\n')
    allow = load_config(two_versions.parent, "decider", "dyn").decider.allow
    assert {"order:v1", "order:v2"} <= allow.child_workflow_types
