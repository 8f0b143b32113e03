"""`flotod local-swf` as a real process, and the install-time check of moto's internals."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from flotod.cli.main import main
from flotod.localswf import compat
from tests.conftest import endpoint_client
from tests.localswf.helpers import decide, poll_decision, setup_domain, start


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_server_prints_url_serves_and_stops_on_signal(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flotod.cli.main",
            "local-swf",
            "--port",
            "0",
            "--poll-timeout",
            "1",
            "--log-level",
            "debug",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = endpoint_client(url)
        setup_domain(client)
        start(client)
        decide(client, poll_decision(client), {"decisionType": "CompleteWorkflowExecution"})
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "operation=PollForDecisionTask status=200" in err


def test_version_and_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("flotod ")
    assert main([]) == 64
    assert main(["local-swf", "--poll-timeout", "0"]) == 64


def test_install_fails_loudly_when_moto_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    compat.check()  # the pinned moto passes
    from moto.swf.models.domain import Domain

    monkeypatch.delattr(Domain, "get_type")
    with pytest.raises(compat.LocalSwfIncompatible, match=r"Domain\.get_type is missing"):
        compat.check()
