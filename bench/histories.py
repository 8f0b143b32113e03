"""What a decision task of a long-running workflow costs to read, with and without the cache.

    python bench/histories.py [--quick] [--write]

A run on the embedded SWF is grown to N events with signals; then each measured decision task
follows one more signal, as in a workflow that lives on events (the daemon, a long DAG). Per
task: the decider's CPU to poll and read the task (thread CPU of `SwfClient` with flotod's
parser), the endpoint's CPU, and the calls made. Three ways: `whole` polls without a cache
(every task fetches every event, as a stateless decider must); `cached` is the decider that
decided the run's previous task (`flotod.swf.histories.HistoryCache`); `cold` is a decider
that holds nothing for the run (another host decided before), which reads the rest in pages
of 1,000.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import boto_client, cpu_seconds, local_swf_process, machine, replace_section
from flotod.swf import SwfClient
from flotod.swf.histories import HistoryCache

HEADING = "## Decision tasks of long histories"
DOMAIN = "bench-histories"
TASK_LIST = "decide"
MODES = ("whole", "cached", "cold")


class Calls:
    """Counts the SWF calls a client makes."""

    def __init__(self, swf: SwfClient) -> None:
        self.count = 0
        real = swf.call

        def call(operation: str, **params: Any) -> dict[str, Any]:
            self.count += 1
            return real(operation, **params)

        swf.call = call  # type: ignore[method-assign]


def grow(driver: Any, swf: SwfClient, workflow_id: str, events: int) -> int:
    """Signal the run until its history has about ``events`` events; answer its tasks."""
    total = 0
    while True:
        task = swf.poll_for_decision_task(DOMAIN, TASK_LIST)
        assert task is not None, "the run always has a decision task pending here"
        total = task.started_event_id
        swf.respond_decision_task_completed(task.task_token, [])
        if total >= events:
            return total
        for n in range(min(500, events - total)):
            driver.signal_workflow_execution(
                domain=DOMAIN, workflowId=workflow_id, signalName=f"s{n}", input="{}"
            )


def measure(size: int, tasks: int) -> list[tuple[str, int, float, float, float]]:
    """Rows (mode, events, decider ms, endpoint ms, calls) per decision task."""
    rows = []
    with local_swf_process(poll_timeout=2.0) as (url, server):
        driver = boto_client(url)
        swf = SwfClient(url, "us-east-1", access_key_id="bench", secret_access_key="bench")
        swf.register_domain(DOMAIN)
        swf.register_workflow_type(DOMAIN, "long", "1", task_list=TASK_LIST)
        for mode in MODES:
            workflow_id = f"long-{mode}"
            swf.start_workflow_execution(DOMAIN, workflow_id, "long", "1", input={})
            events = grow(driver, swf, workflow_id, size)
            cache = HistoryCache(max_events=100_000)
            driver.signal_workflow_execution(
                domain=DOMAIN, workflowId=workflow_id, signalName="warm", input="{}"
            )
            task = swf.poll_for_decision_task(DOMAIN, TASK_LIST, history=cache)  # reads all
            assert task is not None
            calls = Calls(swf)
            client_cpu = server_cpu = 0.0
            reads = 0
            for n in range(tasks + 1):
                swf.respond_decision_task_completed(task.task_token, [])
                driver.signal_workflow_execution(
                    domain=DOMAIN, workflowId=workflow_id, signalName=f"t{n}", input="{}"
                )
                history = {"whole": None, "cached": cache, "cold": HistoryCache()}[mode]
                before = calls.count
                c0, s0 = time.thread_time(), cpu_seconds(server)
                task = swf.poll_for_decision_task(DOMAIN, TASK_LIST, history=history)
                c1, s1 = time.thread_time(), cpu_seconds(server)
                assert task is not None and len(task.events) == task.started_event_id
                if n == 0:  # the first measured task settles the page size; not counted
                    continue
                client_cpu += c1 - c0
                server_cpu += s1 - s0
                reads += calls.count - before
            swf.respond_decision_task_completed(task.task_token, [])
            rows.append(
                (mode, events, client_cpu / tasks * 1e3, server_cpu / tasks * 1e3, reads / tasks)
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller histories, fewer tasks")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    sizes = (100, 1000) if args.quick else (100, 1000, 5000)
    tasks = 20 if args.quick else 100
    lines = [
        f"{HEADING} (`bench/histories.py`)",
        "",
        f"Run: `.venv/bin/python bench/histories.py{' --quick' if args.quick else ''} --write`. "
        f"Machine: {machine()}; measured {time.strftime('%Y-%m-%d')}.",
        f"A run grown to N events with signals; {tasks} decision tasks each after one more "
        "signal. Per task: the decider's thread CPU to poll and read it, the endpoint's "
        "process CPU (its /proc counters tick every 10 ms, so small values are coarse), and "
        "the SWF calls that read the task. whole = no cache; cached = the decider that "
        "decided the previous task; cold = a fresh cache that holds nothing for the run (one "
        "small page, then the rest from event 1). A decider sharing its task list with many "
        "others misses most of the time, and its page grows to about a whole history, so "
        "its misses cost about what whole does.",
        "",
        "| events | read | decider ms/task | endpoint ms/task | calls to read a task |",
        "| --: | :-- | --: | --: | --: |",
    ]
    for size in sizes:
        for mode, events, client_ms, server_ms, calls in measure(size, tasks):
            lines.append(f"| {events} | {mode} | {client_ms:.2f} | {server_ms:.2f} | {calls:.2f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        replace_section(HEADING, text)
        print("wrote bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
