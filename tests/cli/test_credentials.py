"""The credentials every ``flotod`` command uses: the units' own, found the same way, and
none at all against the embedded endpoint; ``--verbose`` says which.

Each test runs with an environment scrubbed of AWS settings and a HOME of its own, as an
operator's root shell on a fresh server would be.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest

from flotod.cli.main import build_parser, main
from flotod.cli.operator import resolve_target
from flotod.swf.credentials import (
    LOCAL_ACCESS_KEY_ID,
    credentials_file_for,
    is_loopback_endpoint,
    resolve_credentials,
)


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-profile probe


def etc(tmp_path: Path, endpoint: str, domain: str, extra: str = "") -> Path:
    """A config directory like /etc/flotod, with no credentials in it."""
    directory = tmp_path / "etc"
    directory.mkdir(exist_ok=True)
    (directory / "flotod.toml").write_text(
        f'[swf]\nendpoint_url = "{endpoint}"\ndomain = "{domain}"\n{extra}'
    )
    return directory


def credentials_ini(path: Path, key: str, profile: str = "default") -> None:
    path.write_text(f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = s3cr3t\n")
    path.chmod(0o600)


def access_key(argv: list[str]) -> str:
    """The access key the command's SWF client signs with."""
    args: argparse.Namespace = build_parser().parse_args(argv)
    client: Any = resolve_target(args).swf.boto_client
    return str(client._request_signer._credentials.access_key)


def test_commands_use_the_aws_credentials_file_next_to_the_config(
    bare_env: None, tmp_path: Path, swf_endpoint: str, unique_domain: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = etc(tmp_path, swf_endpoint, unique_domain)
    credentials_ini(config / "aws-credentials", "AKIAFROMETCFLOTOD")
    argv = ["workflow", "list", "--config", str(config)]
    assert access_key(argv) == "AKIAFROMETCFLOTOD"

    assert main(["register", "--config", str(config), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert f"credentials: {config / 'aws-credentials'}, profile default" in err
    assert "s3cr3t" not in err

    # A config file rather than a directory: the file next to it.
    assert access_key(["workflow", "list", "--config", str(config / "flotod.toml")]) == (
        "AKIAFROMETCFLOTOD"
    )


def test_a_configured_profile_is_read_from_that_file(
    bare_env: None, tmp_path: Path, swf_endpoint: str, unique_domain: str
) -> None:
    config = etc(tmp_path, swf_endpoint, unique_domain, 'profile = "ops"\n')
    (config / "aws-credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = x\n"
        "[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = y\n"
    )
    assert access_key(["workflow", "list", "--config", str(config)]) == "AKIAOPS"


def test_the_environment_and_static_keys_come_first(
    bare_env: None, tmp_path: Path, swf_endpoint: str, unique_domain: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = etc(tmp_path, swf_endpoint, unique_domain)
    credentials_ini(config / "aws-credentials", "AKIAFROMETCFLOTOD")
    credentials_ini(tmp_path / "units-copy", "AKIAFROMUNITENV")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "units-copy"))
    assert access_key(["workflow", "list", "--config", str(config)]) == "AKIAFROMUNITENV"
    assert main(["register", "--config", str(config), "-v"]) == 0
    assert "credentials: the environment (AWS_SHARED_CREDENTIALS_FILE=" in capsys.readouterr().err

    static = etc(
        tmp_path,
        swf_endpoint,
        unique_domain,
        'access_key_id = "AKIASTATIC"\nsecret_access_key = "static-secret"\n',
    )
    assert access_key(["workflow", "list", "--config", str(static)]) == "AKIASTATIC"


def test_the_embedded_endpoint_needs_no_credentials(
    bare_env: None, tmp_path: Path, swf_endpoint: str, unique_domain: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = etc(tmp_path, swf_endpoint, unique_domain)
    assert main(["register", "--config", str(config), "--verbose"]) == 0
    assert main(["workflow", "list", "--closed", "--config", str(config), "--json"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("[]")
    assert "credentials: fixed local credentials" in err
    assert access_key(["workflow", "list", "--config", str(config)]) == LOCAL_ACCESS_KEY_ID


def test_an_unreadable_file_is_said_and_aws_without_credentials_is_one_line(
    bare_env: None, tmp_path: Path, unique_domain: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not loopback (TEST-NET-1): nothing may stand in for real credentials here.
    config = etc(tmp_path, "http://192.0.2.1:9", unique_domain)
    (config / "aws-credentials").mkdir()  # exists, cannot be read as a file (even by root)
    code = main(["workflow", "list", "--config", str(config), "--verbose"])
    out, err = capsys.readouterr()
    assert code == 69 and out == ""
    assert f"{config / 'aws-credentials'} exists but cannot be read" in err
    assert "credentials: boto3's default chain" in err
    assert "Traceback" not in err and err.splitlines()[-1].startswith("flotod workflow: ")
    assert "credentials" in err.splitlines()[-1].lower()


def test_the_rule_in_order(tmp_path: Path) -> None:
    """The one function the CLI and the services call, source by source."""
    credentials_ini(tmp_path / "aws-credentials", "AKIAFILE")
    found = resolve_credentials(config_path=tmp_path, environ={})
    assert found.credentials_file == str(tmp_path / "aws-credentials")
    assert found.profile is None and found.access_key_id is None
    found = resolve_credentials(config_path=tmp_path, environ={}, profile="ops")
    assert (found.credentials_file, found.profile) == (str(tmp_path / "aws-credentials"), "ops")
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_ACCESS_KEY_ID"):
        found = resolve_credentials(config_path=tmp_path, environ={name: "x"})
        assert found.credentials_file is None and name in found.source
    found = resolve_credentials(
        config_path=tmp_path, environ={"AWS_PROFILE": "x"}, access_key_id="A", secret_access_key="S"
    )
    assert (found.access_key_id, found.secret_access_key) == ("A", "S")
    assert "S" not in found.source and "S" not in repr(found)
    empty = tmp_path / "empty"
    empty.mkdir()
    local = resolve_credentials(endpoint_url="http://localhost:4566", config_path=empty, environ={})
    assert local.access_key_id == LOCAL_ACCESS_KEY_ID
    # A configured profile is the operator's choice even against a local endpoint.
    ops = resolve_credentials(
        endpoint_url="http://127.0.0.1:4566", profile="ops", config_path=empty, environ={}
    )
    assert (ops.profile, ops.access_key_id) == ("ops", None)
    aws = resolve_credentials(endpoint_url="", config_path=empty, environ={})
    assert aws.client_arguments() == dict.fromkeys(
        ("profile", "access_key_id", "secret_access_key", "credentials_file")
    )
    (tmp_path / "flotod.toml").write_text("")
    assert credentials_file_for(tmp_path / "flotod.toml") == tmp_path / "aws-credentials"
    # /etc/flotod absent (a development machine): never /etc/aws-credentials.
    missing = tmp_path / "etc" / "flotod"
    assert credentials_file_for(missing) == missing / "aws-credentials"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:4566", True),
        ("http://127.8.9.10", True),
        ("http://[::1]:4566", True),
        ("http://localhost:4566", True),
        ("https://swf.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:4566", False),
        ("", False),
    ],
)
def test_loopback_endpoints(url: str, loopback: bool) -> None:
    assert is_loopback_endpoint(url) is loopback
