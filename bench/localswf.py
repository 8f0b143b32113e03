"""Benchmark of the embedded SWF (`flotod local-swf`): latency, throughput, concurrency.

Run: .venv/bin/python bench/localswf.py [--quick] [--write]
The server runs as a real `flotod local-swf` process; stock moto (in-process, mock_aws) is
measured on a short run for comparison. --write replaces the "## Embedded SWF" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

DOMAIN = "bench"
WF = {"name": "wf", "version": "1"}
ACT = {"name": "act", "version": "1"}
RESULTS = Path(__file__).with_name("RESULTS.md")


def make_client(url: str | None) -> Any:
    return boto3.session.Session().client(
        "swf",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(read_timeout=70, retries={"max_attempts": 0}),
    )


def setup(client: Any) -> None:
    client.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    client.register_workflow_type(
        domain=DOMAIN, **WF, defaultTaskList={"name": "d"},
        defaultExecutionStartToCloseTimeout="3600", defaultTaskStartToCloseTimeout="60",
        defaultChildPolicy="TERMINATE",
    )  # fmt: skip
    client.register_activity_type(
        domain=DOMAIN, **ACT, defaultTaskList={"name": "a"},
        defaultTaskScheduleToStartTimeout="NONE", defaultTaskScheduleToCloseTimeout="NONE",
        defaultTaskStartToCloseTimeout="NONE", defaultTaskHeartbeatTimeout="NONE",
    )  # fmt: skip


def one_workflow(client: Any, n: int, timings: dict[str, list[float]]) -> None:
    def timed(name: str, fn: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        out = fn(**kwargs)
        timings[name].append(time.perf_counter() - began)
        return out

    timed("StartWorkflowExecution", client.start_workflow_execution,
          domain=DOMAIN, workflowId=f"wf-{n}", workflowType=WF)  # fmt: skip
    task = timed("PollForDecisionTask", client.poll_for_decision_task,
                 domain=DOMAIN, taskList={"name": "d"})  # fmt: skip
    decision = {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes":
                {"activityId": "a", "activityType": ACT}}  # fmt: skip
    timed("RespondDecisionTaskCompleted", client.respond_decision_task_completed,
          taskToken=task["taskToken"], decisions=[decision])  # fmt: skip
    act = timed("PollForActivityTask", client.poll_for_activity_task,
                domain=DOMAIN, taskList={"name": "a"})  # fmt: skip
    timed("RespondActivityTaskCompleted", client.respond_activity_task_completed,
          taskToken=act["taskToken"], result="ok")  # fmt: skip
    task = client.poll_for_decision_task(domain=DOMAIN, taskList={"name": "d"})
    done = {"decisionType": "CompleteWorkflowExecution"}
    client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[done])
    if n % 10 == 0:
        execution = {"workflowId": f"wf-{n}", "runId": task["workflowExecution"]["runId"]}
        timed("DescribeWorkflowExecution", client.describe_workflow_execution,
              domain=DOMAIN, execution=execution)  # fmt: skip
        timed("GetWorkflowExecutionHistory", client.get_workflow_execution_history,
              domain=DOMAIN, execution=execution)  # fmt: skip


def sequential(client: Any, total: int, block: int) -> tuple[list[float], dict[str, list[float]]]:
    """Workflows per second for each block of ``block`` workflows run one after another."""
    timings: dict[str, list[float]] = defaultdict(list)
    rates: list[float] = []
    began = time.perf_counter()
    for n in range(total):
        one_workflow(client, n, timings)
        if (n + 1) % block == 0:
            now = time.perf_counter()
            rates.append(block / (now - began))
            began = now
    return rates, timings


def stock_moto(total: int, block: int) -> list[float]:
    from moto import mock_aws

    with mock_aws():
        client = make_client(None)
        setup(client)
        rates, _ = sequential(client, total, block)
    return rates


def _poller(url: str, out: Any, total: int) -> None:
    client = make_client(url)
    seen: list[str] = []
    while True:
        task = client.poll_for_decision_task(domain=DOMAIN, taskList={"name": "d"})
        if task.get("taskToken"):
            seen.append("d:" + task["taskToken"])
            kinds = {e["eventType"] for e in task["events"]}
            decision: dict[str, Any]
            if "ActivityTaskCompleted" in kinds:
                decision = {"decisionType": "CompleteWorkflowExecution"}
            else:
                decision = {"decisionType": "ScheduleActivityTask",
                            "scheduleActivityTaskDecisionAttributes":
                            {"activityId": "a", "activityType": ACT}}  # fmt: skip
            client.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=[decision]
            )
        act = client.poll_for_activity_task(domain=DOMAIN, taskList={"name": "a"})
        if act.get("taskToken"):
            seen.append("a:" + act["taskToken"])
            client.respond_activity_task_completed(taskToken=act["taskToken"], result="ok")
        if not task.get("taskToken") and not act.get("taskToken"):
            closed = client.count_closed_workflow_executions(
                domain=DOMAIN, startTimeFilter={"oldestDate": 0}
            )["count"]
            if closed >= total:
                break
    out.put(seen)


def concurrent(url: str, processes: int, total: int) -> tuple[float, int, int]:
    """(seconds, deliveries, duplicates) for ``total`` workflows served by N processes."""
    client = make_client(url)
    client.register_domain(name="unused", workflowExecutionRetentionPeriodInDays="1")
    began = time.perf_counter()
    for n in range(total):
        client.start_workflow_execution(domain=DOMAIN, workflowId=f"c-{n}", workflowType=WF)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_poller, args=(url, out, total * 2)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    seen = [token for _ in procs for token in out.get(timeout=600)]
    for proc in procs:
        proc.join()
    return time.perf_counter() - began, len(seen), len(seen) - len(set(seen))


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0",
         "--poll-timeout", "1", "--log-level", "warning"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def report(args: argparse.Namespace) -> str:
    total, block = (1000, 100) if args.quick else (5000, 500)
    stock_total, stock_block = (200, 100) if args.quick else (600, 100)
    proc, url = start_server()
    try:
        client = make_client(url)
        setup(client)
        rates, timings = sequential(client, total, block)
        conc_total = 200 if args.quick else 1000
        seconds, deliveries, duplicates = concurrent(url, 8, conc_total)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    stock = stock_moto(stock_total, stock_block)
    lines = [
        "## Embedded SWF (`bench/localswf.py`)",
        "",
        f"Command: `.venv/bin/python bench/localswf.py{' --quick' if args.quick else ''}"
        " --write`. "
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; server = a `flotod local-swf` process, client = boto3 "
        "over HTTP on loopback.",
        "",
        "Median latency per call (ms):",
        "",
        "| call | median ms | calls |",
        "|---|---|---|",
    ]
    for name, values in timings.items():
        lines.append(f"| {name} | {statistics.median(values) * 1000:.2f} | {len(values)} |")
    lines += [
        "",
        f"Sequential single-activity workflows, {total} in blocks of {block} (workflows/s):",
        "",
        " ".join(f"{rate:.0f}" for rate in rates),
        "",
        f"Last block / first block throughput: {rates[-1] / rates[0]:.2f} "
        f"(slowdown {rates[0] / rates[-1]:.2f}x, limit 1.5x).",
        "",
        f"Stock moto 5.2 in-process (mock_aws), {stock_total} workflows in blocks of "
        f"{stock_block} (workflows/s): " + " ".join(f"{rate:.0f}" for rate in stock),
        "",
        f"Concurrent pollers: 8 processes, {conc_total} workflows, {deliveries} task "
        f"deliveries in {seconds:.1f} s, {duplicates} duplicate deliveries.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    text = RESULTS.read_text()
    pattern = re.compile(r"## Embedded SWF.*?(?=\n## |\Z)", re.S)
    RESULTS.write_text(pattern.sub(lambda _: section.rstrip() + "\n", text, count=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    section = report(args)
    print(section)
    if args.write:
        write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
