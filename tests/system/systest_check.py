"""Checks the system test runs on the host over what the container printed.

The shell steps drive the container (systemctl, journalctl, flotod's operator command); the
JSON those print is judged here, with the project's own examples as the expected values, so
no expected result is written twice. Each command reads stdin, exits 0 when the check holds,
and otherwise prints one line saying what was found and exits 1.

Usage (run with the project's virtualenv python):
  systest_check.py signal-input hello|nap WORKFLOW_ID DOMAIN   the daemon signal's input (JSON)
  systest_check.py outcome hello|nap                     start --wait --json or show --json
  systest_check.py result JSON                           the same, with this result (no spaces)
  systest_check.py running ACTIVITY_ID                   show --json: that activity started
  systest_check.py completed ACTIVITY_ID                 history --json: it completed, once
  systest_check.py journal WORKFLOW_ID ACTIVITY_ID...    journalctl -o json of one workflow
  systest_check.py drained ACTIVITY_ID                   journalctl -o json of a worker stop
  systest_check.py notify PID                            PID 1's debug lines: reload sequence
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flotod.examples import hello, via_daemon
from flotod.specs import DeciderSpec

# The nap module sits next to this file; the container imports it by this top-level name.
sys.path.insert(0, str(Path(__file__).resolve().parent))
nap = importlib.import_module("flotod_systest_nap")

SPECS: dict[str, tuple[DeciderSpec, Any]] = {
    "hello": (hello.SPEC, hello.EXPECTED_RESULT),
    "nap": (nap.SPEC, nap.EXPECTED_RESULT),
}


class CheckFailed(Exception):
    """What was found instead of what was expected; printed as the step's failure."""


def _records(text: str) -> list[dict[str, Any]]:
    """journalctl -o json: one object a line (a field seen twice in a record is a list)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _field(record: dict[str, Any], name: str) -> str:
    value = record.get(name, "")
    return str(value[-1] if isinstance(value, list) and value else value)


def signal_input(args: Sequence[str]) -> str:
    """The daemon runs a child's spec only in its own domain: the operator's, in this test."""
    spec, _ = SPECS[args[0]]
    spec = copy.copy(spec)
    spec.domain = args[2]
    return json.dumps({**via_daemon.signal_input(spec), "workflow_id": args[1]})


def outcome(args: Sequence[str], text: str) -> str:
    """Both ``start --wait --json`` and ``show --json`` carry status and decoded result."""
    _, expected = SPECS[args[0]]
    return _completed_with(expected, text)


def result(args: Sequence[str], text: str) -> str:
    return _completed_with(json.loads(args[0]), text)


def _completed_with(expected: Any, text: str) -> str:
    data = json.loads(text)
    got = data.get("outcome") if "outcome" in data else data
    if not got:
        raise CheckFailed(f"no outcome yet: {text.strip()[:300]}")
    if got.get("status") != "COMPLETED" or got.get("result") != expected:
        raise CheckFailed(
            f"expected COMPLETED with {expected!r}, got {got.get('status')} "
            f"result={got.get('result')!r} reason={got.get('reason')!r}"
        )
    return f"COMPLETED with {got['result']!r}"


def running(args: Sequence[str], text: str) -> str:
    pending = json.loads(text).get("pending_activities", [])
    if not any(p.get("activity_id") == args[0] and p.get("started") for p in pending):
        raise CheckFailed(f"{args[0]} is not running: pending={pending!r}")
    return f"{args[0]} is running"


def completed(args: Sequence[str], text: str) -> str:
    """SWF recorded the activity's result: a drained stop reported it, nothing retried it."""
    activity_id = args[0]
    scheduled: set[int] = set()
    closes: list[str] = []
    for event in json.loads(text):
        kind = str(event.get("eventType"))
        attrs = event.get(kind[0].lower() + kind[1:] + "EventAttributes", {})
        if kind == "ActivityTaskScheduled" and attrs.get("activityId") == activity_id:
            scheduled.add(int(event["eventId"]))
        elif (
            kind.startswith("ActivityTask")
            and attrs.get("scheduledEventId") in scheduled
            and kind not in ("ActivityTaskStarted", "ActivityTaskCancelRequested")
        ):
            closes.append(kind)
    if closes != ["ActivityTaskCompleted"]:
        raise CheckFailed(f"{activity_id}: {len(scheduled)} scheduled, closed by {closes}")
    return f"{activity_id} completed once in the history"


def journal(args: Sequence[str], text: str) -> str:
    """The workflow's records name it, and every activity has a started and a completed one."""
    workflow_id, activity_ids = args[0], args[1:]
    records = _records(text)
    strangers = [r for r in records if _field(r, "WORKFLOW_ID") != workflow_id]
    if not records or strangers:
        raise CheckFailed(f"{len(records)} records, {len(strangers)} not of {workflow_id}")
    for activity_id in activity_ids:
        events = {_field(r, "EVENT") for r in records if _field(r, "ACTIVITY_ID") == activity_id}
        if not {"activity.started", "activity.completed"} <= events:
            raise CheckFailed(f"records of activity {activity_id}: events {sorted(events)}")
    return f"{len(records)} records of {workflow_id}, ACTIVITY_ID on each activity's"


def drained(args: Sequence[str], text: str) -> str:
    """The stop began with the activity running, the activity completed, then the service
    stopped with everything drained: in that order, from one process."""
    activity_id = args[0]
    order: list[str] = []
    for record in _records(text):
        event = _field(record, "EVENT")
        if event == "service.stopping" and _field(record, "IN_HAND") not in ("", "0"):
            order.append("stopping with a running activity")
        elif event == "activity.completed" and _field(record, "ACTIVITY_ID") == activity_id:
            order.append("activity completed")
        elif event == "service.stopped" and _field(record, "DRAIN") == "drained":
            order.append("stopped drained")
    wanted = ["stopping with a running activity", "activity completed", "stopped drained"]
    it = iter(order)
    if not all(step in it for step in wanted):  # a subsequence, in this order
        raise CheckFailed(f"expected {wanted} in order; the journal shows {order}")
    return " -> ".join(wanted)


def notify(args: Sequence[str], text: str) -> str:
    """systemd (debug level) logs every notification: RELOADING=1, then READY=1, same PID."""
    pid = args[0]
    pattern = re.compile(rf"Got notification message from PID {pid} \((.*)\)")
    messages = [m.group(1) for m in map(pattern.search, text.splitlines()) if m]
    reloading = [i for i, m in enumerate(messages) if "RELOADING=1" in m]
    if not reloading or not any("READY=1" in m for m in messages[reloading[0] + 1 :]):
        wanted = [m for m in messages if m != "WATCHDOG=1"]
        raise CheckFailed(f"no RELOADING=1 then READY=1 from PID {pid}: {wanted[-6:]}")
    return f"PID {pid}: RELOADING=1 then READY=1"


CHECKS: dict[str, Callable[[Sequence[str], str], str]] = {
    "outcome": outcome,
    "result": result,
    "running": running,
    "completed": completed,
    "journal": journal,
    "drained": drained,
    "notify": notify,
}


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    if command == "signal-input":
        print(signal_input(args))
        return 0
    try:
        print(CHECKS[command](args, sys.stdin.read()))
    except CheckFailed as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
