"""A config directory pointing at the shared embedded SWF, with a domain of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

from flotod.cli.main import main
from flotod.examples import hello
from flotod.specs import DeciderSpec


@dataclass(frozen=True)
class Site:
    config: Path
    endpoint: str
    domain: str

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        """``flotod ARGV --config <site>`` in-process: exit code, stdout, stderr."""
        code = main([*argv, "--config", str(self.config)])
        out, err = capsys.readouterr()
        return code, out, err

    def run_json(self, capsys: pytest.CaptureFixture[str], *argv: str) -> object:
        code, out, err = self.run(capsys, *argv, "--json")
        assert code == 0, err
        return json.loads(out)


def write_site(directory: Path, endpoint: str, domain: str) -> Path:
    """flotod.toml + a hello decider (spec_file, in this domain) and worker, like /etc/flotod."""
    spec = DeciderSpec(
        domain=domain,
        task_list=hello.TASK_LIST,
        default_activity_task_list=hello.ACTIVITY_TASK_LIST,
        activity_tasks=list(hello.SPEC.activity_tasks),
    )
    (directory / "specs").mkdir(parents=True, exist_ok=True)
    (directory / "specs" / "hello.json").write_text(spec.to_json())
    (directory / "flotod.toml").write_text(
        f'[swf]\nendpoint_url = "{endpoint}"\ndomain = "{domain}"\n'
        'access_key_id = "local"\nsecret_access_key = "local"\n'
    )
    (directory / "services.toml").write_text(
        "[decider.hello]\n"
        f'task_list = "{hello.TASK_LIST}"\n'
        'spec_file = "specs/hello.json"\n'
        'workflow_type_name = "hello"\n'
        "[worker.hello]\n"
        f'task_list = "{hello.ACTIVITY_TASK_LIST}"\n'
        'modules = ["flotod.examples.hello"]\n'
        "[daemon.main]\n"
    )
    return directory


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    """The commands quiet structlog for the whole process (right for a CLI); keep that from
    leaking into later tests that capture the client's warnings."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def site(tmp_path: Path, swf_endpoint: str, unique_domain: str) -> Iterator[Site]:
    yield Site(
        write_site(tmp_path / "etc", swf_endpoint, unique_domain), swf_endpoint, unique_domain
    )
