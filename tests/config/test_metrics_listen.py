"""``metrics_listen``: a key of each instance table, checked as HOST:PORT when loaded."""

from __future__ import annotations

import pytest

from flotod.config import load_config
from flotod.config.reload import reload_config
from flotod.errors import ConfigError

from .conftest import Write


@pytest.mark.parametrize("kind", ["decider", "worker", "daemon"])
def test_off_by_default_in_every_kind(write: Write, kind: str) -> None:
    table = {
        "decider": 'task_list = "t"\ndynamic = true\n',
        "worker": 'task_list = "t"\nmodules = ["json"]\n',
        "daemon": "",
    }[kind]
    path = write("flotod.toml", f"[{kind}.main]\n{table}")
    assert load_config(path, kind).metrics_listen == ""


@pytest.mark.parametrize(
    ("value", "host", "port"),
    [
        ("127.0.0.1:9464", "127.0.0.1", 9464),
        ("0.0.0.0:1", "0.0.0.0", 1),
        ("[::1]:65535", "::1", 65535),
        ("[::]:9464", "::", 9464),
        ("localhost:9464", "localhost", 9464),
    ],
)
def test_accepted_addresses(write: Write, value: str, host: str, port: int) -> None:
    from flotod.config.listen import parse_listen

    path = write("flotod.toml", f'[daemon.main]\nmetrics_listen = "{value}"\n')
    assert load_config(path, "daemon").metrics_listen == value
    assert parse_listen(value) == (host, port)


@pytest.mark.parametrize(
    "value",
    [
        '"9464"',
        '"127.0.0.1"',
        '"127.0.0.1:0"',
        '"127.0.0.1:65536"',
        '"127.0.0.1:http"',
        '"300.1.1.1:9464"',
        '"metrics.example.com:9464"',
        '"::1:9464"',
        '"[127.0.0.1]:9464"',
        '":9464"',
        "9464",
    ],
)
def test_bad_values_name_the_key_and_what_was_expected(write: Write, value: str) -> None:
    path = write("flotod.toml", f"[daemon.main]\nmetrics_listen = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, "daemon")
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: daemon.main.metrics_listen: expected ")
    assert "HOST:PORT" in problem and "1-65535" in problem
    assert problem.endswith(f"got {value}")


def test_not_reloadable(write: Write) -> None:
    path = write("flotod.toml", '[daemon.main]\nmetrics_listen = "127.0.0.1:9464"\n')
    config = load_config(path, "daemon")
    write("flotod.toml", '[daemon.main]\nmetrics_listen = "127.0.0.1:9465"\n')
    result = reload_config(config)
    assert [c.key for c in result.needs_restart] == ["daemon.main.metrics_listen"]
    assert result.effective(config).metrics_listen == "127.0.0.1:9464"
