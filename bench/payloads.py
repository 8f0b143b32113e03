"""Large payloads through S3: time and CPU per task of a 1 MB value's round trip, against the
same workflow carrying a small value, in the same run.

    .venv/bin/python bench/payloads.py [--quick] [--write]

One ``flotod local-swf`` (SWF and S3 on one port), one ``flotod-decider`` and one
``flotod-worker`` (concurrency 1) with ``[payloads] s3_bucket`` set serve the whole run. A
workflow is ``produce`` then ``consume`` (:mod:`bench.payload_flows`): the value goes worker ->
S3 -> decider -> the next task's input -> S3 -> worker. Each round runs a batch of workflows
with a small value and a batch with a 1 MB one, the order alternating; a batch is started at
once and timed until every workflow is closed. CPU is the processes' utime+stime from /proc.
Per task = per workflow / 2 activities; the table gives the median of the rounds and their
range.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as a script (bench/payloads.py): make the bench package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
from bench.payload_flows import DOMAIN, WORKFLOW_TYPE, file_list

HEADING = "## Large payloads"
BUCKET = "flotod-bench-payloads"
POLL_TIMEOUT = 2.0
SIZES = {"small": 100, "1 MB": 1_000_000}
TASKS_PER_WORKFLOW = 2


@dataclass
class Batch:
    size: str
    workflows: int
    seconds: float
    decider_cpu: float
    worker_cpu: float
    endpoint_cpu: float

    def per_task_ms(self, value: float) -> float:
        return 1000 * value / (self.workflows * TASKS_PER_WORKFLOW)

    @property
    def wall_ms(self) -> float:
        return self.per_task_ms(self.seconds)

    @property
    def services_ms(self) -> float:
        return self.per_task_ms(self.decider_cpu + self.worker_cpu)


def write_configs(directory: Path, url: str) -> None:
    (directory / "flotod.toml").write_text(
        f'[swf]\nendpoint_url = "{url}"\ndomain = "{DOMAIN}"\n'
        'access_key_id = "bench"\nsecret_access_key = "bench"\n\n'
        '[logging]\nlevel = "info"\nformat = "json"\n\n'
        f'[payloads]\ns3_bucket = "{BUCKET}"\ns3_prefix = "flotod/"\n'
    )
    name, version = WORKFLOW_TYPE
    (directory / "decider.toml").write_text(
        '[decider.bench]\ntask_list = "bench_payload_decisions"\n'
        'spec_object = "bench.payload_flows:SPEC"\n'
        f'workflow_type_name = "{name}"\nworkflow_type_version = "{version}"\n'
        "drain_timeout_seconds = 10\n"
    )
    (directory / "worker.toml").write_text(
        '[worker.bench]\ntask_list = "bench_payload_activities"\n'
        'modules = ["bench.payload_flows"]\nconcurrency = 1\ndrain_timeout_seconds = 10\n'
    )


def s3_client(url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def closed(client: Any) -> int:
    found = client.count_closed_workflow_executions(
        domain=DOMAIN, startTimeFilter={"oldestDate": 0}
    )
    return int(found["count"])


def run_batch(
    client: Any, size: str, count: int, tag: str, pids: dict[str, int], server: int
) -> Batch:
    before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    server_before = cpu_seconds(server)
    already = closed(client)
    name, version = WORKFLOW_TYPE
    began = time.perf_counter()
    for n in range(count):
        client.start_workflow_execution(
            domain=DOMAIN, workflowId=f"{tag}-{n}", input=json.dumps({"bytes": SIZES[size]}),
            workflowType={"name": name, "version": version},
        )  # fmt: skip
    deadline = time.monotonic() + 120 + 5 * count
    while closed(client) < already + count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{tag}: {closed(client) - already}/{count} closed in time")
        time.sleep(0.02)
    seconds = time.perf_counter() - began
    after = {role: cpu_seconds(pid) for role, pid in pids.items()}
    return Batch(
        size,
        count,
        seconds,
        after["decider"] - before["decider"],
        after["worker"] - before["worker"],
        cpu_seconds(server) - server_before,
    )


def check_batch(client: Any, s3: Any, tag: str, count: int, size: str) -> list[str]:
    """Every workflow completed with the whole list seen by ``consume``; 1 MB values went
    through S3 and small ones did not."""
    problems = []
    expected = len(file_list(SIZES[size]))
    for n in range(count):
        workflow_id = f"{tag}-{n}"
        runs = client.list_closed_workflow_executions(
            domain=DOMAIN, startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": workflow_id},
        )["executionInfos"]  # fmt: skip
        if not runs or runs[0]["closeStatus"] != "COMPLETED":
            problems.append(f"{workflow_id}: {runs[0]['closeStatus'] if runs else 'not closed'}")
            continue
        events = client.get_workflow_execution_history(
            domain=DOMAIN, execution=runs[0]["execution"]
        )["events"]
        result = json.loads(events[-1]["workflowExecutionCompletedEventAttributes"]["result"])
        if result.get("consume", {}).get("count") != expected:
            problems.append(f"{workflow_id}: consume saw {result}")
        stored = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"flotod/{workflow_id}/")
        objects = stored.get("KeyCount", 0)
        if (objects > 0) != (size != "small"):
            problems.append(f"{workflow_id}: {objects} objects in S3 for a {size} value")
    return problems


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(rounds: int, count: int) -> tuple[list[Batch], list[CodecCost], list[str]]:
    directory = OUT_DIR / "payloads"
    directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    batches: list[Batch] = []
    problems: list[str] = []
    with local_swf_process(POLL_TIMEOUT, directory / "local-swf.log") as (url, server):
        client = boto_client(url)
        client.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
        s3 = s3_client(url)
        s3.create_bucket(Bucket=BUCKET)
        write_configs(directory, url)
        notify = NotifySocket(directory / "notify.sock")
        env["NOTIFY_SOCKET"] = str(notify.path)
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for role in ("decider", "worker"):
                with open(directory / f"{role}.log", "wb") as log:
                    procs[role] = subprocess.Popen(
                        [sys.executable, "-m", "flotod.cli.services", role,
                         "--config", str(directory)],
                        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT,
                    )  # fmt: skip
            notify.wait_ready([p.pid for p in procs.values()], timeout=60)
            pids = {role: proc.pid for role, proc in procs.items()}
            # One warm-up workflow of each size: imports, connections and caches.
            for size in SIZES:
                tag = f"warm-{size.replace(' ', '')}"
                run_batch(client, size, 1, tag, pids, server)
                problems += check_batch(client, s3, tag, 1, size)
            for r in range(rounds):
                order = list(SIZES) if r % 2 == 0 else list(SIZES)[::-1]
                for size in order:
                    tag = f"r{r}-{size.replace(' ', '')}"
                    batch = run_batch(client, size, count, tag, pids, server)
                    print(
                        f"round {r + 1} {size:5}: {batch.wall_ms:7.1f} ms/task wall, "
                        f"decider {batch.per_task_ms(batch.decider_cpu):6.1f} + worker "
                        f"{batch.per_task_ms(batch.worker_cpu):6.1f} ms/task CPU, endpoint "
                        f"{batch.per_task_ms(batch.endpoint_cpu):6.1f}",
                        flush=True,
                    )
                    problems += check_batch(client, s3, tag, count, size)
                    batches.append(batch)
        finally:
            stop(list(procs.values()))
            notify.close()
        costs = codec_costs(url)
    return batches, costs, problems


@dataclass
class CodecCost:
    compress: bool
    encode_wall: list[float]
    encode_cpu: list[float]
    decode_wall: list[float]
    decode_cpu: list[float]


def codec_costs(url: str, repeats: int = 15) -> list[CodecCost]:
    """The payload step alone, in this process: ``Payloads.encode`` (hash, compress, PUT) and
    ``decode`` (GET, hash, inflate) of the 1 MB value through flotod's S3 store over HTTP,
    a fresh codec each time so that nothing is served from its cache."""
    from flotod.payloads import Payloads
    from flotod.swf.credentials import resolve_credentials
    from flotod.swf.s3 import S3Store

    store = S3Store.connect(
        endpoint_url=url, region="us-east-1", credentials=resolve_credentials(endpoint_url=url)
    )
    value = json.dumps(file_list(SIZES["1 MB"]))
    out = []
    for compress in (False, True):
        cost = CodecCost(compress, [], [], [], [])
        for n in range(repeats + 1):  # the first is a warm-up
            codec = Payloads(store, bucket=BUCKET, prefix="codec/", compress=compress)
            wall, cpu = time.perf_counter(), time.process_time()
            envelope = codec.encode(value, workflow_id="codec", run_id=f"{compress}", name=f"{n}")
            encode_wall, encode_cpu = time.perf_counter() - wall, time.process_time() - cpu
            reader = Payloads(store, bucket=BUCKET)
            wall, cpu = time.perf_counter(), time.process_time()
            assert reader.decode(envelope) == value
            decode_wall, decode_cpu = time.perf_counter() - wall, time.process_time() - cpu
            if n:
                cost.encode_wall.append(1000 * encode_wall)
                cost.encode_cpu.append(1000 * encode_cpu)
                cost.decode_wall.append(1000 * decode_wall)
                cost.decode_cpu.append(1000 * decode_cpu)
        out.append(cost)
    return out


def codec_table(costs: list[CodecCost]) -> list[str]:
    lines = [
        "| compress | encode wall ms | encode CPU ms | decode wall ms | decode CPU ms |",
        "| :-- | --: | --: | --: | --: |",
    ]
    for cost in costs:
        lines.append(
            f"| {'true' if cost.compress else 'false'} | {_median_range(cost.encode_wall)} "
            f"| {_median_range(cost.encode_cpu)} | {_median_range(cost.decode_wall)} "
            f"| {_median_range(cost.decode_cpu)} |"
        )
    return lines


def analysis(batches: list[Batch], costs: list[CodecCost]) -> str:
    """Where a 1 MB value's extra CPU goes, from this run's two tables."""
    small = [b.services_ms for b in batches if b.size == "small"]
    large = [b.services_ms for b in batches if b.size != "small"]
    extra = TASKS_PER_WORKFLOW * (statistics.median(large) - statistics.median(small))
    plain, zipped = costs
    crossings = 2 * (statistics.median(plain.encode_cpu) + statistics.median(plain.decode_cpu))
    zlib_extra = statistics.median(zipped.encode_cpu) - statistics.median(plain.encode_cpu)
    return (
        "Reading the tables: in each 1 MB workflow the value crosses the store four times "
        "(the worker's PUT of produce's result, the decider's GET of it and PUT of consume's "
        "input, the worker's GET), which the second table puts at "
        f"{crossings:.1f} ms of CPU, {100 * crossings / extra:.0f} % of the workflow's extra "
        f"{extra:.1f} ms. The rest is the JSON of a 1 MB value: built and serialized by "
        "produce, parsed and re-serialized by the decider into consume's context, parsed by "
        "the worker for consume; any workflow that hands such a value on pays that, and "
        "without S3 the value could not pass through SWF at all (the task fails with "
        f'"result too large"). Compression costs {zlib_extra:.1f} ms more CPU per write; this '
        "file list shrinks about twentyfold and still goes to S3 (over the 30,000-byte "
        "threshold), so it saves S3 bytes and transfer, not calls."
    )


def _median_range(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def table(batches: list[Batch]) -> list[str]:
    lines = [
        "| value | workflows/round | wall ms/task | decider CPU ms/task | worker CPU ms/task "
        "| decider+worker CPU ms/task | endpoint (SWF+S3) CPU ms/task |",
        "| :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for size in SIZES:
        mine = [b for b in batches if b.size == size]
        lines.append(
            f"| {size} | {mine[0].workflows} "
            f"| {_median_range([b.wall_ms for b in mine])} "
            f"| {_median_range([b.per_task_ms(b.decider_cpu) for b in mine])} "
            f"| {_median_range([b.per_task_ms(b.worker_cpu) for b in mine])} "
            f"| {_median_range([b.services_ms for b in mine])} "
            f"| {_median_range([b.per_task_ms(b.endpoint_cpu) for b in mine])} |"
        )
    return lines


def extra_cost(batches: list[Batch]) -> str:
    """The 1 MB value's cost over the small one's, round by round (same run, same processes)."""
    small = [b for b in batches if b.size == "small"]
    large = [b for b in batches if b.size != "small"]
    wall = [b.wall_ms - a.wall_ms for a, b in zip(small, large, strict=True)]
    cpu = [b.services_ms - a.services_ms for a, b in zip(small, large, strict=True)]
    return (
        f"- A 1 MB value costs {_median_range(wall)} ms more wall time per task and "
        f"{_median_range(cpu)} ms more decider+worker CPU per task than a small one "
        "(median of the rounds' differences, range)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer workflows and rounds")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    rounds, count = (3, 5) if args.quick else (7, 10)
    batches, costs, problems = run(rounds, count)
    section = [
        f"{HEADING} (`bench/payloads.py`)",
        "",
        f"Run: `.venv/bin/python bench/payloads.py{' --quick' if args.quick else ''} --write`. "
        f"Machine: {machine()}; measured {time.strftime('%Y-%m-%d')}.",
        f"One `flotod local-swf` (SWF and S3 on one port, poll timeout {POLL_TIMEOUT:g} s), one "
        "`flotod-decider` and one `flotod-worker` (concurrency 1, info logs as JSON to a file) "
        f"with `[payloads] s3_bucket` set (threshold 30,000 bytes, no compression). A workflow "
        "is `produce` then `consume`: the value goes worker -> S3 -> decider -> the next "
        "task's input -> S3 -> worker, and the workflow's result is a small summary. Each of "
        f"{rounds} rounds runs {count} workflows with a small value ({SIZES['small']} bytes, "
        f"kept in SWF) and {count} with a 1 MB file list, started at once and timed until all "
        "closed, the order alternating; a warm-up workflow of each size first. CPU = "
        "utime+stime from /proc; per task = per workflow / 2. Median of the rounds (range).",
        "",
        *table(batches),
        "",
        extra_cost(batches),
        *(f"- problem: {p}" for p in problems),
        "",
        "The payload step alone (`Payloads.encode`: SHA-256, zlib when compressing, PUT; "
        "`decode`: GET, SHA-256, inflate), the same 1 MB value through flotod's S3 store "
        "to the same endpoint over HTTP, in the benchmark's process (a fresh codec each time, "
        "so nothing comes from its cache); median of 15 (range):",
        "",
        *codec_table(costs),
        "",
        analysis(batches, costs),
    ]
    text = "\n".join(section) + "\n"
    print(text)
    if args.write:
        replace_section(HEADING, text)
        print("wrote bench/RESULTS.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
