"""Workflows whose only job is to schedule activities for the worker under test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flotod.errors import SwfError, TransientSwfError
from flotod.swf import RetryPolicy, SwfClient
from flotod.worker import ActivityWorker

DECIDE = "decide"
WORK = "work"


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    value: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return value


class Scheduler:
    """Starts one workflow and schedules activities in it, as a decider would."""

    def __init__(self, swf: SwfClient, domain: str, workflow_id: str = "wf") -> None:
        self.swf = swf
        self.domain = domain
        swf.register_domain(domain, retention_days=1)
        swf.register_workflow_type(domain, "wf", "1", task_list=DECIDE, task_start_to_close=300)
        self.workflow_id = workflow_id
        self.run_id = swf.start_workflow_execution(domain, workflow_id, "wf", "1")

    def schedule(self, *activities: tuple[str, str, str, Any], heartbeat: int = 300) -> None:
        """Schedule (activity_id, name, version, input); input None = none, str as is, else JSON."""
        decision = self.swf.poll_for_decision_task(self.domain, DECIDE)
        assert decision is not None, "expected a decision task"
        decisions = []
        for activity_id, name, version, value in activities:
            self.swf.register_activity_type(self.domain, name, version, task_list=WORK)
            body: dict[str, Any] = {
                "activityId": activity_id,
                "activityType": {"name": name, "version": version},
                "taskList": {"name": WORK},
                "heartbeatTimeout": str(heartbeat),
            }
            if value is not None:
                body["input"] = value if isinstance(value, str) else json.dumps(value)
            decisions.append(
                {
                    "decisionType": "ScheduleActivityTask",
                    "scheduleActivityTaskDecisionAttributes": body,
                }
            )
        self.swf.respond_decision_task_completed(decision.task_token, decisions)

    def events(self) -> list[dict[str, Any]]:
        return self.swf.get_workflow_execution_history(self.domain, self.workflow_id, self.run_id)

    def closed(self) -> dict[str, dict[str, Any]]:
        """activity id -> {"type": closing event type, **its attributes} for closed activities."""
        events = self.events()
        ids = {
            e["eventId"]: attrs(e)["activityId"]
            for e in events
            if e["eventType"] == "ActivityTaskScheduled"
        }
        out: dict[str, dict[str, Any]] = {}
        for e in events:
            kind = e["eventType"]
            if kind in (
                "ActivityTaskCompleted",
                "ActivityTaskFailed",
                "ActivityTaskCanceled",
                "ActivityTaskTimedOut",
            ):
                a = attrs(e)
                out[ids[a["scheduledEventId"]]] = {"type": kind, **a}
        return out

    def wait_closed(self, count: int, timeout: float = 20.0) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = wait_for(
            lambda: (c := self.closed()) and len(c) >= count and c, timeout
        )
        return found


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@contextmanager
def running(worker: ActivityWorker, now: bool = False) -> Iterator[threading.Thread]:
    """Run ``worker`` in a thread; stop it (gracefully unless ``now``) and join on exit."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop(now=now)
        thread.join(30)
        assert not thread.is_alive(), "worker did not stop"
    if errors:
        raise errors[0]


class FaultyClient(SwfClient):
    """The real client, plus a record of heartbeats and injected transient faults.

    ``faults[name]`` is how many of the next calls to method ``name`` raise TransientSwfError
    before reaching SWF: throttling that outlasted the client's own retries.
    """

    def __init__(self, inner: SwfClient) -> None:
        super().__init__(boto_client=inner.boto_client, retry=inner.retry, identity="faulty")
        self.faults: dict[str, int] = {}
        self.errors: dict[str, list[SwfError]] = {}  # raised first, in order
        self.beats: list[str | None] = []

    def _maybe_fail(self, name: str) -> None:
        if self.errors.get(name):
            raise self.errors[name].pop(0)
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            raise TransientSwfError(f"{name}: Rate exceeded", code="ThrottlingException")

    def record_activity_task_heartbeat(
        self, token: str, details: str | None = None, *, retry: RetryPolicy | None = None
    ) -> bool:
        self._maybe_fail("record_activity_task_heartbeat")
        self.beats.append(details)
        return super().record_activity_task_heartbeat(token, details, retry=retry)

    def respond_activity_task_completed(
        self, token: str, result: str | None, *, retry: RetryPolicy | None = None
    ) -> None:
        self._maybe_fail("respond_activity_task_completed")
        super().respond_activity_task_completed(token, result, retry=retry)


def started_but_open(scheduler: Scheduler) -> list[int]:
    """Scheduled event ids of activities that started and never closed: lost work."""
    events = scheduler.events()
    started = {
        attrs(e)["scheduledEventId"] for e in events if e["eventType"] == "ActivityTaskStarted"
    }
    closed = {
        attrs(e)["scheduledEventId"]
        for e in events
        if e["eventType"].startswith("ActivityTask")
        and "scheduledEventId" in attrs(e)
        and e["eventType"] != "ActivityTaskStarted"
    }
    return sorted(started - closed)


def wait_started(scheduler: Scheduler, count: int = 1) -> None:
    wait_for(
        lambda: sum(e["eventType"] == "ActivityTaskStarted" for e in scheduler.events()) >= count
    )


class BlackHole:
    """An HTTP proxy to an embedded SWF that never answers chosen requests.

    A request whose body contains one of ``holes`` is held without a reply until the proxy
    closes, as a black-holed network would; ``seen`` counts forwarded heartbeats per marker in
    ``watch``. Each client connection has a thread of its own, so held requests block no others.
    """

    def __init__(self, upstream: str, holes: tuple[str, ...], watch: tuple[str, ...] = ()) -> None:
        import http.client
        import http.server
        import urllib.parse

        self.holes = holes
        self.held = 0
        self.seen = dict.fromkeys(watch, 0)
        self._closing = threading.Event()
        target = urllib.parse.urlsplit(upstream)
        host = target.hostname or "127.0.0.1"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                text = body.decode("utf-8", "replace")
                beat = "RecordActivityTaskHeartbeat" in self.headers.get("X-Amz-Target", "")
                if beat and any(hole in text for hole in proxy.holes):
                    proxy.held += 1
                    proxy._closing.wait()
                    self.close_connection = True
                    return
                if beat:
                    for marker in proxy.seen:
                        if marker in text:
                            proxy.seen[marker] += 1
                conn = http.client.HTTPConnection(host, target.port, timeout=70)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


class MemoryStore:
    """An ObjectStore in a dict, with injected outages: ``put_faults`` / ``get_faults`` are
    how many of the next calls raise PayloadUnavailable (``get_faults = -1``: every call)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts = 0
        self.gets = 0
        self.put_faults = 0
        self.get_faults = 0

    def put(self, bucket: str, key: str, data: bytes) -> None:
        from flotod.payloads import PayloadUnavailable

        self.puts += 1
        if self.put_faults:
            self.put_faults -= 1
            raise PayloadUnavailable("SlowDown: please reduce your request rate")
        self.objects[(bucket, key)] = data

    def get(self, bucket: str, key: str) -> bytes:
        from flotod.payloads import PayloadError, PayloadUnavailable

        self.gets += 1
        if self.get_faults:
            self.get_faults -= 1 if self.get_faults > 0 else 0
            raise PayloadUnavailable("connection reset by peer")
        try:
            return self.objects[(bucket, key)]
        except KeyError:
            raise PayloadError("payload_missing", f"no object s3://{bucket}/{key}") from None
