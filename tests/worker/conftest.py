"""The worker's tests run against the embedded SWF (both transports, via tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from flotod.swf import RetryPolicy, SwfClient

from .helpers import Scheduler


@pytest.fixture
def swf(swf_client: Any) -> SwfClient:
    return SwfClient.from_boto(swf_client, retry=RetryPolicy(base_seconds=0.01, cap_seconds=0.05))


@pytest.fixture
def scheduler(swf: SwfClient, unique_domain: str) -> Scheduler:
    return Scheduler(swf, unique_domain)


# The runtime tests' journal stand-in and logging reset, for the worker's log tests.
from tests.runtime.conftest import datagrams, reset_logging, short_dir  # noqa: E402, F401
