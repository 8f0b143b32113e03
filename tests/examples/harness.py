"""Run the examples in-process: the pure engine in small decider loops and the real
ActivityWorker, all against the embedded SWF.

The deciders and the daemon use the services' own handlers (flotod.engine.handlers) and
registration; the service processes themselves are exercised by the demo test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flotod.cli.executions import Outcome, latest_run_id, wait_for_outcome
from flotod.engine.daemon_requests import CHILD_TYPE, DAEMON_TYPE
from flotod.engine.decisions import MAX_PAYLOAD, payload_limit
from flotod.engine.handlers import DaemonHandler, DynamicHandler, Handler, SpecHandler
from flotod.errors import SwfError, UnknownResourceError
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.examples.catalog import DECIDERS, HELLO_MODULES, WORKER_MODULES, Example
from flotod.examples.hello import ACTIVITY_TASK_LIST as HELLO_TASK_LIST
from flotod.examples.via_daemon import SIGNAL_NAME
from flotod.payloads import Payloads
from flotod.payloads.history import encode_decisions, resolve_events
from flotod.services.registration import TypeDef, decider_types, register, worker_types
from flotod.specs import DeciderSpec
from flotod.swf import SwfClient
from flotod.worker import ActivityWorker, default_registry

DAEMON_TASK_LIST = "flotod_daemon"
DAEMON_ID = "flotod_daemon"


def spec_handler(
    spec: DeciderSpec, dynamic: bool = False, max_payload: int = MAX_PAYLOAD
) -> Handler:
    """The decider service's own handler for a spec (a dynamic decider's spec gives only
    its defaults)."""
    if dynamic:
        return DynamicHandler(spec, max_payload=max_payload)
    return SpecHandler(spec, max_payload=max_payload)


# The daemon service's own handler, for its workflow and for the children it starts.
DAEMON_HANDLER = DaemonHandler(
    domain=DOMAIN,
    task_list=DAEMON_TASK_LIST,
    max_children=10,
    continue_after_events=5000,
    child_timeout_seconds=300,
)


class Loop:
    """A thread polling one decision task list until stopped."""

    def __init__(
        self,
        swf: SwfClient,
        task_list: str,
        handler: Handler,
        domain: str = DOMAIN,
        payloads: Payloads | None = None,
    ) -> None:
        self.swf = swf
        self.domain = domain
        self.task_list = task_list
        self.handler = handler
        self.payloads = payloads or Payloads.off()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                task = self.swf.poll_for_decision_task(self.domain, self.task_list)
                if task is None:
                    continue
                # As the decider service does: values in S3 resolved before deciding, large
                # ones stored after.
                events = resolve_events(task.events, self.payloads)
                answer = self.handler(dataclasses.replace(task, events=events))
                assert not [n for n in answer.notes if n.get("level") == "error"], answer.notes
                run = task.workflow_execution
                decisions = encode_decisions(
                    answer.decisions, self.payloads, run.workflow_id, run.run_id
                )
                # UnknownResource: the execution was terminated while we decided.
                with contextlib.suppress(UnknownResourceError):
                    self.swf.respond_decision_task_completed(task.task_token, decisions)
        except BaseException as exc:
            self.errors.append(exc)


class ExampleRunner:
    """Registers every example's types, runs deciders and workers, runs examples."""

    def __init__(self, swf: SwfClient, payloads: Payloads | None = None) -> None:
        self.swf = swf
        self.payloads = payloads or Payloads.off()
        types = [
            t for d in DECIDERS for t in decider_types(*d.workflow_type, d.task_list, d.spec())
        ]
        types += worker_types(default_registry, WORKER_MODULES, ACTIVITY_TASK_LIST, 90)
        types += worker_types(default_registry, HELLO_MODULES, HELLO_TASK_LIST, 90)
        types += [
            TypeDef("workflow", *DAEMON_TYPE, DAEMON_TASK_LIST),
            TypeDef("workflow", *CHILD_TYPE, DAEMON_TASK_LIST),
        ]
        self.domain_created = swf.register_domain(DOMAIN, retention_days=1)
        self.registration = register(swf, DOMAIN, types)

    @contextmanager
    def serving(self) -> Iterator[ExampleRunner]:
        limit = payload_limit(self.payloads.enabled)
        loops = [
            Loop(
                self.swf,
                d.task_list,
                spec_handler(d.spec(), d.dynamic, limit),
                payloads=self.payloads,
            )
            for d in DECIDERS
        ]
        loops.append(Loop(self.swf, DAEMON_TASK_LIST, DAEMON_HANDLER, payloads=self.payloads))
        workers = [
            ActivityWorker(
                DOMAIN,
                task_list,
                swf=self.swf,
                concurrency=4,
                registry=None,
                payloads=self.payloads,
            )
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
            self.swf,
            DOMAIN,
            workflow_id,
            run_id,
            timeout=timeout,
            interval=0.1,
            payloads=self.payloads,
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
            self.swf,
            DOMAIN,
            child_id,
            child_run,
            timeout=timeout,
            interval=0.1,
            payloads=self.payloads,
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
