"""The allowlists of a dynamic decider and a daemon: their defaults come from the whole config
(what it serves), written values are checked and kept, bad ones are one clear line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from flotod.config import load_config
from flotod.engine.allowlist import ANY, Allowlist
from flotod.errors import ConfigError

from .conftest import Write

SITE = """
[decider.dyn]
task_list = "dyn_decider"
dynamic = true
default_activity_task_list = "acts"
workflow_type_name = "dynamic"

[decider.billing]
task_list = "billing_decider"
spec_file = "nowhere.json"
workflow_type_name = "billing"
workflow_type_version = "v3"

[worker.images]
task_list = "images"
modules = ["not.imported.by.a.decider"]

[worker.broken]
task_list = 5
modules = []

[daemon.main]
task_list = "daemon_tl"
"""


def test_empty_allowlists_mean_what_the_config_serves(write: Write) -> None:
    path = write("flotod.toml", SITE)
    decider = load_config(path, "decider", "dyn").decider
    assert decider.allow == Allowlist(
        activity_types=ANY,
        task_lists=frozenset({"acts", "images", "dyn_decider", "billing_decider"}),
        child_workflow_types=frozenset({"dynamic:v1", "billing:v3"}),
    )
    daemon = load_config(path, "daemon").daemon
    assert daemon.allow == Allowlist(
        activity_types=ANY,
        task_lists=frozenset({"daemon_tl", "images", "dyn_decider", "billing_decider"}),
        child_workflow_types=frozenset({"dynamic:v1", "billing:v3", "flotod_daemon_child:v1"}),
        child_workflow_ids=ANY,
    )


def test_written_allowlists_replace_the_defaults(write: Write) -> None:
    path = write(
        "flotod.toml",
        SITE.replace(
            '[daemon.main]\ntask_list = "daemon_tl"',
            '[daemon.main]\ntask_list = "daemon_tl"\n'
            'allowed_activity_types = ["resize:v1", "report-*"]\n'
            'allowed_task_lists = ["gpu-*"]\n'
            'allowed_child_workflow_types = ["render"]\n'
            'allowed_child_workflow_ids = ["jobs-*"]\n',
        ),
    )
    assert load_config(path, "daemon").daemon.allow == Allowlist(
        activity_types=frozenset({"resize:v1", "report-*"}),
        task_lists=frozenset({"gpu-*"}),
        child_workflow_types=frozenset({"render"}),
        child_workflow_ids=frozenset({"jobs-*"}),
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('allowed_activity_types = "resize"', "a list of"),
        ('allowed_activity_types = ["a:b:c"]', '"name" or "name:version" patterns'),
        ('allowed_activity_types = [""]', '"name" or "name:version" patterns'),
        ('allowed_task_lists = ["bad/list"]', "task list names or patterns"),
        ('allowed_child_workflow_types = ["x:" ]', '"name" or "name:version" patterns'),
        ("allowed_task_lists = [1]", "task list names or patterns"),
    ],
)
def test_bad_allowlist_values_are_named(write: Write, line: str, expected: str) -> None:
    path = write("d.toml", f'[decider.dyn]\ntask_list = "t"\ndynamic = true\n{line}\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, "decider")
    [problem] = info.value.problems
    key = line.split(" ", 1)[0]
    assert f"decider.dyn.{key}: expected" in problem and expected in problem, problem


def test_daemon_child_ids_must_be_patterns(write: Write) -> None:
    path = write("d.toml", '[daemon.main]\nallowed_child_workflow_ids = ["a|b"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    assert "daemon.main.allowed_child_workflow_ids: expected" in info.value.problems[0]


def test_a_decider_alone_allows_only_its_own_default_task_list(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text('[decider.dyn]\ntask_list = "t"\ndynamic = true\n')
    allow = load_config(path, "decider").decider.allow
    # no default_activity_task_list, no workers: an activity must name an allowed task list,
    # and none is allowed but the decider's own
    assert allow.task_lists == frozenset({"t"})
    assert allow.child_workflow_types == frozenset()
