"""Input that breaks a parser (not UTF-8, nested past the recursion limit) is one line and 78.

Before, these escaped the loader as UnicodeDecodeError or RecursionError: a traceback and exit
1, which RestartPreventExitStatus=78 does not catch, so systemd restarted the unit in a loop.
Each case runs the real entry points in a fresh process, as systemd and operators do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flotod.errors import EX_CONFIG

REPO = Path(__file__).resolve().parents[2]
DEPTH = 100_000

ENTRY = {
    "decider": "from flotod.cli.services import decider_main as main",
    "worker": "from flotod.cli.services import worker_main as main",
    "daemon": "from flotod.cli.services import daemon_main as main",
    "flotod": "from flotod.cli.main import main",
}


def run(entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys\n{ENTRY[entry]}\nsys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def not_utf8_toml(conf: Path) -> tuple[str, str]:
    path = conf / "flotod.toml"
    path.write_bytes(b'[swf]\nregion = "eu-west-1"\ndomain = "caf\xe9"\n')
    return "daemon", f"{path}: not UTF-8 text: byte 0xe9 on line 3 (TOML files are UTF-8)"


def deep_toml(conf: Path) -> tuple[str, str]:
    path = conf / "flotod.toml"
    path.write_text("[swf]\nx = " + "[" * DEPTH + "]" * DEPTH + "\n")
    return "daemon", f"{path}: TOML syntax error: nested too deeply"


def deep_spec(conf: Path) -> tuple[str, str]:
    path = conf / "decider.toml"
    path.write_text('[decider.d]\ntask_list = "t"\nspec_file = "deep.json"\n')
    (conf / "deep.json").write_text("[" * DEPTH + "]" * DEPTH)
    return "decider", (
        f"{path}: decider.d.spec_file: {conf / 'deep.json'} is not a valid decider spec: "
        "JSON nested too deeply"
    )


def not_utf8_spec(conf: Path) -> tuple[str, str]:
    path = conf / "decider.toml"
    path.write_text('[decider.d]\ntask_list = "t"\nspec_file = "latin1.json"\n')
    (conf / "latin1.json").write_bytes(b'{"domain": "caf\xe9"}')
    return "decider", f"{path}: decider.d.spec_file: {conf / 'latin1.json'} is not a valid "


CASES = [not_utf8_toml, deep_toml, deep_spec, not_utf8_spec]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("how", ["--check-config", "start"])
def test_service_reports_one_line_and_exits_78(case, how: str, tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    conf.mkdir()
    kind, line = case(conf)
    flags = ["--check-config"] if how == "--check-config" else []
    result = run(kind, "--config", str(conf), *flags)
    assert result.returncode == EX_CONFIG, result.stderr
    assert result.stdout == ""
    [printed] = result.stderr.splitlines()
    assert printed.startswith(line), printed


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_flotod_config_check_reports_one_line_and_exits_78(case, tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    conf.mkdir()
    _, line = case(conf)
    result = run("flotod", "config", "check", "--config", str(conf))
    assert result.returncode == EX_CONFIG, result.stderr
    assert "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    [mention] = [text for text in output.splitlines() if str(conf) in text]
    assert line in mention, output


def test_control_characters_in_names_cannot_split_a_problem_line(tmp_path: Path) -> None:
    from flotod.config import load_config
    from flotod.errors import ConfigError

    path = tmp_path / "x.toml"
    path.write_text('[swf]\n"region\\nINJECTED" = 1\n["daemon\\r"]\n[daemon.main]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    assert info.value.problems == [
        f'{path}: [daemon\\r]: unknown table (did you mean "daemon"?)',
        f"{path}: swf.region\\nINJECTED: unknown setting",
    ]
    assert len(str(info.value).splitlines()) == 2


def test_a_nul_in_a_path_setting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    conf.mkdir()
    path = conf / "d.toml"
    path.write_text(
        '[decider.d]\ntask_list = "t"\nspec_file = "a\\u0000b"\n'
        'python_path = ["x\\u0000y"]\nvirtualenv = "v\\u0000"\n'
    )
    result = run("decider", "--config", str(conf), "--check-config")
    assert result.returncode == EX_CONFIG, result.stderr
    assert result.stderr.splitlines() == [
        f'{path}: decider.d.spec_file: expected "" or a path without control characters, '
        'got "a\\u0000b"',
        f"{path}: decider.d.python_path: expected a list of directories (paths without "
        'control characters), got ["x\\u0000y"]',
        f'{path}: decider.d.virtualenv: expected "" or a path without control characters, '
        'got "v\\u0000"',
    ]
