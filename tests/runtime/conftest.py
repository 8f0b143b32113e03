from __future__ import annotations

import logging
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog


class Datagrams:
    """A bound AF_UNIX datagram socket standing in for systemd's notify or journal socket."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def recv(self, timeout: float = 2.0) -> bytes:
        self.sock.settimeout(timeout)
        return self.sock.recv(1 << 20)

    def all(self, quiet: float = 0.2) -> list[bytes]:
        """Everything received until the socket stays quiet for ``quiet`` seconds."""
        out = []
        while True:
            try:
                out.append(self.recv(quiet))
            except TimeoutError:
                return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """AF_UNIX paths are limited to 108 bytes; pytest's tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def datagrams(short_dir: Path) -> Iterator[Datagrams]:
    server = Datagrams(str(short_dir / "sock"))
    yield server
    server.close()


@pytest.fixture
def notify_socket(datagrams: Datagrams, monkeypatch: pytest.MonkeyPatch) -> Datagrams:
    monkeypatch.setenv("NOTIFY_SOCKET", datagrams.path)
    return datagrams


@pytest.fixture
def reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {n: logging.getLogger(n).level for n in ("boto3", "botocore", "urllib3", "s3transfer")}
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)
