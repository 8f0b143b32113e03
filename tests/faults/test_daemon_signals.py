"""The daemon workflow against hostile and overwhelming signals, with the real daemon process:
poisoned signals interleaved with valid requests each get their own rejection marker while
every valid request's child completes; a backlog of 10,000 requests of 12 KB keeps every run
near ``continue_after_events`` and accounts for every request (started, waiting, rejected)."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flotod.engine.attributes import event_attributes
from flotod.specs import DeciderSpec, to_jsonable
from tests.faults.acts import expected_result
from tests.faults.conftest import MakeSite
from tests.faults.harness import ACTIVITIES, FaultSite, dag_spec
from tests.services.conftest import eventually

pytestmark = pytest.mark.slow

DAEMON_ID = "flotod_daemon"
START = "startChildWorkflowExecution"
CLOSED = "flotod.childClosed"
MARKER = "flotod.rejectedSignal"


def _signal(site: FaultSite, payload: Any, name: str = START) -> None:
    site.client.signal_workflow_execution(
        domain=site.domain,
        workflowId=DAEMON_ID,
        signalName=name,
        input=payload if isinstance(payload, str) else json.dumps(payload),
    )


def _runs(site: FaultSite, workflow_id: str) -> list[dict[str, Any]]:
    """Every run of ``workflow_id``, closed and open, oldest first."""
    found: list[dict[str, Any]] = []
    for call in (site.client.list_closed_workflow_executions,
                 site.client.list_open_workflow_executions):  # fmt: skip
        found += call(
            domain=site.domain,
            startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": workflow_id},
        )["executionInfos"]
    return sorted(found, key=lambda info: info["startTimestamp"])


def _open_runs(site: FaultSite, workflow_id: str) -> list[dict[str, Any]]:
    infos: list[dict[str, Any]] = site.client.list_open_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"]
    return infos


def _history(site: FaultSite, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    """The whole history, every page (a page holds at most 1,000 events)."""
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = site.client.get_workflow_execution_history(
            domain=site.domain, execution={"workflowId": workflow_id, "runId": run_id}, **token
        )
        events += page["events"]
        if not page.get("nextPageToken"):
            return events
        token = {"nextPageToken": page["nextPageToken"]}


def _chain(site: FaultSite, workflow_id: str) -> list[list[dict[str, Any]]]:
    """The histories of every run, oldest first, following continue-as-new back from the
    open run (start times alone may tie)."""
    (info,) = _open_runs(site, workflow_id)
    run_id: str | None = info["execution"]["runId"]
    chain = []
    while run_id:
        events = _history(site, workflow_id, run_id)
        chain.append(events)
        run_id = _attrs(events[0]).get("continuedExecutionRunId")
    return chain[::-1]


def _closed_status(site: FaultSite, workflow_id: str) -> str | None:
    infos = site.client.list_closed_workflow_executions(
        domain=site.domain,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )["executionInfos"]
    return str(infos[0]["closeStatus"]) if infos else None


def _attrs(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event_attributes(event))


def _is_request(event: dict[str, Any]) -> bool:
    kind = event["eventType"]
    return bool(kind == "WorkflowExecutionSignaled" and _attrs(event)["signalName"] == START)


def _markers(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rejection markers of one run by the key of what they reject."""
    out = {}
    for e in events:
        if e["eventType"] != "MarkerRecorded":
            continue
        details = json.loads(_attrs(e)["details"])
        if _attrs(e)["markerName"] == MARKER:  # one rejection
            out[details["key"]] = details
        elif _attrs(e)["markerName"] == MARKER + "s":  # a batch of them
            out.update({entry["key"]: entry for entry in details["rejected"]})
    return out


