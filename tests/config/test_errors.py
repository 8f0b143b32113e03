"""Every kind of bad config gives one line per problem naming file, key and expectation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flotod.config import load_config
from flotod.errors import EX_CONFIG, ConfigError

from .conftest import HELLO_SPEC, Write


def problems_of(path: Path, kind: str, instance: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, kind, instance)
    assert info.value.exit_code == EX_CONFIG == 78
    return info.value.problems


def test_the_documented_example_message(confdir: Path, write: Write, modules_dir: Path) -> None:
    (modules_dir / "cfgtest_ok.py").write_text("")
    path = write(
        "worker.toml",
        '[worker.video]\ntask_list = "v"\nmodules = ["cfgtest_ok"]\nconcurrency = "ten"\n',
    )
    assert problems_of(confdir, "worker") == [
        f'{path}: worker.video.concurrency: expected an integer from 1 to 1000, got "ten"'
    ]


def test_toml_syntax_error_names_file_and_line(write: Write) -> None:
    path = write("bad.toml", "[swf]\ndomain = \n")
    [problem] = problems_of(path, "daemon")
    assert problem.startswith(f"{path}: TOML syntax error: ")
    assert "line 2" in problem


def test_unknown_keys_and_tables_suggest_the_close_name(write: Write) -> None:
    path = write("x.toml", "[logging]\ncolour = true\n[daemon.main]\nmax_chidren = 5\n")
    assert problems_of(path, "daemon") == [
        f"{path}: logging.colour: unknown setting",
        f'{path}: daemon.main.max_chidren: unknown setting (did you mean "max_children"?)',
    ]


def test_all_problems_are_collected_not_just_the_first(write: Write) -> None:
    path = write(
        "x.toml",
        """
        [swf]
        regoin = "eu-west-1"
        domain = ""
        [logging]
        level = "loud"
        [daemn.main]
        [daemon.main]
        max_chidren = 5
        max_children = 0
        workflow_id = 42
        drain_timeout_seconds = true
        """,
    )
    assert set(problems_of(path, "daemon")) == {
        f'{path}: [daemn]: unknown table (did you mean "daemon"?)',
        f'{path}: swf.regoin: unknown setting (did you mean "region"?)',
        f'{path}: swf.domain: expected a string of 1 to 256 characters, got ""',
        f'{path}: logging.level: expected one of "debug", "info", "warning", "error", got "loud"',
        f'{path}: daemon.main.max_chidren: unknown setting (did you mean "max_children"?)',
        f"{path}: daemon.main.max_children: expected an integer from 1 to 1000, got 0",
        f"{path}: daemon.main.workflow_id: expected a string of 1 to 256 characters, got 42",
        f"{path}: daemon.main.drain_timeout_seconds: expected an integer from 1 to 86400, got true",
    }


def test_wrong_shapes(write: Write) -> None:
    path = write(
        "x.toml",
        """
        swf = "aws"
        [worker]
        concurrency = 3
        [worker.a]
        task_list = "t"
        modules = "cfgtest_x"
        """,
    )
    assert problems_of(path, "worker") == [
        f'{path}: swf: expected [swf], got "aws"',
        f"{path}: worker.concurrency: expected a table [worker.NAME] per instance, got 3",
        f"{path}: worker.a.modules: expected a list of at least 1 Python module names, "
        'got "cfgtest_x"',
    ]


def test_missing_required_setting_names_the_table_file(write: Write) -> None:
    path = write("w.toml", "[worker.a]\nconcurrency = 2\n")
    assert problems_of(path, "worker") == [
        f"{path}: worker.a.task_list: missing, expected a string of 1 to 256 characters",
        f"{path}: worker.a.modules: missing, expected a list of at least 1 Python module names",
    ]


def test_same_key_in_two_files_names_both(write: Write, confdir: Path) -> None:
    first = write("flotod.toml", '[swf]\ndomain = "a"\n[daemon.main]\n')
    second = write("local.toml", '[swf]\ndomain = "b"\n')
    assert problems_of(confdir, "daemon") == [f"{second}: swf.domain: already set in {first}"]


def test_missing_path_and_empty_directory(tmp_path: Path, confdir: Path) -> None:
    assert problems_of(tmp_path / "nope", "daemon") == [
        f"{tmp_path / 'nope'}: no such file or directory"
    ]
    assert problems_of(confdir, "daemon") == [
        f"{confdir}: no *.toml files in this directory or in conf.d/"
    ]


def test_instance_selection_errors(write: Write, confdir: Path) -> None:
    write("d.toml", "[daemon.main]\n[daemon.backup]\n")
    assert problems_of(confdir, "daemon") == [
        f"{confdir}: daemon: several instances (backup, main): choose one with --instance"
    ]
    assert problems_of(confdir, "daemon", "mian") == [
        f'{confdir}: daemon.mian: no such instance (did you mean "main"?); '
        "daemon instances: backup, main"
    ]
    assert problems_of(confdir, "worker") == [f"{confdir}: worker: no [worker.NAME] table"]


def test_spec_source_must_be_exactly_one(write: Write, hello_spec: Path) -> None:
    none = write("a.toml", '[decider.x]\ntask_list = "t"\n')
    assert problems_of(none, "decider") == [
        f"{none}: decider.x: expected exactly one of spec_file, spec_object, dynamic = true, "
        "specs, got none"
    ]
    both = write(
        "b.toml",
        f'[decider.x]\ntask_list = "t"\nspec_file = "{hello_spec}"\ndynamic = true\n',
    )
    assert problems_of(both, "decider") == [
        f"{both}: decider.x: expected exactly one of spec_file, spec_object, dynamic = true, "
        "specs, got spec_file and dynamic"
    ]


def test_missing_and_unparsable_spec_files(write: Write, confdir: Path) -> None:
    path = write("a.toml", '[decider.x]\ntask_list = "t"\nspec_file = "specs/none.json"\n')
    assert problems_of(path, "decider") == [
        f"{path}: decider.x.spec_file: no such file {confdir / 'specs' / 'none.json'}"
    ]
    bad = write("specs/bad.json", "{not json")
    path = write("a.toml", '[decider.x]\ntask_list = "t"\nspec_file = "specs/bad.json"\n')
    [problem] = problems_of(path, "decider")
    assert problem.startswith(
        f"{path}: decider.x.spec_file: {bad} is not a valid decider spec: "
        "decider spec is not valid JSON"
    )
    cyclic = dict(
        HELLO_SPEC, activity_tasks=[{"type": "Timer", "id_": "t", "delay_in_seconds": -1}]
    )
    write("specs/odd.json", json.dumps(cyclic))
    path = write("a.toml", '[decider.x]\ntask_list = "t"\nspec_file = "specs/odd.json"\n')
    [problem] = problems_of(path, "decider")
    assert "decider.x.spec_file:" in problem and "is not a valid decider spec: " in problem


def test_spec_must_match_domain_and_task_list(write: Write, hello_spec: Path) -> None:
    path = write(
        "a.toml",
        f'[swf]\ndomain = "other"\n[decider.x]\ntask_list = "t"\nspec_file = "{hello_spec}"\n',
    )
    assert problems_of(path, "decider") == [
        f'{path}: decider.x.spec_file: the spec\'s domain "flotod" differs from swf.domain "other"',
        f'{path}: decider.x.spec_file: the spec\'s task_list "hello_decider" differs from '
        'decider.x.task_list "t"',
    ]


def test_default_activity_task_list_only_for_dynamic(write: Write, hello_spec: Path) -> None:
    path = write(
        "a.toml",
        f'[decider.hello]\ntask_list = "hello_decider"\nspec_file = "{hello_spec}"\n'
        'default_activity_task_list = "x"\n',
    )
    assert problems_of(path, "decider") == [
        f"{path}: decider.hello.default_activity_task_list: only for dynamic = true "
        "(a spec names its own default activity task list)"
    ]


def test_spec_object_errors(write: Write, modules_dir: Path) -> None:
    (modules_dir / "cfgtest_notspec.py").write_text("SPEC = {'domain': 'flotod'}\n")
    (modules_dir / "cfgtest_broken.py").write_text("raise RuntimeError('boom at import')\n")
    cases = {
        "cfgtest_notspec:SPEC": "expected cfgtest_notspec:SPEC to be a DeciderSpec, got dict",
        "cfgtest_notspec:MISSING": '"cfgtest_notspec" has no attribute "MISSING"',
        "cfgtest_broken:SPEC": 'module "cfgtest_broken" does not import: '
        "RuntimeError: boom at import",
        "cfgtest_absent:SPEC": 'module "cfgtest_absent" does not import: ModuleNotFoundError: '
        "No module named 'cfgtest_absent'",
        "not a reference": None,
    }
    for reference, expected in cases.items():
        path = write("a.toml", f'[decider.x]\ntask_list = "t"\nspec_object = "{reference}"\n')
        if expected is None:
            expected_line = (
                f'{path}: decider.x.spec_object: expected "" or "module:attribute", '
                f'got "{reference}"'
            )
            assert expected_line in problems_of(path, "decider")
        else:
            assert problems_of(path, "decider") == [f"{path}: decider.x.spec_object: {expected}"]


def test_worker_module_that_does_not_import(write: Write, modules_dir: Path) -> None:
    (modules_dir / "cfgtest_good.py").write_text("")
    (modules_dir / "cfgtest_syntax.py").write_text("def broken(:\n")
    path = write(
        "w.toml",
        '[worker.a]\ntask_list = "t"\n'
        'modules = ["cfgtest_good", "cfgtest_syntax", "cfgtest_gone"]\n',
    )
    problems = problems_of(path, "worker")
    assert len(problems) == 2
    assert problems[0].startswith(
        f'{path}: worker.a.modules: module "cfgtest_syntax" does not import: SyntaxError: '
    )
    assert problems[1] == (
        f'{path}: worker.a.modules: module "cfgtest_gone" does not import: '
        "ModuleNotFoundError: No module named 'cfgtest_gone'"
    )


def test_credentials_come_in_pairs(write: Write) -> None:
    path = write("a.toml", '[swf]\nprofile = "p"\nsecret_access_key = "s3cr3t"\n[daemon.main]\n')
    assert problems_of(path, "daemon") == [
        f"{path}: swf.secret_access_key: expected access_key_id and secret_access_key together",
        f"{path}: swf.profile: expected either a profile or static keys, not both",
    ]


def test_another_kinds_mistakes_do_not_stop_this_service(write: Write, confdir: Path) -> None:
    write("daemon.toml", "[daemon.main]\n")
    write("worker.toml", "[worker.a]\nconcurrency = 0\n")
    assert load_config(confdir, "daemon").instance == "main"
