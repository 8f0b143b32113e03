from __future__ import annotations

import socket

import pytest


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on now (the kernel's choice, so parallel tests do not collide)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
