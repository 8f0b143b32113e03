"""``--config DIR`` reads DIR/*.toml, then DIR/conf.d/*.toml: the operator's own layer.

The package ships /etc/flotod/flotod.toml and never touches conf.d, so an operator who puts
their tables (and any shared setting they change) in conf.d never edits a packaged file, and
an upgrade never stops at a conffile prompt.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flotod.config import list_instances, load_config
from flotod.errors import EX_CONFIG, ConfigError

from .conftest import HELLO_SPEC, Write

REPO = Path(__file__).resolve().parents[2]
PACKAGED = (REPO / "etc" / "flotod.toml").read_text()


def problems_of(path: Path, kind: str, instance: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, kind, instance)
    assert info.value.exit_code == EX_CONFIG
    return info.value.problems


def test_conf_d_tables_are_read_after_the_top_level_files(write: Write, confdir: Path) -> None:
    top = write("flotod.toml", PACKAGED)
    mine = write("conf.d/acme.toml", '[daemon.acme]\nworkflow_id = "acme_daemon"\n')
    config = load_config(confdir, "daemon")
    assert config.instance == "acme"
    assert config.files == (top, mine)
    assert list_instances(confdir)["daemon"] == ["acme"]


def test_conf_d_overrides_a_shared_key_of_the_packaged_file(write: Write, confdir: Path) -> None:
    write("flotod.toml", PACKAGED)
    write("conf.d/00-swf.toml", '[swf]\ndomain = "acme"\nendpoint_url = "http://127.0.0.1:9"\n')
    write("conf.d/acme.toml", "[daemon.acme]\n")
    config = load_config(confdir, "daemon")
    assert config.swf.domain == "acme"
    assert config.swf.endpoint_url == "http://127.0.0.1:9"
    assert config.swf.region == "us-east-1"  # the packaged value, not overridden


def test_the_same_shared_key_twice_in_conf_d_names_both(write: Write, confdir: Path) -> None:
    write("flotod.toml", PACKAGED)
    first = write("conf.d/a.toml", '[swf]\ndomain = "a"\n[daemon.main]\n')
    second = write("conf.d/b.toml", '[swf]\ndomain = "b"\n')
    assert problems_of(confdir, "daemon") == [f"{second}: swf.domain: already set in {first}"]


def test_a_table_defined_in_two_files_names_both(write: Write, confdir: Path) -> None:
    write("flotod.toml", PACKAGED)
    first = write("conf.d/acme.toml", '[worker.acme]\ntask_list = "acme"\nmodules = ["json"]\n')
    second = write("conf.d/more.toml", '[worker.acme]\nmodules = ["json"]\n')
    assert problems_of(confdir, "worker") == [
        f"{second}: [worker.acme]: already defined in {first} (one file per table)"
    ]


def test_a_table_in_the_top_level_and_in_conf_d_names_both(write: Write, confdir: Path) -> None:
    first = write("flotod.toml", PACKAGED + '\n[daemon.main]\nworkflow_id = "a"\n')
    second = write("conf.d/main.toml", '[daemon.main]\nworkflow_id = "b"\n')
    assert problems_of(confdir, "daemon") == [
        f"{second}: [daemon.main]: already defined in {first} (one file per table)"
    ]


def test_only_conf_d_files_ending_in_toml_count(write: Write, confdir: Path) -> None:
    write("flotod.toml", PACKAGED)
    write("conf.d/acme.toml", "[daemon.acme]\n")
    write("conf.d/old.toml.dpkg-old", "[daemon.old]\n")
    write("conf.d/README", "[daemon.readme]\n")
    assert list_instances(confdir)["daemon"] == ["acme"]


def test_an_empty_conf_d_is_fine(write: Write, confdir: Path) -> None:
    write("flotod.toml", PACKAGED + "\n[daemon.main]\n")
    (confdir / "conf.d").mkdir()
    assert load_config(confdir, "daemon").instance == "main"


def test_a_spec_without_a_domain_takes_the_configs(write: Write, confdir: Path) -> None:
    spec = {key: value for key, value in HELLO_SPEC.items() if key != "domain"}
    write("conf.d/hello.json", json.dumps(spec))
    write("flotod.toml", PACKAGED)
    write("conf.d/00-swf.toml", '[swf]\ndomain = "acme"\n')
    write(
        "conf.d/hello.toml",
        '[decider.hello]\ntask_list = "hello_decider"\nspec_file = "hello.json"\n',
    )
    config = load_config(confdir, "decider")
    assert config.decider.spec is not None
    assert config.decider.spec.domain == "acme"


def test_config_check_passes_on_a_fresh_install(write: Write, confdir: Path) -> None:
    """What the package leaves in /etc/flotod plus the operator's domain in conf.d: nothing to
    run yet, nothing wrong."""
    write("flotod.toml", PACKAGED)
    write("conf.d/00-swf.toml", '[swf]\ndomain = "acme"\n')
    result = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "config", "check", "--config", str(confdir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no [decider.NAME], [worker.NAME] or [daemon.NAME] tables" in result.stdout


def test_config_check_on_a_fresh_install_still_checks_the_shared_tables(
    write: Write, confdir: Path
) -> None:
    write("flotod.toml", PACKAGED)
    bad = write("conf.d/00-swf.toml", '[swf]\ndomian = "acme"\n')
    result = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "config", "check", "--config", str(confdir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EX_CONFIG, result.stdout + result.stderr
    assert f'{bad}: swf.domian: unknown setting (did you mean "domain"?)' in result.stdout
