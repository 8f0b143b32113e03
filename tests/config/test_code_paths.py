"""``python_path`` and ``virtualenv``: where a table's modules and spec_object come from.

python_path goes first on sys.path, a virtualenv's site-packages last (after flotod's own
dependencies, which it must not replace); both before anything of the table is imported, so
``--check-config``, ``flotod config check`` and a start agree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flotod.config import load_config
from flotod.errors import ConfigError

from .conftest import HELLO_SPEC

REPO = Path(__file__).resolve().parents[2]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def isolated_imports() -> Iterator[None]:
    """load_config changes sys.path and imports modules: undo both after each test."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith("cfgtest_"):
            del sys.modules[name]


def make_venv(where: Path) -> Path:
    """A real virtualenv (no pip: nothing is installed from the network)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where


def site_packages(venv: Path) -> Path:
    path = venv / "lib" / f"python{PY}" / "site-packages"
    assert path.is_dir()
    return path


def activity_module(directory: Path, name: str, body: str = "") -> str:
    """An activity module (a package) under ``directory``; returns its name."""
    package = directory / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(body)
        + textwrap.dedent(
            f"""
            import flotod

            @flotod.activity("{name}_{uuid.uuid4().hex[:8]}", "v1")
            def run() -> str:
                return "ran"
            """
        )
    )
    return name


def worker_toml(conf: Path, module: str, extra: str) -> Path:
    path = conf / "worker.toml"
    conf.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[worker.w]\ntask_list = "t"\nmodules = ["{module}"]\n{extra}')
    return path


def problems_of(path: Path, kind: str = "worker") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, kind)
    return info.value.problems


def test_python_path_is_relative_to_its_config_file_and_goes_first(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    module = activity_module(conf / "code", "cfgtest_pp_acts")
    path = worker_toml(conf, module, 'python_path = ["code"]\n')

    config = load_config(path, "worker")

    assert config.worker.python_path == ("code",)
    assert sys.path[0] == str(conf / "code")
    assert sys.modules[module].__file__ == str(conf / "code" / module / "__init__.py")


def test_a_decider_spec_object_comes_from_python_path(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    (conf / "lib").mkdir(parents=True)
    (conf / "lib" / "cfgtest_pp_spec.py").write_text(
        "from flotod.specs import load_decider_spec\n"
        f"SPEC = load_decider_spec({HELLO_SPEC!r}.__repr__().replace(\"'\", '\"'))\n"
    )
    (conf / "decider.toml").write_text(
        '[decider.d]\ntask_list = "hello_decider"\nspec_object = "cfgtest_pp_spec:SPEC"\n'
        'python_path = ["lib"]\n'
    )
    config = load_config(conf, "decider")
    assert config.decider.spec is not None and config.decider.spec.task_list == "hello_decider"


def test_a_virtualenv_module_imports_and_its_site_packages_come_last(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    venv = make_venv(conf / "venv")
    (site_packages(venv) / "cfgtest_venv_only.py").write_text("VALUE = 42\n")
    module = activity_module(conf / "code", "cfgtest_venv_acts", "import cfgtest_venv_only\n")
    path = worker_toml(conf, module, 'python_path = ["code"]\nvirtualenv = "venv"\n')
    before = list(sys.path)

    load_config(path, "worker")

    assert sys.modules["cfgtest_venv_only"].VALUE == 42
    assert sys.path[-1] == str(site_packages(venv))
    assert sys.path[1 : 1 + len(before)] == before  # python_path first, nothing else moved


def test_without_the_virtualenv_the_module_does_not_import(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    module = activity_module(conf / "code", "cfgtest_novenv_acts", "import cfgtest_nowhere\n")
    path = worker_toml(conf, module, 'python_path = ["code"]\n')
    [problem] = problems_of(path)
    assert problem == (
        f'{path}: worker.w.modules: module "{module}" does not import: '
        "ModuleNotFoundError: No module named 'cfgtest_nowhere'"
    )


def test_a_virtualenv_for_another_python_is_refused_with_both_versions(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    venv = make_venv(conf / "venv")
    cfg = venv / "pyvenv.cfg"
    lines = [
        "version = 3.99.1" if line.startswith("version") else line
        for line in cfg.read_text().splitlines()
    ]
    cfg.write_text("\n".join(lines) + "\n")
    (conf / "code").mkdir()
    path = worker_toml(conf, "json", 'virtualenv = "venv"\n')

    assert problems_of(path) == [
        f"{path}: worker.w.virtualenv: {venv} was made for Python 3.99, flotod runs on "
        f"Python {PY}: recreate it with python{PY} -m venv"
    ]
    assert str(venv) not in " ".join(sys.path)


def test_a_directory_that_is_not_a_virtualenv_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    (conf / "notvenv").mkdir(parents=True)
    path = worker_toml(conf, "json", 'virtualenv = "notvenv"\npython_path = ["gone"]\n')
    assert problems_of(path) == [
        f"{path}: worker.w.python_path: {conf / 'gone'}: no such directory",
        f"{path}: worker.w.virtualenv: {conf / 'notvenv'} is not a virtualenv (no pyvenv.cfg; "
        "make one with python3 -m venv)",
    ]


def test_code_under_home_is_refused_for_a_config_outside_it(tmp_path: Path) -> None:
    """The units hide /home (ProtectHome=yes): what checks here would not import there."""
    conf = tmp_path / "etc"
    path = worker_toml(
        conf, "json", 'python_path = ["/home/acme/code"]\nvirtualenv = "/root/venv"\n'
    )
    assert problems_of(path) == [
        f"{path}: worker.w.python_path: /home/acme/code is under /home, which the units hide "
        "(ProtectHome=yes): move it (e.g. to /opt) or change ProtectHome= in a drop-in",
        f"{path}: worker.w.virtualenv: /root/venv is under /root, which the units hide "
        "(ProtectHome=yes): move it (e.g. to /opt) or change ProtectHome= in a drop-in",
    ]


def test_flotods_own_dependencies_are_not_shadowed_by_the_virtualenv(tmp_path: Path) -> None:
    """A venv's botocore must not replace flotod's: a fresh process, as a service starts."""
    conf = tmp_path / "etc"
    venv = make_venv(conf / "venv")
    fake = site_packages(venv) / "botocore"
    fake.mkdir()
    (fake / "__init__.py").write_text("SHADOW = True\n__version__ = '0.0.0'\n")
    (site_packages(venv) / "cfgtest_venv_dep.py").write_text("VALUE = 1\n")
    report = conf / "botocore-file.txt"
    module = activity_module(
        conf / "code",
        "cfgtest_shadow_acts",
        f"""
        import botocore, cfgtest_venv_dep
        from pathlib import Path
        Path({str(report)!r}).write_text(botocore.__file__)
        """,
    )
    worker_toml(conf, module, 'python_path = ["code"]\nvirtualenv = "venv"\n')
    code = "import sys\nfrom flotod.cli.services import worker_main\nsys.exit(worker_main())"
    result = subprocess.run(
        [sys.executable, "-c", code, "--config", str(conf), "--check-config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    imported = report.read_text()
    assert not imported.startswith(str(venv)), imported
    import botocore

    assert imported == botocore.__file__


def test_flotod_config_check_applies_them_too(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    venv = make_venv(conf / "venv")
    (site_packages(venv) / "cfgtest_cc_dep.py").write_text("")
    module = activity_module(conf / "code", "cfgtest_cc_acts", "import cfgtest_cc_dep\n")
    worker_toml(conf, module, 'python_path = ["code"]\nvirtualenv = "venv"\n')
    code = "import sys\nfrom flotod.cli.main import main\nsys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", code, "config", "check", "--config", str(conf)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["ok", "worker.w"]


def run_as_unprivileged(conf: Path) -> subprocess.CompletedProcess[str]:
    """``--check-config`` bound by file modes: as root, without the capabilities that let
    root read anything (what a unit's User=flotod has to live with)."""
    code = "import sys\nfrom flotod.cli.services import worker_main\nsys.exit(worker_main())"
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file modes do not apply")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, "--config", str(conf), "--check-config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_an_unreadable_python_path_names_the_path_and_the_user(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    module = activity_module(conf / "code", "cfgtest_locked_acts")
    path = worker_toml(conf, module, 'python_path = ["code"]\n')
    (conf / "code").chmod(0o000)

    result = run_as_unprivileged(conf)

    assert result.returncode == 78
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{path}: worker.w.python_path: {conf / 'code'}: not readable by user "
    )
    assert "User=flotod" in lines[0]


def test_an_unreadable_module_file_names_the_path_and_the_user(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    module = activity_module(conf / "code", "cfgtest_locked_file")
    path = worker_toml(conf, module, 'python_path = ["code"]\n')
    locked = conf / "code" / module / "__init__.py"
    locked.chmod(0o000)

    result = run_as_unprivileged(conf)

    assert result.returncode == 78
    [line] = result.stderr.splitlines()
    assert line.startswith(f'{path}: worker.w.modules: module "{module}" does not import: ')
    assert f"{locked} is not readable by user " in line
    assert "User=flotod" in line


def test_an_unreadable_package_directory_is_not_taken_for_an_empty_package(
    tmp_path: Path,
) -> None:
    """Python imports a package directory it cannot enter as an empty namespace package."""
    conf = tmp_path / "etc"
    module = activity_module(conf / "code", "cfgtest_locked_dir")
    path = worker_toml(conf, module, 'python_path = ["code"]\n')
    (conf / "code" / module).chmod(0o000)

    result = run_as_unprivileged(conf)

    assert result.returncode == 78
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f'{path}: worker.w.modules: module "{module}" does not import: '
        f"{conf / 'code' / module} is not readable by user "
    )
    assert "User=flotod" in line
