"""SIGHUP reloads: which changes apply at once and which wait for a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flotod.config import load_config, reload_config
from flotod.errors import ConfigError

from .conftest import HELLO_SPEC, Write


def test_reload_sorts_changes_by_declaration(
    write: Write, confdir: Path, modules_dir: Path
) -> None:
    (modules_dir / "cfgtest_r.py").write_text("")
    write("flotod.toml", '[logging]\nlevel = "info"\n')
    body = '[worker.a]\ntask_list = "t"\nmodules = ["cfgtest_r"]\n'
    write("worker.toml", body)
    current = load_config(confdir, "worker")
    write("flotod.toml", '[logging]\nlevel = "debug"\n[swf]\nregion = "eu-west-1"\n')
    write("worker.toml", body + "heartbeat_seconds = 30\nconcurrency = 2\n")
    result = reload_config(current)
    assert [(c.key, c.old, c.new) for c in result.applied] == [
        ("logging.level", "info", "debug"),
        ("worker.a.heartbeat_seconds", 90, 30),
    ]
    assert [(c.key, c.old, c.new) for c in result.needs_restart] == [
        ("swf.region", "us-east-1", "eu-west-1"),
        ("worker.a.concurrency", 10, 2),
    ]
    effective = result.effective(current)
    assert effective.logging.level == "debug"
    assert effective.worker.heartbeat_seconds == 30
    assert effective.worker.concurrency == 10
    assert effective.swf.region == "us-east-1"


def test_unchanged_config_reports_nothing(write: Write) -> None:
    path = write("d.toml", "[daemon.main]\n")
    current = load_config(path, "daemon")
    result = reload_config(current)
    assert result.changes == ()
    assert result.effective(current) == current


def test_edited_spec_file_content_is_an_applied_change(write: Write, hello_spec: Path) -> None:
    path = write(
        "d.toml", f'[decider.hello]\ntask_list = "hello_decider"\nspec_file = "{hello_spec}"\n'
    )
    current = load_config(path, "decider")
    changed = dict(HELLO_SPEC)
    changed["activity_tasks"] = [
        {"type": "flotod.specs.ActivityTask", "name": "hello", "version": "v2"}
    ]
    hello_spec.write_text(json.dumps(changed))
    result = reload_config(current)
    assert [(c.key, c.needs_restart) for c in result.changes] == [
        ("decider.hello.spec_file", False)
    ]
    new_spec = result.effective(current).decider.spec
    assert new_spec is not None
    assert new_spec == result.config.decider.spec != current.decider.spec


def test_switching_spec_source_needs_a_restart(write: Write, hello_spec: Path) -> None:
    path = write("d.toml", '[decider.hello]\ntask_list = "hello_decider"\ndynamic = true\n')
    current = load_config(path, "decider")
    write("d.toml", f'[decider.hello]\ntask_list = "hello_decider"\nspec_file = "{hello_spec}"\n')
    result = reload_config(current)
    assert {(c.key, c.needs_restart) for c in result.changes} == {
        ("decider.hello.spec_file", True),
        ("decider.hello.dynamic", True),
    }
    assert result.effective(current) == current


def test_invalid_new_config_raises_and_names_the_problem(write: Write) -> None:
    path = write("d.toml", "[daemon.main]\n")
    current = load_config(path, "daemon")
    write("d.toml", "[daemon.main]\nmax_children = -1\n")
    with pytest.raises(ConfigError, match="max_children: expected an integer from 1 to 1000"):
        reload_config(current)
