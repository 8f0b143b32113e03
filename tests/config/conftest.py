from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Write = Callable[[str, str], Path]

HELLO_SPEC = {
    "type": "flotod.specs.DeciderSpec",
    "domain": "flotod",
    "task_list": "hello_decider",
    "activity_tasks": [{"type": "flotod.specs.ActivityTask", "name": "hello", "version": "v1"}],
}


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    path = tmp_path / "etc"
    path.mkdir()
    return path


@pytest.fixture
def write(confdir: Path) -> Write:
    """Write a dedented file under the config directory and return its path."""

    def _write(name: str, text: str) -> Path:
        path = confdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return _write


@pytest.fixture
def hello_spec(confdir: Path) -> Path:
    path = confdir / "specs" / "hello.json"
    path.parent.mkdir()
    path.write_text(json.dumps(HELLO_SPEC))
    return path


@pytest.fixture
def modules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for throwaway activity and spec modules; unloaded afterwards."""
    path = tmp_path / "pymods"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    before = set(sys.modules)
    yield path
    for name in set(sys.modules) - before:
        if name.startswith("cfgtest_"):
            del sys.modules[name]
