"""Sticky deciders: what routing a run's decision tasks back to the decider holding it saves.

Run as ``.venv/bin/python -m bench.sticky [--quick] [--write] [--per-task-only]``. Two parts:

1. One decider in-process against ``flotod local-swf``: the decider CPU (poll, read, replay,
   decide) and SWF calls of one decision task of a run of ~100 and ~5,000 events, when the
   decider holds the run (its own list, read with startAtPreviousStartedEvent or with the
   newest-first pages) and when it does not (the whole history, as a decider that misses).
2. A fleet: 4 ``flotod-decider`` processes on one task list and 2 workers, 40 workflows at
   once (half a chain of activities, half first driven long by signals, then the chain),
   sticky on and off in alternating order, several rounds; then a round in which one decider
   is killed (SIGKILL) mid-run and one in which one is stopped (SIGTERM) mid-run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import sticky_flows as flows
from bench.common import (
    OUT_DIR,
    REPO_ROOT,
    NotifySocket,
    boto_client,
    cpu_seconds,
    local_swf_process,
    machine,
    replace_section,
)
from flotod.engine.handlers import SpecHandler
from flotod.swf import SwfClient
from flotod.swf.histories import HistoryCache

HEADING = "## Sticky deciders (`bench/sticky.py`)"
STICKY = "bench-sticky-own"
TIMEOUT = 5  # sticky_schedule_to_start_seconds and decision_timeout_seconds of the fleet
POLL_TIMEOUT = 5.0
DECIDERS = 4
WORKERS = 2
WORKFLOWS = 40

# -- part 1: one decision task, held or not ------------------------------------------------------


class Calls:
    """Counts the SWF calls a client makes."""

    def __init__(self, swf: SwfClient) -> None:
        self.count = 0
        real = swf.call

        def call(operation: str, **params: Any) -> dict[str, Any]:
            self.count += 1
            return real(operation, **params)

        swf.call = call  # type: ignore[method-assign]


MODES = ("held: startAtPreviousStartedEvent", "held: newest-first pages", "not held")


def _grow(driver: Any, swf: SwfClient, workflow_id: str, events: int) -> None:
    while True:
        task = swf.poll_for_decision_task(flows.DOMAIN, flows.DECISION_TASK_LIST)
        assert task is not None
        if task.started_event_id >= events:
            swf.respond_decision_task_completed(task.task_token, [], task_list=STICKY)
            return
        swf.respond_decision_task_completed(task.task_token, [])
        for n in range(min(400, (events - task.started_event_id) // 4 + 1)):
            driver.signal_workflow_execution(
                domain=flows.DOMAIN, workflowId=workflow_id, signalName=f"s{n}", input="{}"
            )


def per_task(sizes: tuple[int, ...], tasks: int) -> list[tuple[str, int, float, float, float]]:
    """Rows (mode, events, decider ms, calls, endpoint ms) per decision task."""
    rows = []
    spec = flows.SPEC
    with local_swf_process(poll_timeout=2.0) as (url, server):
        driver = boto_client(url)
        swf = SwfClient(url, "us-east-1", access_key_id="bench", secret_access_key="bench")
        swf.register_domain(flows.DOMAIN)
        swf.register_workflow_type(
            flows.DOMAIN, *flows.WORKFLOW, task_list=flows.DECISION_TASK_LIST
        )
        calls = Calls(swf)
        for size in sizes:
            for mode in MODES:
                workflow_id = f"long-{size}-{mode[:8]}"
                swf.start_workflow_execution(flows.DOMAIN, workflow_id, *flows.WORKFLOW, input={})
                _grow(driver, swf, workflow_id, size)
                cache, handler = HistoryCache(100_000), SpecHandler(spec, max_events=100_000)
                cpu = server_cpu = 0.0
                reads = 0
                events = 0
                for n in range(tasks + 1):
                    driver.signal_workflow_execution(
                        domain=flows.DOMAIN, workflowId=workflow_id, signalName=f"t{n}", input=""
                    )
                    if mode == "not held":
                        cache, handler = HistoryCache(100_000), SpecHandler(spec, 100_000)
                    before, s0, c0 = calls.count, cpu_seconds(server), time.thread_time()
                    task = swf.poll_for_decision_task(
                        flows.DOMAIN,
                        STICKY,
                        history=cache,
                        since_previous=mode.endswith("Event"),
                    )
                    assert task is not None and len(task.events) == task.started_event_id
                    handler(task)
                    c1, s1 = time.thread_time(), cpu_seconds(server)
                    swf.respond_decision_task_completed(task.task_token, [], task_list=STICKY)
                    if n == 0:  # the first task fills the cache and replay state: not counted
                        continue
                    cpu += c1 - c0
                    server_cpu += s1 - s0
                    reads += calls.count - before
                    events = task.started_event_id
                swf.terminate_workflow_execution(flows.DOMAIN, workflow_id)
                rows.append(
                    (mode, events, cpu / tasks * 1e3, reads / tasks, server_cpu / tasks * 1e3)
                )
                print(f"{mode:34} {events:5} events: {rows[-1][2]:.2f} ms {rows[-1][3]:.2f} calls")
    return rows


# -- part 2: the fleet -------------------------------------------------------------------------


@dataclass
class Fleet:
    sticky: bool
    event: str = ""  # "", "kill" or "stop"
    seconds: float = 0.0
    decider_cpu: float = 0.0
    decision_tasks: int = 0
    completed: int = 0
    logged: int = 0
    held: int = 0
    firsts: int = 0  # each run's first task: nothing can be held
    one_identity: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    timeouts: collections.Counter[str] = field(default_factory=collections.Counter)
    routed_back: int = 0  # answers of the stopped decider that named the shared list
    notes: list[str] = field(default_factory=list)

    @property
    def cpu_ms(self) -> float:
        return self.decider_cpu / max(1, self.decision_tasks) * 1e3

    @property
    def held_share(self) -> float:
        return self.held / max(1, self.logged - self.firsts)


def _write_configs(directory: Path, url: str, sticky: bool) -> None:
    (directory / "flotod.toml").write_text(
        f'[swf]\nendpoint_url = "{url}"\ndomain = "{flows.DOMAIN}"\n'
        'access_key_id = "bench"\nsecret_access_key = "bench"\n\n'
        '[logging]\nlevel = "info"\nformat = "json"\n'
    )
    (directory / "decider.toml").write_text(
        f'[decider.bench]\ntask_list = "{flows.DECISION_TASK_LIST}"\n'
        'spec_object = "bench.sticky_flows:SPEC"\n'
        f'workflow_type_name = "{flows.WORKFLOW[0]}"\n'
        f'workflow_type_version = "{flows.WORKFLOW[1]}"\n'
        f"sticky = {'true' if sticky else 'false'}\nsticky_schedule_to_start_seconds = {TIMEOUT}\n"
        f"decision_timeout_seconds = {TIMEOUT}\nhistory_cache_events = 100000\n"
        "drain_timeout_seconds = 10\n"
    )
    (directory / "worker.toml").write_text(
        f'[worker.bench]\ntask_list = "{flows.ACTIVITY_TASK_LIST}"\n'
        'modules = ["bench.sticky_flows"]\nconcurrency = 32\ndrain_timeout_seconds = 10\n'
    )


def _history(client: Any, execution: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    while True:
        page = client.get_workflow_execution_history(
            domain=flows.DOMAIN, execution=execution, maximumPageSize=1000, **extra
        )
        events += page["events"]
        if not page.get("nextPageToken"):
            return events
        extra = {"nextPageToken": page["nextPageToken"]}


def _length(client: Any, workflow_id: str, run_id: str) -> int:
    page = client.get_workflow_execution_history(
        domain=flows.DOMAIN,
        execution={"workflowId": workflow_id, "runId": run_id},
        maximumPageSize=1,
        reverseOrder=True,
    )
    return int(page["events"][0]["eventId"])


def _seconds(event: dict[str, Any]) -> float:
    stamp = event["eventTimestamp"]
    return stamp.timestamp() if isinstance(stamp, datetime) else float(stamp)


def decision_waits(events: list[dict[str, Any]]) -> list[float]:
    """Seconds from each decision falling due (the first DecisionTaskScheduled after the
    previous answer) to the start of the task that was answered, timed-out tasks included."""
    waits: list[float] = []
    due: float | None = None
    started: float | None = None
    for event in events:
        kind = event["eventType"]
        if kind == "DecisionTaskScheduled" and due is None:
            due = _seconds(event)
        elif kind == "DecisionTaskStarted":
            started = _seconds(event)
        elif kind == "DecisionTaskCompleted" and due is not None and started is not None:
            waits.append(started - due)
            due = started = None
    return waits


def _drive(
    client: Any, runs: dict[str, str], target: int, holds: Path, stop: threading.Event
) -> None:
    """Signal each held run until its history has ``target`` events, then open its gate."""
    left = dict(runs)
    n = 0
    while left and not stop.is_set():
        for workflow_id, run_id in list(left.items()):
            client.signal_workflow_execution(
                domain=flows.DOMAIN, workflowId=workflow_id, signalName=f"s{n}", input=""
            )
            if n % 20 == 19 and _length(client, workflow_id, run_id) >= target:
                (holds / workflow_id).unlink(missing_ok=True)
                del left[workflow_id]
        n += 1
        time.sleep(0.01)


def run_fleet(sticky: bool, chain: int, target: int, event: str = "") -> Fleet:
    fleet = Fleet(sticky, event)
    label = f"{'on' if sticky else 'off'}{'-' + event if event else ''}"
    directory = OUT_DIR / "sticky" / label
    directory.mkdir(parents=True, exist_ok=True)
    holds = directory / "holds"
    holds.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "FLOTOD_BENCH_CHAIN": str(chain),
        "FLOTOD_BENCH_HOLDS": str(holds),
    }
    with local_swf_process(POLL_TIMEOUT, directory / "local-swf.log") as (url, _server):
        client = boto_client(url)
        client.register_domain(name=flows.DOMAIN, workflowExecutionRetentionPeriodInDays="1")
        _write_configs(directory, url, sticky)
        notify = NotifySocket(directory / "notify.sock")
        env["NOTIFY_SOCKET"] = str(notify.path)
        deciders: list[subprocess.Popen[bytes]] = []
        workers: list[subprocess.Popen[bytes]] = []
        for role, number, into in (("decider", DECIDERS, deciders), ("worker", WORKERS, workers)):
            for n in range(number):
                with open(directory / f"{role}{n}.log", "wb") as log:
                    into.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "flotod.cli.services", role,
                             "--config", str(directory)],
                            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                        )
                    )  # fmt: skip
        stop_driving = threading.Event()
        try:
            notify.wait_ready([p.pid for p in deciders + workers], timeout=60)
            cpu_before = {p.pid: cpu_seconds(p.pid) for p in deciders}
            cpu_final: dict[int, float] = {}
            ids = [f"wf-{n:02d}" for n in range(WORKFLOWS)]
            signalled = ids[WORKFLOWS // 2 :]
            for workflow_id in signalled:
                (holds / workflow_id).touch()
            began = time.perf_counter()
            runs = {
                wid: client.start_workflow_execution(
                    domain=flows.DOMAIN, workflowId=wid, workflowType=dict(
                        zip(("name", "version"), flows.WORKFLOW, strict=True)), input="{}",
                )["runId"]
                for wid in ids
            }  # fmt: skip
            driver = threading.Thread(
                target=_drive,
                args=(
                    boto_client(url),
                    {w: runs[w] for w in signalled},
                    target,
                    holds,
                    stop_driving,
                ),
                daemon=True,
            )
            driver.start()
            if event:
                # mid-run: once the signalled runs are half way to their length
                while _length(client, signalled[0], runs[signalled[0]]) < target // 2:
                    time.sleep(0.2)
                victim = deciders[0]
                cpu_final[victim.pid] = cpu_seconds(victim.pid)
                victim.send_signal(signal.SIGKILL if event == "kill" else signal.SIGTERM)
            deadline = time.monotonic() + 1800
            while _closed(client) < WORKFLOWS:
                if time.monotonic() > deadline:
                    fleet.notes.append(f"{label}: timed out ({_closed(client)}/{WORKFLOWS})")
                    break
                time.sleep(0.5)
            fleet.seconds = time.perf_counter() - began
            for p in deciders:
                if p.pid not in cpu_final:
                    cpu_final[p.pid] = cpu_seconds(p.pid)
            fleet.decider_cpu = sum(cpu_final[p.pid] - cpu_before[p.pid] for p in deciders)
            fleet.completed = _closed(client, "COMPLETED")
            for wid, run_id in runs.items():
                events = _history(client, {"workflowId": wid, "runId": run_id})
                started = [
                    e["decisionTaskStartedEventAttributes"].get("identity", "")
                    for e in events
                    if e["eventType"] == "DecisionTaskStarted"
                ]
                fleet.decision_tasks += sum(
                    e["eventType"] == "DecisionTaskCompleted" for e in events
                )
                if started:
                    top = collections.Counter(started).most_common(1)[0][1]
                    fleet.one_identity.append(top / len(started))
                fleet.waits += decision_waits(events)
                fleet.timeouts.update(
                    e["decisionTaskTimedOutEventAttributes"]["timeoutType"]
                    for e in events
                    if e["eventType"] == "DecisionTaskTimedOut"
                )
        finally:
            stop_driving.set()
            for p in deciders + workers:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in deciders + workers:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            notify.close()
    seen: set[str] = set()
    for n in range(DECIDERS):
        for line in (directory / f"decider{n}.log").read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") != "decision.completed":
                continue
            fleet.logged += 1
            fleet.held += bool(record.get("held"))
            if record.get("workflow_id") not in seen:
                seen.add(record["workflow_id"])
                fleet.firsts += 1
            if (
                n == 0
                and event == "stop"
                and record.get("next_task_list") == flows.DECISION_TASK_LIST
            ):
                fleet.routed_back += 1
    if fleet.completed != WORKFLOWS:
        fleet.notes.append(f"{label}: {fleet.completed}/{WORKFLOWS} completed")
    return fleet


def _closed(client: Any, status: str | None = None) -> int:
    extra = {"closeStatusFilter": {"status": status}} if status else {}
    found = client.count_closed_workflow_executions(
        domain=flows.DOMAIN, startTimeFilter={"oldestDate": 0}, **extra
    )
    return int(found["count"])


def _describe(f: Fleet) -> str:
    return (
        f"sticky {'on' if f.sticky else 'off'}{' ' + f.event if f.event else ''}: "
        f"{f.seconds:.1f} s, {f.decision_tasks} decision tasks, decider {f.cpu_ms:.2f} ms/task, "
        f"held {f.held_share:.1%}, one identity median {statistics.median(f.one_identity):.1%} "
        f"min {min(f.one_identity):.1%}, longest wait {max(f.waits):.2f} s, "
        f"timeouts {dict(f.timeouts)}, {f.completed}/{WORKFLOWS} completed"
    )


def _row(label: str, one: Fleet) -> str:
    identity = f"{statistics.median(one.one_identity):.1%}, {min(one.one_identity):.1%}"
    return (
        f"| {label} | {'on' if one.sticky else 'off'} | {one.seconds:.1f} | "
        f"{one.decision_tasks} | {one.cpu_ms:.2f} | {one.held_share:.1%} | {identity} | "
        f"{max(one.waits):.2f} | {dict(one.timeouts) or '-'} |"
    )


PerTaskRow = tuple[str, int, float, float, float]


def _median_rows(runs: list[list[PerTaskRow]]) -> list[PerTaskRow]:
    """Each row's numbers as the median over the repeats (events: the first repeat's)."""
    return [
        (
            same[0][0],
            same[0][1],
            *(statistics.median(r[i] for r in same) for i in (2, 3, 4)),
        )
        for same in zip(*runs, strict=True)
    ]


def _per_task_table(rows: list[PerTaskRow], repeats: int = 1) -> list[str]:
    return [
        "One decision task, one decider in-process (poll, read, replay, decide; CPU of the "
        f"deciding thread), against `flotod local-swf`; median of {repeats} repeats:",
        "",
        "| events | read | decider ms/task | SWF calls/task, answer included | endpoint ms/task |",
        "| --: | :-- | --: | --: | --: |",
        *(
            f"| {events} | {mode} | {ms:.2f} | {calls:.2f} | {server:.2f} |"
            for mode, events, ms, calls, server in rows
        ),
    ]


def _ratio_lines(runs: list[list[PerTaskRow]]) -> list[str]:
    """Per held mode, the ~5,000-event task's cost over the ~100-event one's: one ratio per
    repeat (both measured in the same repeat), median and range."""
    lines = []
    for index, mode in enumerate(MODES[:2]):
        cpu, calls = [], []
        for rows in runs:
            small, large = rows[index], rows[index + len(MODES)]
            cpu.append(large[2] / small[2])
            calls.append(large[3] / small[3])
        lines.append(
            f"- {mode}: at ~5,000 events {_spread(cpu)} the CPU and {_spread(calls)} the calls "
            f"of ~100 events (same-repeat ratios, median and range over {len(runs)}; target: "
            "within 1.5x)."
        )
    return lines


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter runs, two rounds")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--chain", type=int, help="activities in each chain (default 500)")
    parser.add_argument("--events", type=int, help="signalled runs' length (default 5000)")
    parser.add_argument("--rounds", type=int, help="sticky on/off pairs (default 3)")
    parser.add_argument("--repeats", type=int, help="repeats of the per-task part (default 3)")
    parser.add_argument(
        "--per-task-only", action="store_true", help="only the one-decider part; prints it"
    )
    args = parser.parse_args(argv)
    chain = args.chain or (100 if args.quick else 500)
    target = args.events or (1000 if args.quick else 5000)
    rounds = args.rounds or (2 if args.quick else 3)
    repeats = args.repeats or (1 if args.quick else 3)
    runs = [per_task((100, 5000), 10 if args.quick else 30) for _ in range(repeats)]
    rows = _median_rows(runs)
    ratio_lines = _ratio_lines(runs)
    if args.per_task_only:
        print("\n".join([*_per_task_table(rows, repeats), "", *ratio_lines]))
        return 0

    trials: list[tuple[Fleet, Fleet]] = []
    notes: list[str] = []
    for r in range(rounds):  # alternate the order: the machine's load drifts
        done: dict[bool, Fleet] = {}
        for sticky in (True, False) if r % 2 == 0 else (False, True):
            done[sticky] = run_fleet(sticky, chain, target)
            print(_describe(done[sticky]), flush=True)
            notes += done[sticky].notes
        trials.append((done[True], done[False]))
    killed = run_fleet(True, chain, target, "kill")
    print(_describe(killed), flush=True)
    stopped = run_fleet(True, chain, target, "stop")
    print(_describe(stopped), flush=True)
    notes += killed.notes + stopped.notes

    lines = [
        HEADING,
        "",
        f"Run: `.venv/bin/python -m bench.sticky {' '.join(sys.argv[1:] if argv is None else argv)}"
        "`"
        f" (chains of {chain} activities, signalled runs to {target} events, {rounds} rounds). "
        f"Machine: {machine()}; measured {time.strftime('%Y-%m-%d')}.",
        "",
        *_per_task_table(rows, repeats),
        "",
        *ratio_lines,
    ]
    lines += [
        "",
        f"The fleet: {DECIDERS} `flotod-decider` processes on one task list, {WORKERS} workers, "
        f"{WORKFLOWS} workflows started at once: {WORKFLOWS // 2} chains of {chain} activities, "
        f"{WORKFLOWS // 2} first signalled to {target} events (a held gate activity), then the "
        f"same chain. sticky_schedule_to_start_seconds = decision_timeout_seconds = {TIMEOUT}; "
        f"local-swf poll timeout {POLL_TIMEOUT:g} s. Held = decided from the replay state kept "
        "since the run's previous task (each run's first task excluded); one identity = the "
        "share of a run's decision tasks started by the decider that started most of them.",
        "",
        "| round | sticky | wall s | decision tasks | decider ms/task | held | one identity "
        "(median, min) | longest wait s | decision timeouts |",
        "| --: | :-- | --: | --: | --: | --: | :-- | --: | :-- |",
    ]
    for r, pair in enumerate(trials, 1):
        lines += [_row(str(r), one) for one in pair]
    lines += [_row(one.event, one) for one in (killed, stopped)]
    cpu_ratio = [off.cpu_ms / on.cpu_ms for on, off in trials]
    wall_ratio = [off.seconds / on.seconds for on, off in trials]
    lines += [
        "",
        f"- Same-run ratios, sticky off / on (median, range over {rounds} rounds): decider CPU "
        f"per decision task {_spread(cpu_ratio)}, wall time {_spread(wall_ratio)}.",
        f"- Held (sticky on): {min(on.held_share for on, _ in trials):.1%} at worst "
        "(target >= 95 %); one identity: the lowest run "
        f"{min(min(on.one_identity) for on, _ in trials):.1%} (target >= 90 %).",
        f"- kill -9 of one decider mid-run: {killed.completed}/{WORKFLOWS} completed, longest "
        f"wait for a decision {max(killed.waits):.2f} s (target < {TIMEOUT} + 2 s), "
        f"timeouts {dict(killed.timeouts)}.",
        f"- SIGTERM of one decider mid-run: {stopped.completed}/{WORKFLOWS} completed; "
        f"{stopped.routed_back} of its answers during the stop named the shared list; its "
        f"other runs waited for the {TIMEOUT} s schedule-to-start timeout "
        f"({stopped.timeouts.get('SCHEDULE_TO_START', 0)} timed out); longest wait "
        f"{max(stopped.waits):.2f} s.",
        *(f"- note: {note}" for note in notes),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        replace_section(HEADING, text)
        print("wrote bench/RESULTS.md")
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