def test_poisoned_signals_are_rejected_one_by_one_and_valid_requests_complete(
    make_site: MakeSite,
) -> None:
    site = make_site()
    site.register_fault_types(task_timeout=10, start_to_close=30)
    daemon = site.start("daemon", site.config("daemon", max_children=2))
    worker = site.start("worker", site.worker())
    daemon.wait_for("daemon.workflow_started")
    worker.wait_for("service.ready")
    child_spec = to_jsonable(
        DeciderSpec(
            domain=site.domain,
            default_activity_task_list=ACTIVITIES,
            activity_tasks=dag_spec(site.domain).activity_tasks,
        )
    )
    deep = "[" * 3000
    poisons: list[tuple[str, str]] = [
        (START, deep),  # RecursionError at every replay, before
        (CLOSED, deep),
        (START, "[" * 32_768),  # deep and as large as SWF takes
        (START, json.dumps({"decider_spec": deep})),  # the spec as deep JSON text
        (START, json.dumps({"decider_spec": 5})),  # wrong types
        (START, json.dumps({"decider_spec": child_spec, "workflow_id": 7})),
        (START, json.dumps([child_spec])),
        (START, "null"),
        (START, json.dumps({"decider_spec": child_spec, "bogus": 1})),  # unknown key
        (CLOSED, json.dumps({"workflow_id": "never-started", "run_id": "forged"})),
        (CLOSED, json.dumps({"workflow_id": "ok-0"})),  # no run id: would free ok-0's slot
        (CLOSED, json.dumps({"workflow_id": ["x"], "run_id": {}})),
    ]
    valid = {f"ok-{i}": 10 + i for i in range(6)}
    for i, (wid, n) in enumerate(valid.items()):
        _signal(site, {"decider_spec": child_spec, "workflow_id": wid, "input": {"n": n}})
        for name, text in poisons[2 * i : 2 * i + 2]:
            _signal(site, text, name)
    with pytest.raises(ClientError, match="ValidationException"):  # 1 MB: SWF refuses it
        _signal(site, "[" * 1_000_000)

    def all_closed() -> bool:
        return all(_closed_status(site, wid) for wid in valid)

    eventually(all_closed, timeout=150, what="every valid request's child to close")
    for wid, n in valid.items():
        (run,) = _runs(site, wid)  # started exactly once
        closing = site.wait_closed(wid, run["execution"]["runId"])
        assert closing["eventType"] == "WorkflowExecutionCompleted", (wid, closing)
        assert json.loads(_attrs(closing)["result"]) == expected_result(n)

    (daemon_run,) = _runs(site, DAEMON_ID)
    history = _history(site, DAEMON_ID, daemon_run["execution"]["runId"])
    kinds = [e["eventType"] for e in history]
    assert "DecisionTaskTimedOut" not in kinds  # no decision task was ever left unanswered
    markers = _markers(history)
    signalled = {
        f"s{e['eventId']}": (_attrs(e)["signalName"], _attrs(e).get("input", ""))
        for e in history
        if e["eventType"] == "WorkflowExecutionSignaled"
    }
    poisoned = {key for key, value in signalled.items() if value in poisons}
    assert len(poisoned) == len(poisons)
    assert set(markers) == poisoned  # each bad signal its marker; no valid one rejected
    reasons = {signalled[key]: markers[key]["reason"] for key in poisoned}
    assert "nested deeper than" in reasons[(START, deep)]
    assert "nested deeper than" in reasons[(CLOSED, deep)]
    assert "unknown keys: bogus" in reasons[poisons[8]]
    assert "names no child run" in reasons[poisons[9]]
    # never more than max_children open: the forged childClosed freed no slot
    open_children: set[str] = set()
    for e in history:
        if e["eventType"] == "StartChildWorkflowExecutionInitiated":
            open_children.add(_attrs(e)["workflowId"])
            assert len(open_children) <= 2, open_children
        elif e["eventType"] == "ChildWorkflowExecutionCompleted":
            open_children.discard(_attrs(e)["workflowExecution"]["workflowId"])
    assert daemon.proc.poll() is None and "decision.crashed" not in daemon.events()
    daemon.send(signal.SIGTERM)
    worker.send(signal.SIGTERM)
    assert daemon.stop() == 0 and worker.stop() == 0


REQUESTS = 10_000
REQUEST_SIZE = 12_000
CONTINUE_AFTER = 1000
BURST = 250
MARGIN = 2 * BURST  # what can arrive while the run is closing, and the markers answering it


