"""A secret never reaches an error line or a reload record; files holding one stay private."""

from __future__ import annotations

from pathlib import Path

import pytest

from flotod.config import load_config, reload_config
from flotod.config.checks import secret_file_warnings
from flotod.config.settings import MASK
from flotod.errors import ConfigError

from .conftest import Write

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_an_invalid_secret_is_masked_in_its_error_line(write: Write) -> None:
    too_long = SECRET * 8  # 320 characters, over the declared 256
    path = write(
        "a.toml",
        f'[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "{too_long}"\n[daemon.main]\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    [problem] = info.value.problems
    assert SECRET not in problem
    assert problem == (
        f"{path}: swf.secret_access_key: expected a string of 0 to 256 characters, "
        f"got {MASK} (a string of 320 characters)"
    )


def test_a_secret_of_the_wrong_type_is_masked_too(write: Write) -> None:
    path = write("a.toml", "[swf]\nsecret_access_key = 12345678\n[daemon.main]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    assert "12345678" not in str(info.value)
    assert f"got {MASK} (an integer)" in info.value.problems[0]


def test_a_rejected_reload_does_not_echo_the_secret(write: Write) -> None:
    path = write(
        "a.toml",
        f'[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "{SECRET}"\n[daemon.main]\n',
    )
    current = load_config(path, "daemon")
    write(
        "a.toml",
        f'[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "{SECRET * 8}"\n'
        "[daemon.main]\nmax_children = 0\n",
    )
    with pytest.raises(ConfigError) as info:
        reload_config(current)
    assert len(info.value.problems) == 2
    assert SECRET not in str(info.value)


def test_a_changed_secret_is_masked_in_the_reload_changes(write: Write) -> None:
    body = '[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "{}"\n[daemon.main]\n'
    path = write("a.toml", body.format(SECRET))
    current = load_config(path, "daemon")
    write("a.toml", body.format(SECRET[::-1]))
    result = reload_config(current)
    [change] = result.changes
    assert (change.key, change.old, change.new) == ("swf.secret_access_key", MASK, MASK)
    assert change.needs_restart and change.secret
    assert SECRET not in repr(result.changes) and SECRET[::-1] not in repr(result.changes)
    # The configs themselves keep the real values: the running one until a restart.
    assert result.effective(current).swf.secret_access_key == SECRET
    assert result.config.swf.secret_access_key == SECRET[::-1]


def test_world_readable_files_holding_a_secret_are_warned_about(
    write: Write, confdir: Path, tmp_path: Path
) -> None:
    shared = write(
        "flotod.toml",
        f'[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "{SECRET}"\n',
    )
    plain = write("daemon.toml", "[daemon.main]\n")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(f"[default]\naws_secret_access_key = {SECRET}\n")
    for path in (shared, plain, credentials):
        path.chmod(0o644)
    config = load_config(confdir, "daemon")

    warnings = secret_file_warnings(config, credentials_file=credentials)

    assert warnings == [
        f"{shared}: holds swf.secret_access_key and is readable by every user (mode 0644): "
        f"chmod o-r {shared} (the package ships its config files 0640 root:flotod)",
        f"{credentials}: holds AWS credentials and is readable by every user (mode 0644): "
        f"chmod o-r {credentials} (the package ships its config files 0640 root:flotod)",
    ]
    assert all(SECRET not in w for w in warnings)

    for path in (shared, plain, credentials):
        path.chmod(0o640)
    assert secret_file_warnings(config, credentials_file=credentials) == []


def test_no_warning_without_a_secret_or_a_credentials_file(
    write: Write, confdir: Path, tmp_path: Path
) -> None:
    write("flotod.toml", '[swf]\nsecret_access_key = ""\naccess_key_id = ""\n').chmod(0o644)
    write("daemon.toml", "[daemon.main]\n").chmod(0o644)
    config = load_config(confdir, "daemon")
    assert secret_file_warnings(config, credentials_file=tmp_path / "absent") == []
