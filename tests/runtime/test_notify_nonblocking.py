"""A notify reader that stops reading, or goes away, never stalls or breaks the sender."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from flotod.runtime.notify import Notifier

from .conftest import Datagrams


def test_a_full_queue_drops_messages_instead_of_blocking(datagrams: Datagrams) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": datagrams.path})
    results: list[bool] = []

    def flood() -> None:
        for i in range(20_000):
            results.append(notifier.send(f"STATUS=tick {i}"))

    sender = threading.Thread(target=flood, daemon=True)
    began = time.monotonic()
    sender.start()
    sender.join(10)
    assert not sender.is_alive(), "a blocking send stalled the sender"
    assert time.monotonic() - began < 10
    assert notifier.dropped > 0 and results.count(False) == notifier.dropped
    received = datagrams.all(quiet=0.1)
    assert 0 < len(received) < 20_000
    assert len(received) + notifier.dropped == 20_000
    assert received[0] == b"STATUS=tick 0"
    # Once the reader reads again, messages flow again.
    assert notifier.send("READY=1") is True
    assert datagrams.recv() == b"READY=1"
    notifier.close()


def test_a_missing_socket_is_counted_not_raised(short_dir: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(short_dir / "nobody")})
    assert notifier.enabled
    notifier.ready("up")
    notifier.watchdog()
    assert notifier.dropped == 2
    # The manager (re)creates its socket later: the next message finds it.
    late = Datagrams(str(short_dir / "nobody"))
    try:
        notifier.stopping()
        assert late.recv() == b"STOPPING=1"
    finally:
        late.close()
        notifier.close()
    notifier.status("after close")  # a no-op, not an error


def test_abstract_socket_address() -> None:
    name = f"flotod-test-{os.getpid()}-{time.monotonic_ns()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        notifier.ready()
        assert server.recv(4096) == b"READY=1"
        notifier.close()
    finally:
        server.close()
