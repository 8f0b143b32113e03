"""Run the examples in-process: the pure engine in small decider loops and the real
ActivityWorker, all against the embedded SWF.

The daemon's decisions come from flotod.engine.daemon, the pure logic the daemon service
uses; the daemon process itself (and every other service) is exercised by the demo test.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flotod.cli.executions import Outcome, latest_run_id, wait_for_outcome
from flotod.cli.registration import TypeDef, decider_types, register, worker_types
from flotod.engine import decide, decide_dynamic
from flotod.engine.daemon import DaemonSettings, decide_daemon
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE, decide_child
from flotod.errors import SwfError, UnknownResourceError
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.examples.catalog import DECIDERS, HELLO_MODULES, WORKER_MODULES, Example
from flotod.examples.hello import ACTIVITY_TASK_LIST as HELLO_TASK_LIST
from flotod.examples.via_daemon import SIGNAL_NAME
from flotod.specs import DeciderSpec
from flotod.swf import DecisionTask, SwfClient
from flotod.worker import ActivityWorker, default_registry

DAEMON_TASK_LIST = "flotod_daemon"
DAEMON_ID = "flotod_daemon"

Decide = Callable[[DecisionTask], list[dict[str, Any]]]


def spec_decider(spec: DeciderSpec, dynamic: bool = False) -> Decide:
    def run(task: DecisionTask) -> list[dict[str, Any]]:
        wid = task.workflow_execution.workflow_id
        if dynamic:
            return decide_dynamic(task.events, spec, wid)
        return decide(task.events, spec, wid)

    return run


def daemon_decider(task: DecisionTask) -> list[dict[str, Any]]:
    """The daemon service's own pure logic, for its workflow and for the children it starts."""
    execution = task.workflow_execution
    kind = (task.workflow_type["name"], task.workflow_type["version"])
    if kind == CHILD_TYPE:
        decisions, error = decide_child(task.events, execution.workflow_id, execution.run_id)
        assert error is None, error
        return decisions
    settings = DaemonSettings(
        domain=DOMAIN,
        workflow_id=execution.workflow_id,
        run_id=execution.run_id,
        task_list=DAEMON_TASK_LIST,
        max_children=10,
        continue_after_events=5000,
        child_timeout_seconds=300,
    )
    return decide_daemon(task.events, settings).decisions


class Loop:
    """A thread polling one decision task list until stopped."""

    def __init__(
        self, swf: SwfClient, task_list: str, handler: Decide, domain: str = DOMAIN
    ) -> None:
        self.swf = swf
        self.domain = domain
        self.task_list = task_list
        self.handler = handler
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                task = self.swf.poll_for_decision_task(self.domain, self.task_list)
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
        types = [
            t for d in DECIDERS for t in decider_types(*d.workflow_type, d.task_list, d.spec())
        ]
        types += worker_types(default_registry, WORKER_MODULES, ACTIVITY_TASK_LIST)
        types += worker_types(default_registry, HELLO_MODULES, HELLO_TASK_LIST)
        types += [
            TypeDef("workflow", *DAEMON_TYPE, DAEMON_TASK_LIST),
            TypeDef("workflow", *CHILD_TYPE, DAEMON_TASK_LIST),
        ]
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
            *DAEMON_TYPE,
            task_list=DAEMON_TASK_LIST,
            input={"children": [], "pending": []},
            execution_start_to_close=300,
            child_policy="ABANDON",
        )
        child_id = f"{workflow_id}.child"
        self.swf.signal_workflow_execution(
            DOMAIN, workflow_id, SIGNAL_NAME, {**item.signal_input, "workflow_id": child_id}
        )
        child_run = _wait(lambda: self._open_run(child_id), timeout)
        outcome = wait_for_outcome(
            self.swf, DOMAIN, child_id, child_run, timeout=timeout, interval=0.1
        )
        self.swf.terminate_workflow_execution(DOMAIN, workflow_id, run_id, reason="test done")
        return outcome

    def _open_run(self, workflow_id: str) -> str | None:
        try:
            return latest_run_id(self.swf, DOMAIN, workflow_id)
        except SwfError:
            return None


def _wait(check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
    return value
