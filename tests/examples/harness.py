"""Run the examples in-process: the pure engine in small decider loops and the real
ActivityWorker, all against the embedded SWF.

The daemon stand-in here is deliberately tiny (signal in, child started with the spec in its
input, child decided from that spec); the real daemon is exercised by the demo test.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flotod.cli.executions import Outcome, attributes, wait_for_outcome
from flotod.cli.registration import TypeDef, decider_types, register, worker_types
from flotod.engine import decide, decide_dynamic
from flotod.errors import UnknownResourceError
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.examples.catalog import DECIDERS, HELLO_MODULES, WORKER_MODULES, Example
from flotod.examples.hello import ACTIVITY_TASK_LIST as HELLO_TASK_LIST
from flotod.specs import DeciderSpec, decider_spec_from_dict
from flotod.swf import DecisionTask, SwfClient, encode_input
from flotod.worker import ActivityWorker, default_registry

DAEMON_TASK_LIST = "flotod_daemon"
DAEMON_ID = "flotod_daemon"
DAEMON_TYPE = TypeDef("workflow", "flotod_daemon", "1", DAEMON_TASK_LIST)
DAEMON_CHILD_TYPE = TypeDef("workflow", "flotod_daemon_child", "1", DAEMON_TASK_LIST)

Decide = Callable[[DecisionTask], list[dict[str, Any]]]


def spec_decider(spec: DeciderSpec, dynamic: bool = False) -> Decide:
    def run(task: DecisionTask) -> list[dict[str, Any]]:
        wid = task.workflow_execution.workflow_id
        if dynamic:
            return decide_dynamic(task.events, spec, wid)
        return decide(task.events, spec, wid)

    return run


def daemon_decider(task: DecisionTask) -> list[dict[str, Any]]:
    """The daemon workflow starts one child per signal; a child is decided by its own spec."""
    wid = task.workflow_execution.workflow_id
    if task.workflow_type["name"] == DAEMON_CHILD_TYPE.name:
        started = attributes(task.events[0])
        spec = decider_spec_from_dict(json.loads(started["input"]))
        return decide(task.events, spec, wid)
    decisions = []
    for event in task.events:
        if event["eventId"] <= task.previous_started_event_id:
            continue
        if event["eventType"] != "WorkflowExecutionSignaled":
            continue
        given = json.loads(attributes(event)["input"])
        attrs = {
            "workflowType": {"name": DAEMON_CHILD_TYPE.name, "version": DAEMON_CHILD_TYPE.version},
            "workflowId": f"{wid}:{event['eventId']}",
            "input": encode_input(given["decider_spec"]),
            "taskList": {"name": DAEMON_TASK_LIST},
            "childPolicy": "ABANDON",
        }
        decisions.append(
            {
                "decisionType": "StartChildWorkflowExecution",
                "startChildWorkflowExecutionDecisionAttributes": attrs,
            }
        )
    return decisions


class Loop:
    """A thread polling one decision task list until stopped."""

    def __init__(self, swf: SwfClient, task_list: str, handler: Decide) -> None:
        self.swf = swf
        self.task_list = task_list
        self.handler = handler
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                task = self.swf.poll_for_decision_task(DOMAIN, self.task_list)
                if task is None:
                    continue
                decisions = self.handler(task)
                # UnknownResource: the execution was terminated while we decided.
                with contextlib.suppress(UnknownResourceError):
                    self.swf.respond_decision_task_completed(task.task_token, decisions)
        except BaseException as exc:
            self.errors.append(exc)


class ExampleRunner:
    """Registers every example's types, runs deciders and workers, runs examples."""

    def __init__(self, swf: SwfClient) -> None:
        self.swf = swf
        types = [t for d in DECIDERS for t in decider_types(d.name, d.task_list, d.spec())]
        types += worker_types(default_registry, WORKER_MODULES, ACTIVITY_TASK_LIST)
        types += worker_types(default_registry, HELLO_MODULES, HELLO_TASK_LIST)
        types += [DAEMON_TYPE, DAEMON_CHILD_TYPE]
        self.registration = register(swf, DOMAIN, types, retention_days=1)

    @contextmanager
    def serving(self) -> Iterator[ExampleRunner]:
        loops = [Loop(self.swf, d.task_list, spec_decider(d.spec(), d.dynamic)) for d in DECIDERS]
        loops.append(Loop(self.swf, DAEMON_TASK_LIST, daemon_decider))
        workers = [
            ActivityWorker(DOMAIN, task_list, swf=self.swf, concurrency=4, registry=None)
            for task_list in (ACTIVITY_TASK_LIST, HELLO_TASK_LIST)
        ]
        threads = [loop.thread for loop in loops]
        threads += [threading.Thread(target=w.run, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            for loop in loops:  # stop everything first, then wait: polls end in parallel
                loop.stop.set()
            for worker in workers:
                worker.stop()
            for thread in threads:
                thread.join(10)
        for loop in loops:
            assert not loop.errors, f"decider loop {loop.task_list} failed: {loop.errors[0]!r}"

    def run_all(self, items: Iterable[Example], timeout: float = 30.0) -> dict[str, Outcome]:
        """Run examples side by side (as one worker serving them all would in production)."""
        found: dict[str, Outcome] = {}
        errors: list[BaseException] = []

        def one(item: Example) -> None:
            try:
                found[item.name] = self.run(item, f"{item.name}-{uuid.uuid4().hex[:8]}", timeout)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(item,)) for item in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 10)
        if errors:
            raise errors[0]
        return found

    def run(self, item: Example, workflow_id: str, timeout: float = 30.0) -> Outcome:
        """Start ``item`` (or signal the daemon with it) and wait for its outcome."""
        if item.decider is None:
            return self._via_daemon(item, workflow_id, timeout)
        name, version = item.workflow_type
        run_id = self.swf.start_workflow_execution(
            DOMAIN,
            workflow_id,
            name,
            version,
            task_list=item.decider.task_list,
            input=item.input,
            execution_start_to_close=300,
        )
        return wait_for_outcome(
            self.swf, DOMAIN, workflow_id, run_id, timeout=timeout, interval=0.1
        )

    def _via_daemon(self, item: Example, workflow_id: str, timeout: float) -> Outcome:
        run_id = self.swf.start_workflow_execution(
            DOMAIN,
            workflow_id,
            DAEMON_TYPE.name,
            DAEMON_TYPE.version,
            task_list=DAEMON_TASK_LIST,
            execution_start_to_close=300,
        )
        self.swf.signal_workflow_execution(
            DOMAIN, workflow_id, "startChildWorkflowExecution", item.signal_input
        )
        children = _wait(lambda: self._children(workflow_id, run_id), timeout)
        child_id, child_run = children[0]
        outcome = wait_for_outcome(
            self.swf, DOMAIN, child_id, child_run, timeout=timeout, interval=0.1
        )
        self.swf.terminate_workflow_execution(DOMAIN, workflow_id, run_id, reason="test done")
        return outcome

    def _children(self, workflow_id: str, run_id: str) -> list[tuple[str, str]]:
        events = self.swf.get_workflow_execution_history(DOMAIN, workflow_id, run_id)
        return [
            (
                attributes(e)["workflowExecution"]["workflowId"],
                attributes(e)["workflowExecution"]["runId"],
            )
            for e in events
            if e["eventType"] == "ChildWorkflowExecutionStarted"
        ]


def _wait(check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
    return value
