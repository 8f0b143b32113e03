"""``flotod workflow start|list|show|history|signal|cancel|terminate``: executions by hand.

Every subcommand takes the workflow id an operator knows; the run id defaults to the newest
run with that id, so nobody has to copy run ids around. ``--json`` prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flotod.cli import output
from flotod.cli.executions import (
    attributes,
    latest_run_id,
    outcome_from_history,
    resolve,
    wait_for_outcome,
)
from flotod.cli.operator import Target, add_connection_arguments, resolve_target
from flotod.cli.repeats import repeats
from flotod.cli.timeline import timeline
from flotod.engine.attributes import attributes_key
from flotod.errors import EX_DATAERR, EX_OK, EX_USAGE, FlotodError
from flotod.swf.limits import MAX_DATA

EX_NOT_COMPLETED = 1  # the workflow closed, but not as completed
EX_UNRESOLVED = EX_DATAERR  # it closed, but its result is in S3 and cannot be read
DEFAULT_VERSION = "v1"
CLOSE_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT")

HELP = "Start, list, inspect, signal, cancel and terminate workflow executions"


class UsageError(FlotodError):
    exit_code = EX_USAGE


def read_input(value: str | None) -> str | None:
    """``--input``: JSON text as given; ``@file`` (``@-`` for stdin) read first; any other
    text is sent as a JSON string, since deciders read the input as JSON."""
    if value is None:
        return None
    if value.startswith("@"):
        name = value[1:]
        try:
            value = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read input file {name}: {exc.strerror or exc}") from None
    try:
        json.loads(value)
    except ValueError:
        return json.dumps(value)
    return value


def encoded_input(
    target: Target, text: str | None, *, workflow_id: str, run_id: str, name: str
) -> str | None:
    """``text`` as it goes to SWF: kept in S3 past the [payloads] threshold; refused with a
    clear message when too long for SWF and no bucket is configured."""
    if text is None:
        return None
    if not target.payloads.enabled and len(text) > MAX_DATA:
        raise UsageError(
            f"input is {len(text):,} characters and SWF takes at most {MAX_DATA:,}: set "
            "[payloads] s3_bucket to keep large values in S3"
        )
    return target.payloads.encode(text, workflow_id=workflow_id, run_id=run_id, name=name)


def split_type(value: str) -> tuple[str, str]:
    name, _, version = value.partition(":")
    if not name:
        raise UsageError(f"workflow type {value!r}: expected NAME or NAME:VERSION")
    return name, version or DEFAULT_VERSION


def _run_id(target: Target, args: argparse.Namespace) -> str:
    return args.run_id or latest_run_id(target.swf, target.domain, args.workflow_id)


# -- start ------------------------------------------------------------------------------------


def _start(args: argparse.Namespace, target: Target) -> int:
    name, version = split_type(args.type)
    workflow_id = args.id or f"{name}-{uuid.uuid4().hex[:12]}"
    # SWF gives the run id only once the run exists: the object goes under "no-run".
    text = encoded_input(
        target, read_input(args.input), workflow_id=workflow_id, run_id="", name="input"
    )
    run_id = target.swf.start_workflow_execution(
        target.domain,
        workflow_id,
        name,
        version,
        task_list=args.task_list,
        input=text,
        execution_start_to_close=args.execution_timeout,
        tags=args.tag or None,
    )
    if not args.wait:
        if args.json:
            output.print_json({"workflow_id": workflow_id, "run_id": run_id})
        else:
            print(f"started {workflow_id} (run {run_id})")
        return EX_OK
    progress = output.Progress()
    progress.update(f"{workflow_id}: running")
    try:
        outcome = wait_for_outcome(
            target.swf,
            target.domain,
            workflow_id,
            run_id,
            timeout=args.timeout,
            interval=args.interval,
            on_tick=lambda s: progress.update(f"{workflow_id}: running {output.duration(s)}"),
            payloads=target.payloads,
        )
    finally:
        progress.done()
    if args.json:
        output.print_json(
            {
                "workflow_id": workflow_id,
                "run_id": run_id,
                "status": outcome.status,
                "result": outcome.result,
                "reason": outcome.reason,
                "details": outcome.details,
                "seconds": outcome.seconds,
                "unresolved": outcome.unresolved,
            }
        )
    elif outcome.unresolved:
        print(
            f"{workflow_id}: {outcome.status}: {_unresolved(outcome.unresolved)}", file=sys.stderr
        )
    elif outcome.status == "COMPLETED":
        text = outcome.result if isinstance(outcome.result, str) else json.dumps(outcome.result)
        print(output.printable(text, keep_lines=True))
    else:
        print(
            f"{workflow_id}: {outcome.status}: {output.printable(outcome.reason or '')} "
            f"{output.shorten(outcome.details, 200) if outcome.details else ''}".rstrip(),
            file=sys.stderr,
        )
    if outcome.unresolved:
        return EX_UNRESOLVED
    return EX_OK if outcome.status == "COMPLETED" else EX_NOT_COMPLETED


def _unresolved(note: str) -> str:
    """One line for a value kept in S3 that cannot be shown: what went wrong, escaped."""
    return f"value not resolved: {output.printable(note)}"


# -- list -------------------------------------------------------------------------------------


def _list(args: argparse.Namespace, target: Target) -> int:
    name, version = split_type(args.type) if args.type else (None, None)
    if args.type and ":" not in args.type:
        version = None
    oldest = datetime.now(UTC) - timedelta(hours=args.hours)
    common: dict[str, Any] = {
        "oldest_start": oldest,
        "workflow_id": args.id,
        "type_name": name,
        "type_version": version,
        "tag": args.tag,
    }
    if args.closed or args.status:
        infos = target.swf.list_closed_workflow_executions(
            target.domain, close_status=args.status, **common
        )
    else:
        infos = target.swf.list_open_workflow_executions(target.domain, **common)
    infos.sort(key=lambda i: i.get("startTimestamp") or datetime.min.replace(tzinfo=UTC))
    if args.json:
        output.print_json(infos)
        return EX_OK
    rows = []
    for info in infos:
        started = info.get("startTimestamp")
        closed = info.get("closeTimestamp")
        took = (closed - started).total_seconds() if started and closed else None
        wtype = info.get("workflowType", {})
        rows.append(
            [
                info["execution"]["workflowId"],
                f"{wtype.get('name')}:{wtype.get('version')}",
                info.get("closeStatus") or info.get("executionStatus", ""),
                output.clock(started),
                output.duration(took),
                info["execution"]["runId"],
            ]
        )
    output.table(["WORKFLOW ID", "TYPE", "STATUS", "STARTED", "TOOK", "RUN ID"], rows)
    return EX_OK


# -- show -------------------------------------------------------------------------------------


def _pending_activities(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Activities scheduled and not yet closed, from the history (SWF only counts them)."""
    open_ones: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event["eventType"]
        if kind == "ActivityTaskScheduled":
            attrs = event["activityTaskScheduledEventAttributes"]
            open_ones[event["eventId"]] = {
                "activity_id": attrs["activityId"],
                "type": f"{attrs['activityType']['name']}:{attrs['activityType']['version']}",
                "scheduled": event["eventTimestamp"],
                "started": False,
            }
        elif kind.startswith("ActivityTask") and kind != "ActivityTaskCancelRequested":
            attrs = event[attributes_key(kind)]
            scheduled = attrs.get("scheduledEventId")
            if kind == "ActivityTaskStarted" and scheduled in open_ones:
                open_ones[scheduled]["started"] = True
            elif kind != "ActivityTaskStarted":
                open_ones.pop(scheduled, None)
    return list(open_ones.values())


