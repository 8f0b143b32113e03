"""``[payloads]``: off by default, every bad value named with what S3 or SWF would accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from flotod.config import PayloadsConfig, load_config
from flotod.config.loader import check_shared
from flotod.config.render import print_config
from flotod.errors import ConfigError

from .conftest import Write

DAEMON = "[daemon.main]\n"


def test_off_by_default_with_documented_defaults(write: Write) -> None:
    config = load_config(write("a.toml", DAEMON), "daemon")
    assert config.payloads == PayloadsConfig()
    assert not config.payloads.enabled
    assert (config.payloads.s3_prefix, config.payloads.threshold_bytes) == ("flotod/", 30_000)
    assert config.payloads.compress is False


def test_a_bucket_turns_it_on_and_print_config_shows_the_table(write: Write) -> None:
    path = write(
        "a.toml",
        '[payloads]\ns3_bucket = "data.pipeline-01"\ns3_prefix = "runs/"\n'
        "threshold_bytes = 20000\ncompress = true\n" + DAEMON,
    )
    config = load_config(path, "daemon")
    assert config.payloads == PayloadsConfig("data.pipeline-01", "runs/", 20_000, True)
    assert config.payloads.enabled
    assert '[payloads]\ns3_bucket = "data.pipeline-01"\ns3_prefix = "runs/"' in print_config(config)


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "My-Bucket",  # upper case
        "bucket_name",  # underscore
        "-bucket",  # must start with a letter or digit
        "bucket.",  # and end with one
        "my..bucket",
        "192.168.5.4",  # shaped like an IP address
        "xn--bucket",  # reserved prefix
        "sthree-bucket",
        "bucket-s3alias",  # reserved suffix
        "bucket--ol-s3",
    ],
)
def test_bucket_names_s3_refuses_are_refused_by_name(write: Write, bucket: str) -> None:
    path = write("a.toml", f'[payloads]\ns3_bucket = "{bucket}"\n' + DAEMON)
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: payloads.s3_bucket: expected ")
    assert "S3 bucket name" in problem and f'got "{bucket}"' in problem


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("s3_prefix", '"/flotod/"', 'not starting with "/"'),
        ("s3_prefix", '"a\\u0000b"', "without control characters"),
        ("threshold_bytes", "0", "an integer from 1 to 32000"),
        ("threshold_bytes", "32768", "an integer from 1 to 32000"),
        ("compress", '"yes"', "true or false"),
        ("bucket", '"x"', 'unknown setting (did you mean "s3_bucket"?)'),
    ],
)
def test_other_bad_values(write: Write, key: str, value: str, expected: str) -> None:
    path = write("a.toml", f"[payloads]\n{key} = {value}\n" + DAEMON)
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: payloads.{key}: ")
    assert expected in problem


def test_a_host_without_instance_tables_is_checked_too(write: Write, confdir: Path) -> None:
    write("flotod.toml", '[payloads]\ns3_bucket = "B"\n')
    [problem] = check_shared(confdir)
    assert "payloads.s3_bucket" in problem
