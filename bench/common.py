"""Helpers the benchmarks share: the embedded SWF process, a raw boto3 client, the machine line,
process CPU from /proc, systemd-style readiness, and rewriting one section of RESULTS.md.

Everything here measures from outside the measured processes, so that flotod, the raw loop and
simpleflow are timed and charged the same way.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"  # gitignored: logs, configs, the simpleflow virtualenv
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def local_swf(poll_timeout: float = 2.0, log: Path | None = None) -> Iterator[str]:
    """Start ``flotod local-swf`` on a free loopback port; yield its URL."""
    with local_swf_process(poll_timeout, log) as (url, _pid):
        yield url


@contextmanager
def local_swf_process(
    poll_timeout: float = 2.0, log: Path | None = None
) -> Iterator[tuple[str, int]]:
    """Like :func:`local_swf`, yielding the server's pid too (to charge it its CPU)."""
    with open(log or os.devnull, "ab") as errors:  # no log file: inherit our stderr
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flotod.cli.main",
                "local-swf",
                "--port",
                "0",
                "--poll-timeout",
                f"{poll_timeout:g}",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=errors if log else None,
            text=True,
        )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"flotod local-swf did not start (said {url!r})")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def boto_client(url: str) -> Any:
    """A plain boto3 SWF client: no retries (a benchmark must see failures), long-poll safe."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "swf",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            read_timeout=75, connect_timeout=5, retries={"max_attempts": 0}, max_pool_connections=64
        ),
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, shared with other jobs"
    )


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (simpleflow forks supervisors and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process tree, plus cutime+cstime: the CPU of children it reaped
    (a process forked per task and gone by the second reading still counts)."""
    ticks = 0
    for member in descendants(pid):
        fields = _stat_fields(member)
        if fields is not None:
            # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """Resident memory of one process (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET; records when each
    ``READY=1`` arrives (monotonic time, keyed by the sender's pid from SO_PASSCRED)."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.2)
        self.ready: dict[int, float] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        size = socket.CMSG_SPACE(12)  # struct ucred: pid, uid, gid
        while not self._closed:
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(4096, size)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = int.from_bytes(payload[:4], sys.byteorder)
                    if b"READY=1" in data.split(b"\n"):
                        self.ready.setdefault(pid, now)

    def wait_ready(self, pids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(pid in self.ready for pid in pids):
            if time.monotonic() > deadline:
                missing = [pid for pid in pids if pid not in self.ready]
                raise RuntimeError(f"no READY=1 from {missing} within {timeout:g} s")
            time.sleep(0.01)

    def close(self) -> None:
        self._closed = True
        self._thread.join(1)
        self.sock.close()
        self.path.unlink(missing_ok=True)


def replace_section(heading: str, section: str) -> None:
    """Replace the RESULTS.md section starting with ``heading`` (up to the next ``## ``), or
    append it at the end when the page has none yet."""
    text = RESULTS.read_text()
    pattern = re.compile(re.escape(heading) + r".*?(?=\n## |\Z)", re.S)
    body = section.rstrip("\n") + "\n"
    if pattern.search(text):
        text = pattern.sub(lambda _m: body, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text)
