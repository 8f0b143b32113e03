"""Valid configurations: defaults, merging, instance selection, spec and module loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flotod.config import (
    DaemonConfig,
    DeciderConfig,
    ServiceConfig,
    WorkerConfig,
    list_instances,
    load_config,
)
from flotod.engine.allowlist import Allowlist
from flotod.errors import ConfigError
from flotod.specs import DeciderSpec

from .conftest import HELLO_SPEC, Write

REPO = Path(__file__).resolve().parents[2]


def test_single_file_defaults_fill_everything_else(write: Write) -> None:
    path = write("flotod.toml", '[daemon.main]\nworkflow_id = "wf"\n')
    config = load_config(path, "daemon")
    assert isinstance(config, ServiceConfig)
    assert config.instance == "main"
    assert config.table == "daemon.main"
    # the allowlists' defaults: what this one-table config serves, the daemon's own only
    served = Allowlist(
        task_lists=frozenset({"flotod_daemon"}),
        child_workflow_types=frozenset({"flotod_daemon_child:v1"}),
    )
    assert config.daemon == DaemonConfig(workflow_id="wf", allow=served)
    assert config.swf.domain == "flotod"
    assert config.swf.region == "us-east-1"
    assert config.logging.level == "info"
    assert config.drain_timeout_seconds == 90
    assert config.files == (path,)


def test_directory_merges_tables_across_files_in_sorted_order(
    write: Write, confdir: Path, modules_dir: Path
) -> None:
    (modules_dir / "cfgtest_acts.py").write_text("LOADED = True\n")
    write("flotod.toml", '[swf]\ndomain = "prod"\n[logging]\nformat = "json"\n')
    write("z-extra.toml", '[swf]\nregion = "eu-west-1"\n')
    write(
        "worker.toml",
        """
        [worker.video]
        task_list = "video"
        modules = ["cfgtest_acts"]
        concurrency = 4
        [worker.audio]
        task_list = "audio"
        modules = ["cfgtest_acts"]
        """,
    )
    write("notes.txt", "not toml, ignored")
    config = load_config(confdir, "worker", "video")
    assert config.swf.domain == "prod"
    assert config.swf.region == "eu-west-1"
    assert config.logging.format == "json"
    assert config.worker == WorkerConfig(
        task_list="video", modules=("cfgtest_acts",), concurrency=4
    )
    assert [p.name for p in config.files] == ["flotod.toml", "worker.toml", "z-extra.toml"]
    audio = load_config(confdir, "worker", "audio")
    assert audio.worker.concurrency == 10


def test_worker_modules_are_imported_at_load(write: Write, modules_dir: Path) -> None:
    marker = modules_dir / "imported.txt"
    (modules_dir / "cfgtest_side.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('yes')\n"
    )
    path = write("w.toml", '[worker.x]\ntask_list = "t"\nmodules = ["cfgtest_side"]\n')
    load_config(path, "worker")
    assert marker.read_text() == "yes"


def test_spec_file_relative_to_the_config_file(write: Write, hello_spec: Path) -> None:
    path = write(
        "decider.toml",
        '[decider.hello]\ntask_list = "hello_decider"\nspec_file = "specs/hello.json"\n',
    )
    config = load_config(path, "decider")
    assert isinstance(config.decider, DeciderConfig)
    assert config.decider.spec == DeciderSpec.from_json(hello_spec.read_text())
    assert config.decider.spec is not None
    assert config.decider.spec.task_list == "hello_decider"


def test_spec_object_is_imported(write: Write, modules_dir: Path) -> None:
    (modules_dir / "cfgtest_flows.py").write_text(
        "from flotod.specs import ActivityTask, DeciderSpec\n"
        "class Holder:\n"
        "    SPEC = DeciderSpec(domain='flotod', activity_tasks=[ActivityTask('a', 'v1')])\n"
    )
    path = write(
        "d.toml", '[decider.x]\ntask_list = "t"\nspec_object = "cfgtest_flows:Holder.SPEC"\n'
    )
    spec = load_config(path, "decider").decider.spec
    assert spec is not None
    assert [getattr(t, "name", None) for t in spec.activity_tasks] == ["a"]
    assert spec.domain == "flotod"


def test_dynamic_decider_has_no_spec(write: Write) -> None:
    path = write(
        "d.toml",
        '[decider.dyn]\ntask_list = "t"\ndynamic = true\ndefault_activity_task_list = "acts"\n',
    )
    decider = load_config(path, "decider").decider
    assert decider.dynamic is True
    assert decider.spec is None
    assert decider.default_activity_task_list == "acts"


def test_wrong_kind_accessor_is_a_type_error(write: Write) -> None:
    config = load_config(write("x.toml", "[daemon.main]\n"), "daemon")
    with pytest.raises(TypeError, match="daemon config"):
        _ = config.worker


def test_identity_defaults_to_host_and_pid(write: Write) -> None:
    import os

    config = load_config(write("x.toml", "[daemon.main]\n"), "daemon")
    assert config.swf.resolved_identity().endswith(f":{os.getpid()}")
    named = load_config(write("y.toml", '[swf]\nidentity = "me"\n[daemon.main]\n'), "daemon")
    assert named.swf.resolved_identity() == "me"


def test_shipped_sample_configs_are_valid(tmp_path: Path) -> None:
    """/etc/flotod as the package ships it, with the examples copied into conf.d, loads."""
    etc = tmp_path / "flotod"
    (etc / "conf.d").mkdir(parents=True)
    shutil.copy(REPO / "etc" / "flotod.toml", etc)
    for example in (REPO / "etc" / "examples").iterdir():
        shutil.copy(example, etc / "conf.d")
    spec = load_config(etc, "decider", "hello").decider.spec
    assert spec is not None and spec.domain == "flotod"
    assert load_config(etc, "daemon").daemon.workflow_id == "flotod_daemon"
    assert HELLO_SPEC["task_list"] == load_config(etc, "decider").decider.task_list


def test_kind_must_be_known(write: Write) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        load_config(write("x.toml", "[daemon.main]\n"), "poller")
    with pytest.raises(ConfigError):
        load_config(write("y.toml", "[daemon.main]\n"), "worker")


def test_list_instances_of_every_kind(write: Write, confdir: Path) -> None:
    write("a.toml", "[daemon.main]\n[worker.b]\n[worker.a]\n")
    assert list_instances(confdir) == {"decider": [], "worker": ["a", "b"], "daemon": ["main"]}
    write("broken.toml", "[worker.c\n")
    with pytest.raises(ConfigError, match="TOML syntax error"):
        list_instances(confdir)
