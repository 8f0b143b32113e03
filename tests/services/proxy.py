"""A loopback TCP proxy a test can cut and restore, to take an endpoint away from services.

While cut, it drops every open connection and resets new ones at once, as a host whose
service went away would. It stops itself after ``lifetime`` seconds whatever the test does.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees a connection reset at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    def __init__(self, target_port: int, lifetime: float = 120.0) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.deadline = time.monotonic() + lifetime
        self.refused = 0
        self._up = True
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _stopping(self) -> bool:
        return self._stop.is_set() or time.monotonic() > self.deadline

    def _accept(self) -> None:
        while not self._stopping():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                # A client that gave up between connect and accept (ECONNABORTED) must not end
                # the proxy: only close() does.
                if self._stop.is_set():
                    return
                time.sleep(0.05)
                continue
            with self._lock:
                up = self._up
            if not up:
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            for sock in (client, upstream):
                sock.settimeout(0.5)
            with self._lock:
                self._open.update((client, upstream))
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)
        self.close()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stopping():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                break
        for sock in (source, sink):
            self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        _reset(sock)

    def cut(self) -> None:
        """The endpoint goes away: open connections reset, new ones refused."""
        with self._lock:
            self._up = False
            doomed = list(self._open)
            self._open.clear()
        for sock in doomed:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self.cut()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(2)
