"""``--daemonize --pidfile PATH`` for hosts without systemd, through python-daemon.

Under systemd this is refused: a ``Type=notify`` service that forks away loses its notify
socket and its journal stream, and the start times out. Order in a service's main: parse
args, load the config (so a bad one exits 78 in the foreground), :func:`daemonize`, then
create the Notifier, install the Lifecycle and configure logging (all after the fork).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, NoReturn

import daemon

from flotod.errors import EX_OK, ConfigError, FlotodError

EX_OSERR = 71  # sysexits.h: an operating-system error, such as a failed fork


def add_daemon_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running without systemd")
    group.add_argument(
        "--daemonize",
        action="store_true",
        help="detach into the background (not under systemd, which supervises the process)",
    )
    group.add_argument("--pidfile", metavar="PATH", help="write the daemon's pid here")
    group.add_argument(
        "--log-file",
        metavar="PATH",
        help="append log lines here once detached (default: discarded)",
    )


def under_systemd(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("INVOCATION_ID") or env.get("NOTIFY_SOCKET"))


class DaemonizeError(FlotodError):
    """Detaching failed in the background; the launcher reports it and exits non-zero."""

    exit_code = EX_OSERR


def _holder(text: str) -> int | None:
    """The pid a pidfile names, or None for anything else (empty, garbage, not positive)."""
    try:
        pid = int(text.strip())
    except ValueError:
        return None
    return pid if pid > 0 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class PidFile:
    """A pidfile taken by the launcher, before detaching, and handed over to the daemon.

    python-daemon takes its lock only after the fork, when the launcher has already exited
    0: a leftover pidfile then killed the daemon unseen. Here the launcher takes the file:
    it holds an exclusive ``flock`` on it (kept by the daemon for its whole life, released by
    the kernel when it dies, so a second start at the same moment is refused), refuses a file
    naming a live process, replaces a stale or garbage one (saying so), and writes its own
    pid. The daemon writes its pid in its place as python-daemon's ``pidfile`` context and
    removes the file when it closes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.replaced: str | None = None  # what a stale or garbage file said, for the launcher

    def take(self) -> None:
        """In the launcher: ConfigError (78) when the file is locked, names a live process or
        cannot be created."""
        for _ in range(3):  # the holder may remove the file between our open and our lock
            fd = self._open_locked()
            if os.fstat(fd).st_ino == self._inode():
                break
            os.close(fd)
        else:
            raise ConfigError(f"--pidfile: {self.path}: kept changing while being taken")
        text = os.pread(fd, 64, 0).decode(errors="replace")
        pid = _holder(text)
        if pid is not None and _alive(pid):
            os.close(fd)
            raise ConfigError(
                f"--pidfile: {self.path}: already running as pid {pid} (if that process is "
                "not flotod, remove the file)"
            )
        if text.strip():
            self.replaced = f"pid {pid}, not running" if pid else f"no pid in it: {text[:40]!r}"
        self.fd = fd
        self._write(os.getpid())

    def _open_locked(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"--pidfile: {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _holder(self.path.read_text(errors="replace")) if self.path.exists() else None
            raise ConfigError(
                f"--pidfile: {self.path}: already running as pid {holder} (the file is locked)"
            ) from None
        return fd

    def _inode(self) -> int | None:
        try:
            return os.stat(self.path).st_ino
        except FileNotFoundError:
            return None

    def _write(self, pid: int) -> None:
        """Never empty on the way: the new text first, then the length."""
        assert self.fd is not None
        data = f"{pid}\n".encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))

    def holds(self, pid: int) -> bool:
        try:
            return _holder(self.path.read_text()) == pid
        except OSError:
            return False

    def release(self) -> None:
        """Remove the file if it still names this process, then drop the lock."""
        if self.fd is None:
            return
        if self.holds(os.getpid()):
            self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> PidFile:
        """In the daemon: the file names this process from now on."""
        self._write(os.getpid())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Daemon:
    """An open daemon context; :meth:`close` removes the pidfile (also done at exit)."""

    def __init__(self, context: Any, log_stream: IO[str] | None) -> None:
        self.context = context
        self.log_stream = log_stream

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


def daemonize(
    pidfile: str | None,
    log_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Daemon:
    """Fork into the background; returns in the daemon process only.

    The launcher exits 0 only once the daemon runs and holds the pidfile; whatever fails
    before that comes back through a pipe and is raised in the launcher (DaemonizeError, 71).
    Refuses (ConfigError, 78) under systemd, when the pidfile names a live process, or when
    the pidfile or log file cannot be created. Both paths are made absolute first; the
    working directory becomes ``/``, so callers resolve their own relative paths before.
    """
    if under_systemd(environ):
        raise ConfigError(
            "--daemonize: refused under systemd (INVOCATION_ID or NOTIFY_SOCKET is set); "
            "systemd supervises the process in the foreground, drop --daemonize"
        )
    log_stream = _open_log(Path(log_file).absolute()) if log_file else None
    lock = PidFile(Path(pidfile).absolute()) if pidfile else None
    if lock is not None:
        try:
            lock.take()
        except ConfigError:
            if log_stream is not None:
                log_stream.close()
            raise
    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        _wait_for_daemon(read_end, child, lock)  # exits 0 on success, raises otherwise
    os.close(read_end)
    preserve: list[int] = [write_end] if lock is None or lock.fd is None else [write_end, lock.fd]
    context = daemon.DaemonContext(
        pidfile=lock,
        umask=0o027,
        stdout=log_stream,
        stderr=log_stream,
        files_preserve=preserve,
        # SIGTERM, SIGINT and SIGHUP are left to the Lifecycle installed after the fork.
        signal_map={signal.SIGTSTP: None, signal.SIGTTIN: None, signal.SIGTTOU: None},
    )
    try:
        context.open()
    except BaseException as exc:  # in the intermediate child or the daemon: tell the launcher
        with contextlib.suppress(OSError):
            os.write(write_end, f"cannot detach: {exc}".encode(errors="replace"))
        os._exit(EX_OSERR)
    with contextlib.suppress(OSError):  # a launcher killed meanwhile: run on regardless
        os.write(write_end, b"ok")
    os.close(write_end)
    return Daemon(context, log_stream)


def _open_log(path: Path) -> IO[str]:
    try:
        return path.open("a", buffering=1)
    except OSError as exc:
        raise ConfigError(f"--log-file: {path}: {exc.strerror or exc}") from None


def _wait_for_daemon(read_end: int, child: int, lock: PidFile | None) -> NoReturn:
    """In the launcher: wait until the daemon says it runs, or every end of the pipe closed
    without a word (it died)."""
    chunks = []
    while chunk := os.read(read_end, 4096):
        chunks.append(chunk)
    os.close(read_end)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child, 0)  # the first child, which exited when it forked again
    answer = b"".join(chunks).decode(errors="replace")
    if answer == "ok":
        if lock is not None and lock.replaced:
            name = Path(sys.argv[0]).name
            print(f"{name}: --pidfile: replaced {lock.path} ({lock.replaced})", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EX_OK)  # as python-daemon's parent does: nothing of the service runs here
    if lock is not None:
        lock.release()  # the daemon never took it over
    raise DaemonizeError(f"--daemonize: {answer or 'the daemon exited before it was ready'}")
