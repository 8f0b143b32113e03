"""``python_path`` and ``virtualenv``: put a table's own code where ``import`` finds it.

Both are applied by :func:`apply_code_paths`, which :func:`~flotod.config.load_config` calls
before it imports a table's ``modules`` or ``spec_object``: so the services, ``--check-config``,
``--print-config``, ``flotod register`` and ``flotod config check`` all import from the same
places, and a config that checks also starts.

python_path goes first on ``sys.path`` (the operator's code may replace anything, as with
PYTHONPATH); a virtualenv's site-packages go last, after flotod's own dependencies, so a
library the operator installed there (a newer urllib3, say) cannot break flotod itself.

The checks name what the systemd units do to paths (ProtectHome=, PrivateTmp=, User=) because
that is where code which imports from an operator's shell stops importing.
"""

from __future__ import annotations

import grp
import os
import pwd
import site
import stat
import sys
from pathlib import Path
from typing import Any

from flotod.config.files import Entry

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

# Trees a unit does not see, and the unit setting that hides them.
HIDDEN: tuple[tuple[Path, str], ...] = (
    (Path("/home"), "ProtectHome"),
    (Path("/root"), "ProtectHome"),
    (Path("/run/user"), "ProtectHome"),
    (Path("/tmp"), "PrivateTmp"),
    (Path("/var/tmp"), "PrivateTmp"),
)
_HIDING = {"ProtectHome": "ProtectHome=yes", "PrivateTmp": "PrivateTmp=yes"}
_GRANT = (
    "the units run as User=flotod: give the flotod group read access (chgrp flotod, chmod g+rX)"
)


def apply_code_paths(
    where: str, values: dict[str, Any], entries: dict[str, Entry], problems: list[str]
) -> None:
    """Check and apply one table's python_path and virtualenv; a path with a problem is
    reported (one line each) and left out. Applying again is harmless: a directory already on
    ``sys.path`` is not added twice (reloads and ``flotod config check`` load repeatedly)."""
    if values.get("python_path"):
        file = entries["python_path"].file
        found = []
        for item in values["python_path"]:
            path = resolve(item, file)
            problem = _check_directory(path, file)
            if problem:
                problems.append(f"{file}: {where}.python_path: {problem}")
            else:
                found.append(str(path))
        for directory in reversed(found):
            if directory not in sys.path:
                sys.path.insert(0, directory)
    if values.get("virtualenv"):
        file = entries["virtualenv"].file
        venv = resolve(values["virtualenv"], file)
        problem = _check_directory(venv, file) or _check_virtualenv(venv)
        if problem:
            problems.append(f"{file}: {where}.virtualenv: {problem}")
            return
        site_packages = str(_site_packages(venv))
        if site_packages not in sys.path:
            site.addsitedir(site_packages)  # appends, and runs the venv's .pth files


def resolve(item: str, config_file: Path) -> Path:
    """A path as written, relative ones to the directory of the config file that set them."""
    path = Path(item)
    if not path.is_absolute():
        path = Path(os.path.abspath(config_file)).parent / path
    return Path(os.path.normpath(path))


def _hidden_by(path: Path, config_file: Path) -> tuple[Path, str] | None:
    """The tree and unit setting that hide ``path`` from the units, unless the config file is
    in the same tree (then no unit reads this config either: a personal or test setup)."""
    config = Path(os.path.abspath(config_file))
    for root, setting in HIDDEN:
        if path.is_relative_to(root) and not config.is_relative_to(root):
            return root, setting
    return None


def _check_directory(path: Path, config_file: Path) -> str | None:
    hidden = _hidden_by(path, config_file)
    if hidden is not None:
        root, setting = hidden
        return (
            f"{path} is under {root}, which the units hide ({_HIDING[setting]}): move it "
            f"(e.g. to /opt) or change {setting}= in a drop-in"
        )
    try:
        is_dir = stat.S_ISDIR(path.stat().st_mode)
    except FileNotFoundError:
        return f"{path}: no such directory"
    except PermissionError:
        return f"{path}: {unreadable(_first_unreadable_parent(path))}"
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror or exc}"
    if not is_dir:
        return f"{path}: not a directory"
    if not readable(path):
        return f"{path}: {unreadable(path)}"
    return None


def _check_virtualenv(venv: Path) -> str | None:
    cfg = venv / "pyvenv.cfg"
    try:
        text = cfg.read_text(errors="replace")
    except FileNotFoundError:
        return f"{venv} is not a virtualenv (no pyvenv.cfg; make one with python3 -m venv)"
    except OSError as exc:
        return f"{cfg}: cannot read: {exc.strerror or exc}"
    keys = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            keys[key.strip()] = value.strip()
    version = keys.get("version_info") or keys.get("version") or ""
    made_for = ".".join(version.split(".")[:2])
    if made_for != PYTHON:
        shown = made_for or "an unknown version (no version in pyvenv.cfg)"
        return (
            f"{venv} was made for Python {shown}, flotod runs on Python {PYTHON}: "
            f"recreate it with python{PYTHON} -m venv"
        )
    site_packages = _site_packages(venv)
    if not site_packages.is_dir():
        return f"{venv} has no {site_packages.relative_to(venv)}"
    if not readable(site_packages):
        return f"{site_packages}: {unreadable(site_packages)}"
    return None


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{PYTHON}" / "site-packages"


def readable(path: Path) -> bool:
    """Whether this process may read ``path`` (and enter it, for a directory)."""
    mode = os.R_OK | (os.X_OK if path.is_dir() else 0)
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _first_unreadable_parent(path: Path) -> Path:
    for parent in reversed(path.parents):
        if parent != path and not readable(parent):
            return parent
    return path


def _name(table: Any, number: int) -> str:
    try:
        return str(table(number)[0])
    except KeyError:
        return str(number)


def unreadable(path: Path) -> str:
    """Why ``path`` cannot be read, and what to do about it under the units."""
    user = _name(pwd.getpwuid, os.geteuid())
    try:
        info = path.stat()
        owner = f"mode {stat.S_IMODE(info.st_mode):04o}, owner "
        owner += f"{_name(pwd.getpwuid, info.st_uid)}:{_name(grp.getgrgid, info.st_gid)}"
    except OSError:
        owner = "its directory cannot be entered"
    return f"not readable by user {user} ({owner}); {_GRANT}"


def import_failure_hint(exc: BaseException, module: str) -> str:
    """What the import error itself does not say: which file or directory this user cannot
    read (Python skips an unreadable package directory as if it were not there)."""
    if isinstance(exc, PermissionError) and exc.filename:
        path = Path(os.fsdecode(exc.filename))
        return f"; {path} is {unreadable(path)}"
    if isinstance(exc, ModuleNotFoundError):
        along = _unreadable_along(module)
        if along is not None:
            return f"; {along} is {unreadable(along)}"
    return ""


def unreadable_package(module: Any) -> str | None:
    """Why an imported module is an empty shell, if it is one: Python imports a package
    directory it cannot enter as an empty namespace package instead of failing."""
    if getattr(module, "__file__", None) is not None:
        return None
    for entry in getattr(module, "__path__", ()):
        path = Path(entry)
        if not readable(path):
            return f"{path} is {unreadable(path)}"
    return None


def _unreadable_along(module: str) -> Path | None:
    """The first existing but unreadable file or directory on the way to ``module``."""
    parts = module.split(".")
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue
        here = Path(entry)
        for part in parts:
            for candidate in (here / part, here / f"{part}.py"):
                if os.path.lexists(candidate) and not readable(candidate):
                    return candidate
            here = here / part
    return None
