"""The four service flags and their exit codes, including a real interpreter run."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

from flotod.config import ServiceConfig, add_config_arguments, resolve_config
from flotod.errors import EX_CONFIG

from .conftest import Write


def run(argv: list[str], kind: str = "daemon") -> tuple[ServiceConfig | int, str, str]:
    parser = argparse.ArgumentParser(prog="flotod-test")
    add_config_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    result = resolve_config(parser.parse_args(argv), kind, out, err)
    return result, out.getvalue(), err.getvalue()


def test_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    args = parser.parse_args([])
    assert (args.config, args.instance, args.check_config, args.print_config) == (
        "/etc/flotod",
        None,
        False,
        False,
    )


def test_good_config_returns_it(write: Write, confdir: Path) -> None:
    write("d.toml", "[daemon.a]\n[daemon.b]\n")
    result, out, err = run(["--config", str(confdir), "--instance", "b"])
    assert isinstance(result, ServiceConfig)
    assert result.instance == "b"
    assert (out, err) == ("", "")


def test_check_config_ok_and_problems(write: Write, confdir: Path) -> None:
    write("d.toml", "[daemon.main]\n")
    assert run(["--config", str(confdir), "--check-config"]) == (0, "ok\n", "")
    path = write("d.toml", "[daemon.main]\nmax_children = 0\nworkflow_id = 1\n")
    code, out, err = run(["--config", str(confdir), "--check-config"])
    assert code == EX_CONFIG
    assert out == ""
    assert err.splitlines() == [
        f"{path}: daemon.main.max_children: expected an integer from 1 to 1000, got 0",
        f"{path}: daemon.main.workflow_id: expected a string of 1 to 256 characters, got 1",
    ]


def test_print_config(write: Write, confdir: Path) -> None:
    write("d.toml", "[daemon.main]\nmax_children = 3\n")
    code, out, _ = run(["--config", str(confdir), "--print-config"])
    assert code == 0
    assert "[daemon.main]\n" in out
    assert "max_children = 3\n" in out


def test_bad_config_exits_78_from_a_real_process(write: Write, confdir: Path) -> None:
    write("d.toml", "[daemon.main]\nmax_children = 'many'\n")
    script = (
        "import argparse, sys\n"
        "from flotod.config import add_config_arguments, resolve_config\n"
        "p = argparse.ArgumentParser(); add_config_arguments(p)\n"
        "r = resolve_config(p.parse_args(), 'daemon')\n"
        "sys.exit(r if isinstance(r, int) else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(confdir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 78
    assert 'max_children: expected an integer from 1 to 1000, got "many"' in done.stderr
