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


def test_a_client_hanging_up_mid_poll_is_not_a_traceback(
    swf_backend: object, capfd: pytest.CaptureFixture[str]
) -> None:
    import socket
    import time

    from flotod.localswf import make_server

    server = make_server(swf_backend, "127.0.0.1", 0)  # type: ignore[arg-type]
    server.start_in_thread()
    try:
        host, port = server.server_address[:2]
        body = b'{"domain": "nowhere", "taskList": {"name": "tl"}}'
        with socket.create_connection((str(host), int(port))) as conn:
            conn.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"X-Amz-Target: SimpleWorkflowService.PollForActivityTask\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        time.sleep(0.5)  # the answer (an error for the unknown domain) meets a reset socket
    finally:
        server.stop()
    assert "Traceback" not in capfd.readouterr().err