def _show(args: argparse.Namespace, target: Target) -> int:
    run_id = _run_id(target, args)
    described = target.swf.describe_workflow_execution(target.domain, args.workflow_id, run_id)
    events = target.swf.get_workflow_execution_history(target.domain, args.workflow_id, run_id)
    info = described.get("executionInfo", {})
    outcome = outcome_from_history(events, target.payloads)
    pending = _pending_activities(events)
    counts = described.get("openCounts", {})
    chain = repeats(
        target.swf,
        target.domain,
        args.workflow_id,
        run_id,
        info.get("startTimestamp"),
        events,
        target.payloads,
    )
    if args.json:
        started = attributes(events[0]) if events else {}
        given, given_note = resolve(started.get("input"), target.payloads)
        output.print_json(
            {
                "execution": info,
                "input": given,
                "input_unresolved": given_note,
                "open_counts": counts,
                "pending_activities": pending,
                "outcome": None if outcome is None else outcome.__dict__,
                "repeats": None if chain is None else chain.__dict__,
            }
        )
        return EX_OK
    wtype = info.get("workflowType", {})
    started = info.get("startTimestamp")
    closed = info.get("closeTimestamp")
    lines = [
        ("workflow", f"{args.workflow_id} (run {run_id})"),
        ("type", f"{wtype.get('name')}:{wtype.get('version')}"),
        ("status", info.get("closeStatus") or info.get("executionStatus", "?")),
        ("started", output.clock(started)),
    ]
    if closed:
        lines.append(
            (
                "closed",
                f"{output.clock(closed)} ({output.duration(outcome.seconds if outcome else None)})",
            )
        )
    else:
        open_text = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)
        lines.append(("open", open_text or "nothing"))
    for item in pending:
        state = "running" if item["started"] else "waiting for a worker"
        lines.append(("pending", f"{item['activity_id']} ({item['type']}) {state}"))
    if outcome is not None and outcome.unresolved:
        lines.append(("note", _unresolved(outcome.unresolved)))
    if outcome is not None and outcome.status == "COMPLETED":
        lines.append(("result", _value(outcome.result, 200, args.full)))
    elif outcome is not None:
        lines.append(("reason", output.printable(outcome.reason or "-")))
        if outcome.details is not None:
            lines.append(("details", _value(outcome.details, 400, args.full)))
    if chain is not None:
        lines.append(("runs", f"{chain.runs} (repeat_workflow: each run continues as new)"))
        if chain.result_run_id is None:
            lines.append(("last result", "none recorded yet"))
        else:
            shown = _value(chain.result, 200, args.full)
            lines.append(("last result", f"{shown} (run {chain.result_run_id})"))
            if chain.unresolved:
                lines.append(("note", _unresolved(chain.unresolved)))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        if value.startswith("\n"):  # a multi-line value: the key alone, the value below it
            print(key + value)
        else:
            print(f"{key.ljust(width)}  {value}")
    return EX_OK


