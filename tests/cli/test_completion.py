"""Bash completion: generated from the parsers, and it completes in a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flotod.cli.completion import bash_script

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def complete(words: list[str]) -> list[str]:
    """Run the generated completion function in bash for ``words`` (the last is being typed)."""
    command = words[0]
    quoted = " ".join(f"'{w}'" for w in words)
    script = (
        bash_script()
        + f"\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        + f"_{command.replace('-', '_')}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"],
        input=script,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line]


def test_top_level_commands() -> None:
    assert complete(["flotod", ""]) == [
        "local-swf",
        "register",
        "workflow",
        "replay",
        "config",
        "completion",
    ]
    assert complete(["flotod", "wo"]) == ["workflow"]


def test_nested_actions_and_their_flags() -> None:
    assert "history" in complete(["flotod", "workflow", ""])
    flags = complete(["flotod", "workflow", "start", "--"])
    assert {"--wait", "--input", "--config", "--json"} <= set(flags)
    assert "--closed" not in flags


def test_service_commands() -> None:
    flags = complete(["flotod-worker", "--"])
    assert {"--config", "--instance", "--check-config", "--print-config", "--daemonize"} <= set(
        flags
    )


def test_paths_after_config(tmp_path: object) -> None:
    assert "/etc" in complete(["flotod-decider", "--config", "/et"])


def test_packaged_script_is_current() -> None:
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "packaging" / "completion" / "flotod"
    assert shipped.read_text() == bash_script(), (
        "packaging/completion/flotod is stale: flotod completion bash > packaging/completion/flotod"
    )
