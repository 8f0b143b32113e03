"""journald's native protocol, spoken directly over its datagram socket.

Debian's python3-systemd is used when it is importable; the PyPI build needs libsystemd-dev,
so without it flotod writes the documented wire format itself: ``KEY=value\\n`` per field, or
``KEY\\n`` + 64-bit little-endian length + bytes + ``\\n`` when the value holds a newline. A
payload too big for one datagram goes through a sealed memfd passed with SCM_RIGHTS.
"""

from __future__ import annotations

import array
import contextlib
import errno
import fcntl
import functools
import importlib
import os
import re
import socket
import struct
from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_SOCKET = "/run/systemd/journal/socket"

_NOT_NAME = re.compile(r"[^A-Z0-9_]")
_MAX_NAME = 64


@functools.lru_cache(maxsize=1024)  # a service logs the same few dozen keys over and over
def field_name(key: str) -> str | None:
    """journald keeps only upper-case ``[A-Z0-9_]`` names not starting with ``_`` or a digit
    (it drops others silently), so ``workflow_id`` becomes ``WORKFLOW_ID``."""
    name = _NOT_NAME.sub("_", key.upper()).lstrip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = "F_" + name
    return name[:_MAX_NAME]


def encode(fields: Mapping[str, str]) -> bytes:
    """One journal entry in the native wire format; names must already be valid."""
    parts = []
    for name, value in fields.items():
        data = value.encode("utf-8", "replace")
        key = name.encode("ascii")
        if b"\n" in data:
            parts.append(key + b"\n" + struct.pack("<Q", len(data)) + data + b"\n")
        else:
            parts.append(key + b"=" + data + b"\n")
    return b"".join(parts)


def _python_systemd_sendv() -> Callable[..., Any] | None:
    """python3-systemd's ``sendv``, which takes ready ``KEY=value`` strings.

    Its ``send`` wrapper extracts a stack frame for CODE_FILE/CODE_LINE on every entry (here
    always the same line of this module, so it says nothing) and costs ~8 us more a record.
    """
    try:
        journal = importlib.import_module("systemd.journal")
    except ImportError:
        return None
    sendv: Callable[..., Any] | None = getattr(journal, "sendv", None)
    return sendv


class JournalSender:
    """Sends entries to journald; ``send`` returns False when the journal is not reachable,
    so the caller can fall back to a stderr line instead of losing the record."""

    def __init__(self, path: str = DEFAULT_SOCKET, use_python_systemd: bool = True) -> None:
        self.path = path
        self._library_send = (
            _python_systemd_sendv() if use_python_systemd and path == DEFAULT_SOCKET else None
        )
        self._socket: socket.socket | None = None

    def _sock(self) -> socket.socket:
        if self._socket is None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        return self._socket

    def send(self, fields: Mapping[str, str]) -> bool:
        if self._library_send is not None:
            try:
                self._library_send(*[f"{name}={value}" for name, value in fields.items()])
            except OSError:
                return False
            return True
        payload = encode(fields)
        try:
            self._sock().sendto(payload, self.path)
        except OSError as exc:
            if exc.errno in (errno.EMSGSIZE, errno.ENOBUFS):
                return self._send_memfd(payload)
            return False
        return True

    def _send_memfd(self, payload: bytes) -> bool:
        """journald reads an oversized entry from a sealed memfd sent as the datagram's fd."""
        try:
            fd = os.memfd_create("flotod-journal", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            return False
        try:
            os.write(fd, payload)
            seals = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            # socket.send_fds drops its address argument on 3.11: call sendmsg directly.
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
            self._sock().sendmsg([], rights, 0, self.path)
        except OSError:
            return False
        finally:
            os.close(fd)
        return True

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None