def _value(value: Any, width: int, full: bool) -> str:
    """A result or failure details for ``show``: one line cut with a marker, or with
    ``full`` every line of it (JSON pretty-printed) on lines of its own, indented, so no line
    of the data can pass for one of show's fields. Both escaped for the terminal."""
    if not full:
        return output.shorten(value, width, hint="--full shows all")
    text = value if isinstance(value, str) else output.json_text(value, indent=2)
    if "\n" not in text and len(text) <= width:
        return output.printable(text)
    body = output.printable(text, keep_lines=True).expandtabs(8)
    return "".join(f"\n  {line}" for line in body.splitlines())


# -- history ----------------------------------------------------------------------------------


def _history(args: argparse.Namespace, target: Target) -> int:
    run_id = _run_id(target, args)
    events = target.swf.get_workflow_execution_history(target.domain, args.workflow_id, run_id)
    if args.json:
        output.print_json(events)
        return EX_OK
    rows = [
        [
            output.clock(row.time),
            "+" + output.duration(row.offset),
            row.event,
            row.task or "-",
            output.duration(row.duration) if row.duration is not None else "",
            row.detail,
        ]
        for row in timeline(events, include_decisions=args.all)
    ]
    output.table(["TIME", "AT", "EVENT", "TASK", "TOOK", "DETAIL"], rows)
    return EX_OK


# -- signal, cancel, terminate ----------------------------------------------------------------


def _signal(args: argparse.Namespace, target: Target) -> int:
    text = encoded_input(
        target,
        read_input(args.input),
        workflow_id=args.workflow_id,
        run_id=args.run_id or "",
        name=f"signal.{args.signal}",
    )
    target.swf.signal_workflow_execution(
        target.domain, args.workflow_id, args.signal, text, args.run_id
    )
    print(f"signalled {args.workflow_id}: {args.signal}")
    return EX_OK


