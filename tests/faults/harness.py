"""What the fault tests share: a ``flotod local-swf`` subprocess, a site whose own client rides
out throttling, the five-task DAG, starting many workflows at once and checking every history.

Service processes, configs and log reading are tests/services' helpers (Site, Service).
"""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from flotod.specs import ActivityTask, DeciderSpec, RetryStrategy
from tests.faults.acts import ACTIVITY_TYPES, LEDGER_ENV, expected_result
from tests.services.conftest import Service, Site

WORKFLOW = "faultwf"
DECISIONS = "fault_dt"
ACTIVITIES = "fault_acts"
DAG_IDS = ("a", "b", "c", "d", "e")
CLOSED = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionTimedOut",
        "WorkflowExecutionTerminated",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionContinuedAsNew",
    }
)


class LocalSwf:
    """``flotod local-swf`` as its own process, as an operator would run it; killed at close."""

    def __init__(
        self,
        log: Path,
        poll_timeout: float = 1.0,
        throttling: float = 0.0,
        decision_failures: float = 0.0,
    ) -> None:
        argv = [sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0"]
        argv += ["--poll-timeout", str(poll_timeout), "--inject-throttling", str(throttling)]
        argv += ["--inject-decision-failures", str(decision_failures)]
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, text=True)
        stdout = self.proc.stdout
        assert stdout is not None
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        if not found or not found[0].startswith("http"):
            self.close()
            raise AssertionError(f"flotod local-swf printed no URL:\n{log.read_text()}")
        self.url = found[0].strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def patient_client(url: str) -> Any:
    """The test's own SWF client: botocore's standard retries ride out injected throttling."""
    return boto3.session.Session().client(
        "swf",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(
            read_timeout=70,
            retries={"mode": "standard", "max_attempts": 12},
            max_pool_connections=32,
        ),
    )


class FaultSite(Site):
    """tests/services' Site on its own endpoint, with a retrying client and a ledger file."""

    def __init__(self, endpoint: LocalSwf, tmp: Path) -> None:
        # A patient client: the domain is registered on an endpoint that may be throttling.
        super().__init__(endpoint.url, tmp, client=patient_client(endpoint.url), prefix="faults")
        self.endpoint = endpoint
        self.ledger = tmp / "ledger.jsonl"
        self.ledger.touch()

    def start(self, kind: str, config: Path, env: dict[str, str] | None = None) -> Service:
        return super().start(kind, config, {LEDGER_ENV: str(self.ledger), **(env or {})})

    def register_fault_types(
        self, task_timeout: int, start_to_close: int = 60, heartbeat: int | None = None
    ) -> None:
        """The workflow type and every fault activity type, with the test's short timeouts."""
        self.register_workflow_type(WORKFLOW, DECISIONS, task_timeout=task_timeout)
        for name, version in ACTIVITY_TYPES:
            self.client.register_activity_type(
                domain=self.domain,
                name=name,
                version=version,
                defaultTaskList={"name": ACTIVITIES},
                defaultTaskStartToCloseTimeout=str(start_to_close),
                defaultTaskScheduleToStartTimeout="NONE",
                defaultTaskScheduleToCloseTimeout="NONE",
                defaultTaskHeartbeatTimeout=str(heartbeat) if heartbeat else "NONE",
            )

    def decider(self, spec: DeciderSpec, name: str = "main", **table: Any) -> Path:
        return self.config(
            "decider", name, task_list=DECISIONS,
            spec_file=str(self.spec_file(spec, f"spec-{name}")), **table,
        )  # fmt: skip

    def worker(self, name: str = "main", **table: Any) -> Path:
        settings: dict[str, Any] = {
            "task_list": ACTIVITIES,
            "modules": ["tests.faults.acts"],
            "concurrency": 8,
            "register_activity_types": False,
        }
        settings.update(table)
        return self.config("worker", name, **settings)

    def ledger_counts(self) -> collections.Counter[tuple[str, str]]:
        """Executions per (workflow id, activity id), from the activities' own records."""
        counts: collections.Counter[tuple[str, str]] = collections.Counter()
        for line in self.ledger.read_text().splitlines():
            entry = json.loads(line)
            counts[(entry["wf"], entry["act"])] += 1
        return counts


