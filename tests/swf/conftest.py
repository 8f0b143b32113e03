"""An SWF client over moto in-process, for the client's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from flotod.swf import RetryPolicy, SwfClient

DOMAIN = "flotod-test"


@pytest.fixture
def no_sleep() -> list[float]:
    """Delays the client would have slept, recorded instead of waited."""
    return []


@pytest.fixture
def swf(monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]) -> Iterator[SwfClient]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    # moto answers an empty poll after a 1 s sleep; the tests need no long poll.
    monkeypatch.setattr("moto.swf.models.sleep", lambda _seconds: None)
    with mock_aws():
        boto = boto3.client("swf", region_name="us-east-1")
        client = SwfClient.from_boto(boto, retry=RetryPolicy(sleep=no_sleep.append))
        client.register_domain(DOMAIN)
        yield client