def _cancel(args: argparse.Namespace, target: Target) -> int:
    target.swf.request_cancel_workflow_execution(target.domain, args.workflow_id, args.run_id)
    print(f"cancel requested for {args.workflow_id}")
    return EX_OK


def _terminate(args: argparse.Namespace, target: Target) -> int:
    target.swf.terminate_workflow_execution(
        target.domain, args.workflow_id, args.run_id, reason=args.reason, details=args.details
    )
    print(f"terminated {args.workflow_id}")
    return EX_OK


# -- arguments --------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    add_connection_arguments(parser)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _execution(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    parser.add_argument("--run-id", help="a specific run (default: the newest)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="workflow_command", metavar="ACTION")
    p = sub.add_parser("start", help="start an execution (and optionally wait for its result)")
    p.add_argument("type", metavar="TYPE", help="workflow type NAME or NAME:VERSION (v1)")
    p.add_argument("--id", help="workflow id (default: TYPE-<random>)")
    p.add_argument("--input", help="JSON input, or @FILE, or @- for stdin")
    p.add_argument("--task-list", help="decision task list (default: the type's)")
    p.add_argument("--tag", action="append", help="a tag (up to 5)")
    p.add_argument(
        "--execution-timeout",
        type=int,
        metavar="SECONDS",
        help="most seconds the execution may run (default: the workflow type's)",
    )
    p.add_argument("--wait", action="store_true", help="wait until it closes; print the result")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting after this")
    p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    _common(p)
    p.set_defaults(action=_start)

    p = sub.add_parser("list", help="list open (default) or closed executions")
    p.add_argument("--closed", action="store_true", help="closed executions instead of open")
    p.add_argument("--status", choices=CLOSE_STATUSES, help="closed with this status")
    p.add_argument("--type", help="NAME or NAME:VERSION")
    p.add_argument("--id", help="this workflow id only")
    p.add_argument("--tag", help="this tag only")
    p.add_argument("--hours", type=float, default=24.0, help="started within (default 24)")
    _common(p)
    p.set_defaults(action=_list)

    p = sub.add_parser("show", help="status, pending tasks, result or failure")
    _execution(p)
    p.add_argument(
        "--full",
        action="store_true",
        help="print the result or failure details whole (default: one line, cut with a marker)",
    )
    _common(p)
    p.set_defaults(action=_show)

    p = sub.add_parser("history", help="the execution's events as a timeline")
    _execution(p)
    p.add_argument("--all", action="store_true", help="include decision-task events")
    _common(p)
    p.set_defaults(action=_history)

    p = sub.add_parser("signal", help="send a signal")
    p.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    p.add_argument(
        "signal", metavar="SIGNAL_NAME", help="the signal's name, as the decider expects it"
    )
    p.add_argument("--input", help="JSON input, or @FILE, or @- for stdin")
    p.add_argument("--run-id", help="a specific run (default: the open one)")
    _common(p, json_flag=False)
    p.set_defaults(action=_signal)

    p = sub.add_parser("cancel", help="ask the execution to cancel (its decider decides)")
    p.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    p.add_argument("--run-id", help="a specific run (default: the open one)")
    _common(p, json_flag=False)
    p.set_defaults(action=_cancel)

    p = sub.add_parser("terminate", help="end the execution now")
    p.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    p.add_argument("--run-id", help="a specific run (default: the open one)")
    p.add_argument(
        "--reason",
        default="terminated by an operator",
        help="recorded in the history as the termination's reason",
    )
    p.add_argument("--details", help="recorded in the history as the termination's details")
    _common(p, json_flag=False)
    p.set_defaults(action=_terminate)


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action is None:
        raise UsageError(
            "expected an action: start, list, show, history, signal, cancel, terminate"
        )
    if getattr(args, "status", None) and getattr(args, "type", None):
        raise UsageError("SWF filters by one of --status, --type, --id, --tag at a time")
    code: int = action(args, resolve_target(args))
    return code
