"""``flotod local-swf`` on a host without the [local] extra: one line that says what to
install, and a non-zero exit, instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flotod.errors import EX_UNAVAILABLE

ROOT = Path(__file__).resolve().parents[2]

# Loaded at interpreter start (site imports sitecustomize from the path): makes moto
# unimportable, as on a server where only the plain package is installed.
HIDE_MOTO = """
import sys


class HideMoto:
    def find_spec(self, name, path=None, target=None):
        if name == "moto" or name.startswith("moto."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, HideMoto())
"""


def test_local_swf_without_moto_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(HIDE_MOTO)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == EX_UNAVAILABLE, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("flotod local-swf: ")
    assert "pip install 'flotod[local]'" in line and "moto" in line


def test_the_hook_hides_moto_only(tmp_path: Path) -> None:
    """The simulation itself: moto is gone, the rest of flotod's dependencies are not."""
    (tmp_path / "sitecustomize.py").write_text(HIDE_MOTO)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    probe = "import boto3, flotod.cli.main\ntry:\n import moto\nexcept ImportError:\n print('gone')"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "gone\n"
