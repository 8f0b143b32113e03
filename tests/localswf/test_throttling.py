"""The embedded SWF's throttling injection: off by default, SWF's error shape when on, and the
same calls throttled on every run with the same seed."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import botocore.exceptions
import pytest

from flotod.errors import TransientSwfError
from flotod.localswf import in_process_client, make_backend, make_server
from flotod.localswf.faults import Throttle
from flotod.localswf.responses import dispatch
from flotod.swf import RetryPolicy, SwfClient
from tests.conftest import endpoint_client


def _outcomes(share: float, seed: int, calls: int) -> list[int]:
    backend = make_backend(poll_timeout=0.1, throttle_share=share, throttle_seed=seed)
    try:
        return [dispatch(backend, "ListDomains", b'{"registrationStatus": "REGISTERED"}')[0]
                for _ in range(calls)]  # fmt: skip
    finally:
        backend.close()


def test_off_by_default() -> None:
    backend = make_backend(poll_timeout=0.1)
    try:
        assert backend.throttle is None
        client = in_process_client(backend)
        for _ in range(50):
            client.list_domains(registrationStatus="REGISTERED")
    finally:
        backend.close()


def test_share_is_honoured_and_seeded() -> None:
    first = _outcomes(0.2, seed=7, calls=1000)
    assert set(first) == {200, 400}
    assert 150 <= first.count(400) <= 250  # about 20 %
    assert _outcomes(0.2, seed=7, calls=1000) == first  # same seed, same calls throttled
    assert _outcomes(0.2, seed=8, calls=1000) != first


def test_share_bounds() -> None:
    assert _outcomes(1.0, seed=0, calls=20) == [400] * 20
    with pytest.raises(ValueError, match="between 0 and 1"):
        Throttle(1.5)


def test_swf_error_shape_over_http_and_client_translation() -> None:
    backend = make_backend(poll_timeout=0.1, throttle_share=1.0)
    server = make_server(backend)
    server.start_in_thread()
    try:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            endpoint_client(server.url).list_domains(registrationStatus="REGISTERED")
        response: Any = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert response["Error"]["Code"].endswith("ThrottlingException")
        assert response["Error"]["Message"] == "Rate exceeded"
        swf = SwfClient.from_boto(
            endpoint_client(server.url),
            retry=RetryPolicy(max_attempts=3, sleep=lambda _: None),
        )
        with pytest.raises(TransientSwfError) as error:
            swf.describe_domain("anything")
        assert error.value.code == "ThrottlingException"
        assert backend.throttle is not None and backend.throttle.throttled == 4
    finally:
        server.stop()


def test_flotod_swf_client_rides_through_partial_throttling() -> None:
    backend = make_backend(poll_timeout=0.1, throttle_share=0.3, throttle_seed=3)
    swf = SwfClient.from_boto(
        in_process_client(backend), retry=RetryPolicy(max_attempts=20, sleep=lambda _: None)
    )
    try:
        for i in range(30):
            swf.register_domain(f"d{i}", retention_days=1)
        assert backend.throttle is not None and backend.throttle.throttled > 0
        assert {d.name for d in backend.domains} == {f"d{i}" for i in range(30)}
    finally:
        backend.close()


@pytest.mark.slow
def test_cli_flag() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--inject-throttling", "2"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 64 and "between 0 and 1" in bad.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0",
         "--poll-timeout", "1", "--inject-throttling", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            endpoint_client(url).list_domains(registrationStatus="REGISTERED")
        assert caught.value.response["Error"]["Code"].endswith("ThrottlingException")
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "injecting ThrottlingException into 100% of calls" in err