@pytest.mark.timeout(600)
def test_a_backlog_of_ten_thousand_large_requests_keeps_every_run_bounded_and_loses_none(
    make_site: MakeSite,
) -> None:
    site = make_site()
    daemon = site.start(
        "daemon",
        site.config("daemon", max_children=2, continue_after_events=CONTINUE_AFTER),
    )
    daemon.wait_for("daemon.workflow_started")
    # Children with no task complete at their first decision: the daemon decides them too.
    spec = to_jsonable(DeciderSpec(domain=site.domain, activity_tasks=[]))
    pad = "x" * REQUEST_SIZE
    began = time.monotonic()

    def send(i: int) -> None:
        _signal(site, {"decider_spec": spec, "workflow_id": f"req-{i}", "input": pad})

    def settled() -> bool:
        time.sleep(0.2)
        infos = _open_runs(site, DAEMON_ID)
        if len(infos) != 1:
            return False
        current = _history(site, DAEMON_ID, infos[0]["execution"]["runId"])
        handled = set(_markers(current))
        for e in current:
            if e["eventType"] == "StartChildWorkflowExecutionInitiated":
                handled.add(json.loads(_attrs(e)["control"])["daemon_key"])
        return all(f"s{e['eventId']}" in handled for e in current if _is_request(e))

    # Bursts with a pause until the daemon has answered them: a run can only close in a pause
    # longer than one decision round trip, because SWF refuses a closing decision
    # (UNHANDLED_DECISION) whenever a new event arrived while it was being made. (SWF's own
    # signal throttling, a bucket of 2,000 refilled at 30/s, shapes floods the same way.)
    with ThreadPoolExecutor(8) as pool:
        for first in range(0, REQUESTS, BURST):
            list(pool.map(send, range(first, min(first + BURST, REQUESTS))))
            eventually(settled, timeout=60, what=f"the daemon to answer {first + BURST} signals")
    print(f"\n{REQUESTS} signals sent and answered in {time.monotonic() - began:.0f} s")

    started: list[str] = []
    rejected: list[str] = []
    waiting: list[str] = []
    runs = _chain(site, DAEMON_ID)
    for index, events in enumerate(runs):
        assert len(events) < CONTINUE_AFTER + MARGIN, (index, len(events))
        assert [e["eventType"] for e in events].count("DecisionTaskTimedOut") == 0
        carried = json.loads(_attrs(events[0]).get("input") or "{}").get("pending", [])
        requests = {f"p{i}": item["workflow_id"] for i, item in enumerate(carried)}
        requests.update(
            {
                f"s{e['eventId']}": json.loads(_attrs(e)["input"])["workflow_id"]
                for e in events
                if _is_request(e)
            }
        )
        markers = _markers(events)
        answered = set(markers)
        for e in events:
            if e["eventType"] == "StartChildWorkflowExecutionInitiated":
                key = json.loads(_attrs(e)["control"])["daemon_key"]
                started.append(requests[key])
                answered.add(key)
        for key, details in markers.items():
            assert "backlog" in details["reason"], details
            assert details["workflow_id"] == requests[key]
            rejected.append(requests[key])
        unanswered = [wid for key, wid in requests.items() if key not in answered]
        if index == len(runs) - 1:
            waiting = unanswered  # still waiting in the open run: carried or signalled there
        else:  # a closed run hands on exactly what it did not answer
            following = runs[index + 1][0]
            assert events[-1]["eventType"] == "WorkflowExecutionContinuedAsNew"
            handed_on = json.loads(_attrs(following)["input"])["pending"]
            assert [p["workflow_id"] for p in handed_on] == unanswered, index
    print(f"{len(runs)} runs, the longest {max(len(events) for events in runs)} events")
    assert len(runs) > REQUESTS // CONTINUE_AFTER  # it did continue, many times
    assert started, "no request was started"
    everyone = sorted(f"req-{i}" for i in range(REQUESTS))
    assert sorted(started + rejected + waiting) == everyone  # each exactly once
    assert len(set(started)) == len(started)
    daemon.send(signal.SIGTERM)
    assert daemon.stop() == 0
