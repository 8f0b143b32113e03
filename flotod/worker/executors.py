"""Running an activity in a process of its own (CPU-bound work, or code that must be killable).

The worker's lane thread waits on a :class:`ProcessExecution`, which relays heartbeat details
up and cancellation down a pipe, and ends the process on a forced stop or after the grace
period of an ignored cancellation.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

from flotod.worker import childlog
from flotod.worker.context import CurrentTask, TaskInfo, details_text
from flotod.worker.execute import Outcome, run_activity
from flotod.worker.registry import ActivityDefinition
from flotod.worker.running import RunningTask


class _PipeTask(CurrentTask):
    """``current_task()`` in an activity process: details go up the pipe, cancel comes down."""

    def __init__(self, info: TaskInfo, conn: Connection) -> None:
        super().__init__(info)
        self._conn = conn
        self._send_lock = threading.Lock()
        self._cancel = threading.Event()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        try:
            while self._conn.recv() != "cancel":
                pass
        except (EOFError, OSError):
            return
        self._cancel.set()

    def send(self, message: tuple[str, Any]) -> None:
        with self._send_lock:
            self._conn.send(message)

    def heartbeat(self, details: Any = None) -> None:
        self.send(("beat", details_text(details)))

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()


def _child_main(
    conn: Connection, definition: ActivityDefinition, argument: Any, info: TaskInfo, level: int
) -> None:
    task = _PipeTask(info, conn)
    childlog.install(task.send, level)
    outcome = run_activity(definition, argument, task)
    childlog.finish()
    task.send(("done", outcome))


class ProcessExecution:
    """The activity runs in a fresh process (CPU-bound work, or code that must be killable)."""

    def __init__(
        self, definition: ActivityDefinition, running: RunningTask, start_method: str
    ) -> None:
        self._running = running
        self._outcome: Outcome | None = None
        self._cancel_sent = False
        # typeshed types get_context() as BaseContext, which hides Process.
        context: Any = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Effective once, when the fork server starts: children then fork with flotod loaded.
            context.set_forkserver_preload(["flotod.worker.executors"])
        self._conn, child = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_child_main,
            args=(
                child,
                definition,
                running.argument,
                running.info,
                logging.getLogger().getEffectiveLevel(),
            ),
            name=f"flotod-activity-{running.info.activity_id}"[:60],
            daemon=True,
        )
        try:
            self._process.start()
        except Exception as exc:  # e.g. a function that cannot be pickled by reference
            self._outcome = Outcome.failed(
                "activity cannot run in a process",
                f"{definition.qualified_name}: {type(exc).__name__}: {exc}",
            )
        finally:
            child.close()

    def wait(self, timeout: float) -> Outcome | None:
        if self._outcome is not None:
            return self._outcome
        stopping = self._running.cancel.is_set() or self._running.abort.is_set()
        if stopping and not self._cancel_sent:
            self._cancel_sent = True
            with contextlib.suppress(OSError):
                self._conn.send("cancel")
        try:
            ready = self._conn.poll(timeout)
            while ready:
                kind, payload = self._conn.recv()
                if kind == "beat":
                    self._running.set_details(payload)
                elif kind == "log":  # on the lane's thread: the task's fields are bound here
                    childlog.relay(payload)
                elif kind == "done":
                    self._finish(payload)
                    return self._outcome
                ready = self._conn.poll(0)
        except (EOFError, OSError):
            self._process.join(5)
            self._finish(
                Outcome.failed(
                    "activity process died",
                    f"the activity's process exited with code {self._process.exitcode}",
                )
            )
        return self._outcome

    def _finish(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._conn.close()
        self._process.join(5)

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(2)
        if not self._conn.closed:
            self._conn.close()
