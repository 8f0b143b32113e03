"""A stand-in service process that proves the unit files' sandbox and lifecycle on real systemd.

The system test runs it in place of ``flotod-worker`` (through a drop-in that replaces
ExecStart=) inside the booted container, with the container's Debian python3 and packages.
It does what the real services promise systemd, nothing more: READY=1 and STATUS= text, a
watchdog ping while its loop runs, RELOADING=1/READY=1 on SIGHUP, a graceful drain on SIGTERM,
exit 78 on a "bad config", a journal record with native upper-case fields, and boto3
resolving the credential that the unit hands over. So unit-level behaviour is proven even
before (and independently of) the services themselves.

Usage: probe.py {serve|bad-config}
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
from types import FrameType
from typing import Any

import boto3
import sdnotify

import flotod

# Debian's python3-systemd; imported by name because the repo's systemd/ directory (unit files)
# would otherwise shadow it for the type checker.
journal: Any = importlib.import_module("systemd.journal")

DRAIN_SECONDS = 3.0
EX_CONFIG = 78


class Flags:
    """Signal handlers only record; the loop acts (so no work happens inside a handler)."""

    stop = False
    reload = False


def _on_term(_signum: int, _frame: FrameType | None) -> None:
    Flags.stop = True


def _on_hup(_signum: int, _frame: FrameType | None) -> None:
    Flags.reload = True


def _monotonic_usec() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def _credential_summary() -> str:
    """Which access key boto3 resolved: proves LoadCredential=/SetCredential= end to end."""
    path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "")
    creds = boto3.session.Session(region_name="us-east-1").get_credentials()
    key = creds.access_key if creds is not None else "none"
    return f"credentials_file={path} exists={os.path.exists(path)} access_key={key}"


def serve() -> int:
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_hup)
    notifier = sdnotify.SystemdNotifier()
    journal.send(
        f"probe started flotod={flotod.__version__} {_credential_summary()}",
        WORKFLOW_ID="probe-wf-1",
        RUN_ID="probe-run-1",
        SYSLOG_IDENTIFIER="flotod-probe",
    )
    notifier.notify("READY=1\nSTATUS=probe polling task list probe_activities")
    while not Flags.stop:
        if Flags.reload:
            Flags.reload = False
            notifier.notify(f"RELOADING=1\nMONOTONIC_USEC={_monotonic_usec()}")
            journal.send("probe reloaded its configuration", SYSLOG_IDENTIFIER="flotod-probe")
            notifier.notify("READY=1\nSTATUS=probe reloaded")
        notifier.notify("WATCHDOG=1")
        time.sleep(0.5)
    notifier.notify("STOPPING=1\nSTATUS=probe draining")
    journal.send("probe draining", SYSLOG_IDENTIFIER="flotod-probe")
    time.sleep(DRAIN_SECONDS)
    journal.send("probe drained", SYSLOG_IDENTIFIER="flotod-probe")
    return 0


def bad_config() -> int:
    print(
        "config error: /etc/flotod/worker.toml: [worker.probe] task_list: required", file=sys.stderr
    )
    return EX_CONFIG


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "serve"
    sys.exit(serve() if mode == "serve" else bad_config())
