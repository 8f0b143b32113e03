"""Shared fixtures: an embedded SWF (flotod.localswf) in-process and over HTTP.

``swf_backend`` is fresh per test; ``swf_client`` is parametrized over both transports
(in-process hook and a threaded server on 127.0.0.1); ``swf_endpoint`` is one server per
session for tests that start real processes: give each test its own domain
(``unique_domain``) to keep state apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import structlog
from botocore.config import Config

from flotod.localswf import in_process_client, make_backend, make_server
from flotod.localswf.backend import LocalSWFBackend


@pytest.fixture(autouse=True)
def _structlog_config_restored() -> Iterator[None]:
    """Commands run in-process configure structlog for a terminal (flotod quiets its client
    to errors): each test starts from the configuration the one before it found."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


TEST_POLL_TIMEOUT = 1.0
# SWF's own long poll. Stops, reloads and latencies are tested against it: a short poll in
# tests hides every wait a real deployment sees.
SWF_POLL_TIMEOUT = 60.0


def endpoint_client(url: str) -> Any:
    """A plain boto3 SWF client for an embedded SWF endpoint URL."""
    return boto3.session.Session().client(
        "swf",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(read_timeout=70, retries={"max_attempts": 0}),
    )


@pytest.fixture
def swf_backend() -> Iterator[LocalSWFBackend]:
    backend = make_backend(poll_timeout=TEST_POLL_TIMEOUT)
    yield backend
    backend.close()


@pytest.fixture(params=["in-process", "server"])
def swf_client(request: pytest.FixtureRequest, swf_backend: LocalSWFBackend) -> Iterator[Any]:
    if request.param == "in-process":
        yield in_process_client(swf_backend)
        return
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        yield endpoint_client(server.url)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def swf_endpoint() -> Iterator[str]:
    backend = make_backend(poll_timeout=TEST_POLL_TIMEOUT)
    server = make_server(backend)
    server.start_in_thread()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def swf_endpoint_60() -> Iterator[str]:
    """An endpoint that holds empty polls for SWF's full 60 s."""
    backend = make_backend(poll_timeout=SWF_POLL_TIMEOUT)
    server = make_server(backend)
    server.start_in_thread()
    yield server.url
    server.stop()


@pytest.fixture
def unique_domain() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
