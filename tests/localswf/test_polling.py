"""Long polls and exclusive delivery, with threads in-process and processes over HTTP."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import TEST_POLL_TIMEOUT, endpoint_client
from tests.localswf.helpers import (
    ACTIVITIES,
    DECISIONS,
    DOMAIN,
    decide,
    poll_decision,
    schedule,
    setup_domain,
    start,
)


def test_empty_poll_waits_for_the_timeout(swf_client: Any) -> None:
    setup_domain(swf_client)
    began = time.monotonic()
    answer = swf_client.poll_for_activity_task(domain=DOMAIN, taskList={"name": ACTIVITIES})
    waited = time.monotonic() - began
    assert not answer.get("taskToken")
    assert TEST_POLL_TIMEOUT * 0.9 <= waited < TEST_POLL_TIMEOUT + 1.0


def test_poll_returns_as_soon_as_a_task_arrives(swf_backend: Any, swf_client: Any) -> None:
    swf_backend.poll_timeout = 10.0
    setup_domain(swf_client)
    result: dict[str, Any] = {}

    def poll() -> None:
        began = time.monotonic()
        result["task"] = swf_client.poll_for_decision_task(
            domain=DOMAIN, taskList={"name": DECISIONS}
        )
        result["waited"] = time.monotonic() - began

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)
    start(swf_client)
    poller.join(timeout=10)
    assert result["task"].get("taskToken")
    assert 0.2 < result["waited"] < 2.0


def test_concurrent_thread_pollers_never_share_a_task(swf_client: Any) -> None:
    setup_domain(swf_client)
    count = 40
    start(swf_client)
    decide(swf_client, poll_decision(swf_client), *[schedule(f"a{i}") for i in range(count)])

    def worker(_: int) -> list[str]:
        got: list[str] = []
        while True:
            task = swf_client.poll_for_activity_task(domain=DOMAIN, taskList={"name": ACTIVITIES})
            if not task.get("taskToken"):
                return got
            got.append(task["activityId"])
            swf_client.respond_activity_task_completed(taskToken=task["taskToken"], result="ok")

    with ThreadPoolExecutor(8) as pool:
        delivered = [aid for got in pool.map(worker, range(8)) for aid in got]
    assert sorted(delivered) == sorted(f"a{i}" for i in range(count))


def _process_poller(url: str, domain: str, out: Any) -> None:
    client = endpoint_client(url)
    while True:
        task = client.poll_for_activity_task(domain=domain, taskList={"name": ACTIVITIES})
        if not task.get("taskToken"):
            return
        out.put(task["activityId"])
        client.respond_activity_task_completed(taskToken=task["taskToken"])


@pytest.mark.slow
def test_concurrent_process_pollers_never_share_a_task(
    swf_endpoint: str, unique_domain: str
) -> None:
    client = endpoint_client(swf_endpoint)
    setup_domain(client, unique_domain)
    workflows, per_workflow = 10, 10
    for w in range(workflows):
        start(client, f"wf-{w}", unique_domain)
        task = poll_decision(client, unique_domain)
        decide(client, task, *[schedule(f"w{w}-a{i}") for i in range(per_workflow)])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_process_poller, args=(swf_endpoint, unique_domain, out))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    delivered = [out.get(timeout=30) for _ in range(workflows * per_workflow)]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert len(delivered) == len(set(delivered)) == workflows * per_workflow
    assert out.empty()
