"""Service footprint: what an idle flotod-decider, flotod-worker and flotod-daemon cost a host.

    .venv/bin/python bench/footprint.py [--quick] [--write]

The services run with the packaged configs (etc/flotod.toml, and the examples in conf.d: the
hello decider and worker, the daemon), pointed at a ``flotod local-swf`` whose poll timeout is
SWF's 60 s. Measured from outside each process: exec to ``READY=1`` on a datagram socket
passed as $NOTIFY_SOCKET (one service at a time, so they do not compete for the cores),
resident memory (VmRSS) and CPU over an idle window, then the time from SIGTERM to exit with
every poll still in flight (goal: 2 s, the same as READY).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script (bench/footprint.py): make the bench package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    OUT_DIR,
    REPO_ROOT,
    NotifySocket,
    cpu_seconds,
    local_swf,
    machine,
    replace_section,
    rss_mib,
)

HEADING = "## Service footprint"
SERVICES = ("decider", "worker", "daemon")
TARGET_RSS_MIB, TARGET_IDLE_PERCENT, TARGET_READY_S, TARGET_STOP_S = 80.0, 1.0, 2.0, 2.0


@dataclass
class Footprint:
    name: str
    ready_s: float = 0.0
    rss_mib: float = 0.0
    idle_percent: float = 0.0
    stop_s: float = 0.0
    poll_left_s: float = 0.0  # what a stop that waited for its poll would take
    exit_code: int | None = None


def write_configs(directory: Path, url: str) -> None:
    """The packaged configs, with the endpoint and spec path of this run."""
    etc = REPO_ROOT / "etc"
    # As an operator does: the examples copied into conf.d (the spec path is relative).
    (directory / "conf.d").mkdir(exist_ok=True)
    for example in (etc / "examples").iterdir():
        (directory / "conf.d" / example.name).write_text(example.read_text())
    shared = (etc / "flotod.toml").read_text()
    shared = re.sub(
        r'^endpoint_url = ""',
        f'endpoint_url = "{url}"\naccess_key_id = "bench"\nsecret_access_key = "bench"',
        shared,
        count=1,
        flags=re.M,
    )
    (directory / "flotod.toml").write_text(shared)


def register(directory: Path) -> None:
    """``flotod register``, as an operator does once before starting the services."""
    subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", "register", "--config", str(directory)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def start(name: str, directory: Path, notify: NotifySocket) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify.path)}
    env.pop("JOURNAL_STREAM", None)
    with open(directory / f"{name}.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flotod.cli.services", name, "--config", str(directory)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def measure(idle_seconds: float, poll_timeout: float) -> list[Footprint]:
    directory = OUT_DIR / "footprint"
    directory.mkdir(parents=True, exist_ok=True)
    with local_swf(poll_timeout, directory / "local-swf.log") as url:
        write_configs(directory, url)
        register(directory)
        notify = NotifySocket(directory / "notify.sock")
        procs: dict[str, subprocess.Popen[bytes]] = {}
        rows = {name: Footprint(name) for name in SERVICES}
        try:
            for name in SERVICES:
                began = time.monotonic()
                procs[name] = start(name, directory, notify)
                notify.wait_ready([procs[name].pid], timeout=30)
                rows[name].ready_s = notify.ready[procs[name].pid] - began
            ready_at = {name: notify.ready[proc.pid] for name, proc in procs.items()}
            time.sleep(2)  # let the first polls go out: idle means waiting in a poll
            before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
            began = time.monotonic()
            time.sleep(idle_seconds)
            window = time.monotonic() - began
            for name, proc in procs.items():
                rows[name].idle_percent = 100 * (cpu_seconds(proc.pid) - before[name]) / window
                rows[name].rss_mib = rss_mib(proc.pid)
            began = time.monotonic()
            for proc in procs.values():
                proc.send_signal(signal.SIGTERM)
            for name, at in ready_at.items():
                rows[name].poll_left_s = poll_timeout - (began - at) % poll_timeout
            pending = dict(procs)
            while pending and time.monotonic() - began < poll_timeout + 30:
                for name, proc in list(pending.items()):
                    if proc.poll() is not None:
                        rows[name].stop_s = time.monotonic() - began
                        rows[name].exit_code = proc.returncode
                        del pending[name]
                time.sleep(0.01)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            notify.close()
    return [rows[name] for name in SERVICES]


def section(rows: list[Footprint], idle_seconds: float, poll_timeout: float, quick: bool) -> str:
    def mark(ok: bool) -> str:
        return "" if ok else " **(missed)**"

    lines = [
        f"{HEADING} (`bench/footprint.py`)",
        "",
        f"Run: `.venv/bin/python bench/footprint.py{' --quick' if quick else ''} --write`. "
        f"Machine: {machine()}; measured {time.strftime('%Y-%m-%d')}.",
        "Each service runs from the packaged configs (etc/: the hello decider, the hello worker "
        "with concurrency 10, the daemon) against `flotod local-swf` with a poll timeout of "
        f"{poll_timeout:g} s. Ready = exec to the `READY=1` datagram on $NOTIFY_SOCKET, one "
        f"service at a time; memory = VmRSS and CPU = utime+stime over {idle_seconds:g} s idle; "
        "stop = SIGTERM (all three at once) to exit.",
        "",
        "| service | ready | RSS | idle CPU | SIGTERM to exit | poll left at SIGTERM | exit |",
        "| :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for row in rows:
        lines.append(
            f"| flotod-{row.name} | {row.ready_s:.2f} s{mark(row.ready_s < TARGET_READY_S)} "
            f"| {row.rss_mib:.1f} MiB{mark(row.rss_mib < TARGET_RSS_MIB)} "
            f"| {row.idle_percent:.2f} %{mark(row.idle_percent < TARGET_IDLE_PERCENT)} "
            f"| {row.stop_s:.2f} s{mark(row.stop_s < TARGET_STOP_S)} "
            f"| {row.poll_left_s:.2f} s | {row.exit_code} |"
        )
    lines += [
        "",
        f"Targets: ready < {TARGET_READY_S:g} s, stop < {TARGET_STOP_S:g} s, RSS < "
        f"{TARGET_RSS_MIB:g} MB, idle CPU < {TARGET_IDLE_PERCENT:g} % of one core.",
        "",
        "An idle service is always inside a long poll; a warm stop does not wait for it (the "
        "poll-left column is what waiting would have cost: the rest of the poll, up to "
        f"{poll_timeout:g} s here, 60 s on SWF). Work in hand is drained first. A task SWF "
        "still hands to the abandoned poll is not lost: a decision task is handed out again "
        "when its decision task timeout passes, an activity task when its heartbeat timeout "
        "passes (the README says how long each waits).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="15 s idle window, 20 s polls")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    idle_seconds, poll_timeout = (15.0, 20.0) if args.quick else (60.0, 60.0)
    rows = measure(idle_seconds, poll_timeout)
    text = section(rows, idle_seconds, poll_timeout, args.quick)
    print(text)
    if args.write:
        replace_section(HEADING, text)
        print("wrote bench/RESULTS.md")
    return 0 if all(row.exit_code == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
