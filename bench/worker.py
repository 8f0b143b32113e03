"""Benchmark the activity worker against the embedded SWF (``flotod local-swf``).

Two numbers: parallel efficiency (200 activities sleeping 0.5 s each on one worker at
concurrency 1, 10 and 50; ideal wall time = 100 s / concurrency), and the per-task overhead of
an empty activity relative to a minimal raw-boto3 poll/complete loop on the same endpoint.

    .venv/bin/python bench/worker.py            # full run, rewrites "## Worker" in RESULTS.md
    .venv/bin/python bench/worker.py --quick    # fewer tasks, skips concurrency 1, no write
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

import structlog

if not __package__:  # run as a script (bench/worker.py): make the bench package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import boto_client, local_swf, machine
from flotod.swf import SwfClient
from flotod.worker import ActivityWorker, Registry, activity

DOMAIN = "bench"
RESULTS = Path(__file__).with_name("RESULTS.md")
REGISTRY = Registry()
SLEEP_SECONDS = 0.5


@activity("sleep", "1", registry=REGISTRY)
def sleep_activity() -> None:
    time.sleep(SLEEP_SECONDS)


@activity("empty", "1", registry=REGISTRY)
def empty_activity() -> None:
    return None


def schedule(swf: SwfClient, task_list: str, name: str, count: int) -> None:
    """Schedule ``count`` activities, at most 100 per decision (SWF's usual cap)."""
    swf.register_workflow_type(DOMAIN, "bench", "1", task_list="bench-decide")
    swf.register_activity_type(DOMAIN, name, "1", task_list=task_list)
    batch = 0
    while count > 0:
        size = min(100, count)
        swf.start_workflow_execution(
            DOMAIN, f"{task_list}-{batch}", "bench", "1", task_list="bench-decide"
        )
        decision = swf.poll_for_decision_task(DOMAIN, "bench-decide")
        assert decision is not None
        swf.respond_decision_task_completed(
            decision.task_token,
            [
                {
                    "decisionType": "ScheduleActivityTask",
                    "scheduleActivityTaskDecisionAttributes": {
                        "activityId": f"a{i}",
                        "activityType": {"name": name, "version": "1"},
                        "taskList": {"name": task_list},
                        "input": "{}",
                    },
                }
                for i in range(size)
            ],
        )
        count -= size
        batch += 1


def run_worker(url: str, task_list: str, count: int, concurrency: int) -> float:
    """Seconds from worker start until ``count`` tasks are reported."""
    swf = SwfClient.from_boto(boto_client(url))
    worker = ActivityWorker(
        DOMAIN, task_list, concurrency=concurrency, swf=swf, registry=REGISTRY, identity="bench"
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    begun = time.perf_counter()
    thread.start()
    while worker.stats.finished + worker.stats.failed < count:
        time.sleep(0.005)
    elapsed = time.perf_counter() - begun
    worker.stop()
    thread.join(30)
    if worker.stats.failed:
        raise RuntimeError(f"{worker.stats.failed} tasks failed")
    return elapsed


def run_raw(url: str, task_list: str, count: int) -> float:
    """The floor: poll, complete, nothing else."""
    client = boto_client(url)
    begun = time.perf_counter()
    done = 0
    while done < count:
        task = client.poll_for_activity_task(
            domain=DOMAIN, taskList={"name": task_list}, identity="raw"
        )
        if task.get("taskToken"):
            client.respond_activity_task_completed(taskToken=task["taskToken"], result="null")
            done += 1
    return time.perf_counter() - begun


def parallel(url: str, swf: SwfClient, count: int, levels: list[int]) -> list[dict[str, float]]:
    rows = []
    for level in levels:
        task_list = f"sleep-c{level}"
        schedule(swf, task_list, "sleep", count)
        wall = run_worker(url, task_list, count, level)
        ideal = count * SLEEP_SECONDS / level
        rows.append({"concurrency": level, "wall": wall, "ideal": ideal, "eff": ideal / wall})
        print(
            f"concurrency {level:>3}: {wall:7.2f} s (ideal {ideal:6.2f} s, "
            f"efficiency {ideal / wall:5.1%})",
            flush=True,
        )
    return rows


def overhead(url: str, swf: SwfClient, count: int, rounds: int) -> dict[str, float]:
    raw_times, worker_times = [], []
    for r in range(rounds):
        schedule(swf, f"raw-{r}", "empty", count)
        raw_times.append(run_raw(url, f"raw-{r}", count) / count)
        schedule(swf, f"worker-{r}", "empty", count)
        worker_times.append(run_worker(url, f"worker-{r}", count, 1) / count)
    raw, work = statistics.median(raw_times), statistics.median(worker_times)
    print(
        f"per task: raw boto3 {raw * 1000:.2f} ms, worker {work * 1000:.2f} ms, "
        f"ratio {work / raw:.2f}",
        flush=True,
    )
    return {"raw_ms": raw * 1000, "worker_ms": work * 1000, "ratio": work / raw}


def write_results(rows: list[dict[str, float]], over: dict[str, float], count: int) -> None:
    lines = [
        "## Worker (`bench/worker.py`)",
        "",
        f"Run with `.venv/bin/python bench/worker.py`; embedded SWF (`flotod local-swf`) over "
        f"HTTP on loopback. Machine: {machine()}.",
        "",
        f"{count} activities sleeping {SLEEP_SECONDS} s on one worker (thread executor):",
        "",
        "| concurrency | wall time | ideal | parallel efficiency |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {int(r['concurrency'])} | {r['wall']:.2f} s | {r['ideal']:.2f} s | {r['eff']:.0%} |"
            for r in rows
        ),
        "",
        "Per-task overhead of an empty activity, concurrency 1, median of rounds of "
        f"{count} tasks: raw boto3 poll/complete loop {over['raw_ms']:.2f} ms, flotod worker "
        f"{over['worker_ms']:.2f} ms: ratio **{over['ratio']:.2f}** (target <= 1.25).",
        "",
    ]
    text = RESULTS.read_text()
    section = "\n".join(lines)
    pattern = re.compile(r"## Worker \(`bench/worker.py`\)\n.*?(?=\n## |\Z)", re.S)
    if not pattern.search(text):
        raise RuntimeError("RESULTS.md has no '## Worker' section to replace")
    RESULTS.write_text(pattern.sub(lambda _m: section.rstrip("\n") + "\n", text, count=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100 tasks, concurrency 10 and 50 only, results not written",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument(
        "--write", action="store_true", help="accepted for `python -m bench`; full runs write"
    )
    args = parser.parse_args(argv)
    # Realistic logging cost: every record rendered as JSON, written to nowhere.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
    )
    count = 100 if args.quick else 200
    levels = [10, 50] if args.quick else [1, 10, 50]
    with local_swf() as url:
        swf = SwfClient.from_boto(boto_client(url))
        swf.register_domain(DOMAIN, retention_days=1)
        rows = parallel(url, swf, count, levels)
        over = overhead(url, swf, count, rounds=2 if args.quick else 3)
    if not (args.quick or args.no_write):
        write_results(rows, over, count)
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