def dag_spec(domain: str, retry: RetryStrategy | None = None, pause: float = 0.0) -> DeciderSpec:
    """a and b from the input, c from both, d and e from c: the result is {d, e}."""
    args = {"pause": pause} if pause else None

    def task(name: str, requires: list[ActivityTask]) -> ActivityTask:
        return ActivityTask(
            f"fault_{name}", "v1", activity_id=name, requires=requires, input=args,
            retry_strategy=retry,
        )  # fmt: skip

    a, b = task("a", []), task("b", [])
    c = task("c", [a, b])
    return DeciderSpec(
        domain=domain,
        task_list=DECISIONS,
        default_activity_task_list=ACTIVITIES,
        activity_tasks=[a, b, c, task("d", [c]), task("e", [c])],
    )


def start_many(
    site: Site, ids: list[str], inputs: list[Any], threads: int = 16, workflow: str = WORKFLOW
) -> dict[str, str]:
    """Start one workflow per id at once from ``threads`` threads; workflow id -> run id.

    An input that is a ``str`` is sent as it is (bad-input tests); anything else as JSON.
    """

    def one(pair: tuple[str, Any]) -> tuple[str, str]:
        workflow_id, value = pair
        answer = site.client.start_workflow_execution(
            domain=site.domain,
            workflowId=workflow_id,
            workflowType={"name": workflow, "version": "v1"},
            input=value if isinstance(value, str) else json.dumps(value),
        )
        return workflow_id, str(answer["runId"])

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, zip(ids, inputs, strict=True)))


def closed_count(site: Site) -> int:
    answer = site.client.count_closed_workflow_executions(
        domain=site.domain, startTimeFilter={"oldestDate": 0}
    )
    return int(answer["count"])


def wait_all_closed(site: Site, runs: dict[str, str], timeout: float) -> float:
    """Wait until every run has closed; returns the seconds it took."""
    started = time.monotonic()
    while closed_count(site) < len(runs):
        if time.monotonic() - started > timeout:
            dead = [s.kind for s in site.services if s.proc.poll() is not None]
            raise AssertionError(
                f"{closed_count(site)} of {len(runs)} closed after {timeout:.0f} s; "
                f"exited services: {dead}"
            )
        time.sleep(0.5)
    return time.monotonic() - started


@dataclass
class Outcome:
    """One run's history, read once, with what the checks need."""

    workflow_id: str
    events: list[dict[str, Any]]
    kinds: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.kinds = [e["eventType"] for e in self.events]

    @property
    def closing(self) -> dict[str, Any]:
        last = self.events[-1]
        assert last["eventType"] in CLOSED, (self.workflow_id, self.kinds[-5:])
        return last

    def result(self) -> Any:
        closing = self.closing
        assert closing["eventType"] == "WorkflowExecutionCompleted", (self.workflow_id, closing)
        return json.loads(closing["workflowExecutionCompletedEventAttributes"]["result"])

    def failure(self) -> tuple[str, Any]:
        closing = self.closing
        assert closing["eventType"] == "WorkflowExecutionFailed", (self.workflow_id, closing)
        attrs = closing["workflowExecutionFailedEventAttributes"]
        return str(attrs.get("reason")), json.loads(attrs.get("details") or "null")

    def scheduled(self) -> collections.Counter[str]:
        """ActivityTaskScheduled per activity id."""
        return collections.Counter(
            e["activityTaskScheduledEventAttributes"]["activityId"]
            for e in self.events
            if e["eventType"] == "ActivityTaskScheduled"
        )


def outcomes(site: Site, runs: dict[str, str], threads: int = 8) -> dict[str, Outcome]:
    def one(pair: tuple[str, str]) -> tuple[str, Outcome]:
        workflow_id, run_id = pair
        return workflow_id, Outcome(workflow_id, site.history(workflow_id, run_id))

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, runs.items()))


def check_dag_results(found: dict[str, Outcome], inputs: dict[str, int]) -> None:
    """Every workflow completed with the result its own input gives."""
    wrong = {
        wid: out.closing.get("eventType")
        for wid, out in found.items()
        if out.closing["eventType"] != "WorkflowExecutionCompleted"
        or out.result() != expected_result(inputs[wid])
    }
    assert not wrong, f"{len(wrong)} workflows wrong: {dict(list(wrong.items())[:5])}"


def swf_retries(services: list[Service]) -> list[dict[str, Any]]:
    return [r for s in services for r in s.records() if r.get("event") == "swf.retry"]
