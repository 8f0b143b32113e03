"""The daemon workflow's decisions (flotod.engine.daemon), replayed on hand-written histories."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from flotod.engine.daemon import DaemonSettings, decide_daemon
from flotod.engine.daemon_requests import (
    ChildRequest,
    child_input,
    decide_child,
    parse_request,
    read_child_input,
)
from flotod.engine.decisions import MAX_PAYLOAD

DOMAIN = "d"
SPEC = {
    "type": "floto.specs.DeciderSpec",
    "domain": DOMAIN,
    "activity_tasks": [
        {"type": "floto.specs.task.ActivityTask", "name": "A", "version": "v1", "id_": "a"}
    ],
}


def settings(**kw: Any) -> DaemonSettings:
    base: dict[str, Any] = {
        "domain": DOMAIN,
        "workflow_id": "daemon",
        "run_id": "run1",
        "task_list": "tl",
        "max_children": 2,
        "continue_after_events": 1000,
        "child_timeout_seconds": 600,
    }
    base.update(kw)
    return DaemonSettings(**base)


class History:
    def __init__(self, carried: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        attrs: dict[str, Any] = {"childPolicy": "ABANDON", "taskList": {"name": "tl"}}
        if carried is not None:
            attrs["input"] = json.dumps(carried)
        self.add("WorkflowExecutionStarted", **attrs)

    def add(self, kind: str, ts: float | None = None, **attrs: Any) -> int:
        event_id = len(self.events) + 1
        key = kind[0].lower() + kind[1:] + "EventAttributes"
        self.events.append(
            {
                "eventId": event_id,
                "eventType": kind,
                "eventTimestamp": 1000.0 + event_id if ts is None else ts,
                key: attrs,
            }
        )
        return event_id

    def signal(self, payload: Any, name: str = "startChildWorkflowExecution") -> int:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return self.add("WorkflowExecutionSignaled", signalName=name, input=text)

    def apply(self, decisions: list[dict[str, Any]]) -> dict[str, int]:
        """Record what SWF would for the decisions: child initiated+started, markers."""
        started = {}
        self.add("DecisionTaskCompleted")
        for x in decisions:
            if x["decisionType"] == "StartChildWorkflowExecution":
                a = x["startChildWorkflowExecutionDecisionAttributes"]
                init = self.add("StartChildWorkflowExecutionInitiated", **a)
                self.add(
                    "ChildWorkflowExecutionStarted",
                    initiatedEventId=init,
                    workflowExecution={"workflowId": a["workflowId"], "runId": "r" + str(init)},
                )
                started[a["workflowId"]] = init
            elif x["decisionType"] == "RecordMarker":
                self.add("MarkerRecorded", **x["recordMarkerDecisionAttributes"])
            elif x["decisionType"] == "StartTimer":
                self.add("TimerStarted", **x["startTimerDecisionAttributes"])
        return started


def types(decisions: list[dict[str, Any]]) -> list[str]:
    return [x["decisionType"] for x in decisions]


def test_signal_starts_a_child_carrying_its_spec_and_input() -> None:
    h = History()
    h.signal({"decider_spec": SPEC, "input": {"x": 1}, "workflow_id": "job-1"})
    out = decide_daemon(h.events, settings())
    assert types(out.decisions) == ["StartChildWorkflowExecution"]
    attrs = out.decisions[0]["startChildWorkflowExecutionDecisionAttributes"]
    assert attrs["workflowId"] == "job-1"
    assert attrs["workflowType"] == {"name": "flotod_daemon_child", "version": "v1"}
    assert attrs["taskList"] == {"name": "tl"}
    assert attrs["childPolicy"] == "TERMINATE"
    assert attrs["executionStartToCloseTimeout"] == "600"
    child = read_child_input(attrs["input"])
    assert child.spec.domain == DOMAIN and child.input_text == '{"x":1}'
    assert child.daemon_workflow_id == "daemon"
    h.apply(out.decisions)
    assert decide_daemon(h.events, settings()).decisions == []  # replay: nothing twice


def test_spec_as_json_string_and_default_child_id_are_accepted() -> None:
    h = History()
    h.signal({"decider_spec": json.dumps(SPEC)})
    h.signal({"decider_spec": SPEC})
    out = decide_daemon(h.events, settings())
    ids = [x["startChildWorkflowExecutionDecisionAttributes"]["workflowId"] for x in out.decisions]
    assert len(set(ids)) == 2 and all(i.startswith("daemon:") for i in ids)
    # the same history always gives the same ids
    again = decide_daemon(h.events, settings()).decisions
    assert [x["startChildWorkflowExecutionDecisionAttributes"]["workflowId"] for x in again] == ids


def test_a_spec_without_a_domain_runs_in_the_daemons() -> None:
    """A spec names its domain only to be checked: without one (as a dynamic decider's spec
    may be written) it is the daemon's, since a child always starts in its parent's domain."""
    h = History()
    h.signal({"decider_spec": {k: v for k, v in SPEC.items() if k != "domain"}, "input": {"x": 1}})
    out = decide_daemon(h.events, settings())
    assert types(out.decisions) == ["StartChildWorkflowExecution"]


def test_bad_signals_are_rejected_with_a_marker_once_and_others_ignored() -> None:
    h = History()
    h.signal("not json")
    h.signal({"decider_spec": {**SPEC, "activity_tasks": [{"type": "os.system", "name": "x"}]}})
    h.signal({"decider_spec": {**SPEC, "domain": "other"}})
    h.signal({"decider_spec": SPEC, "workflow_id": 5})
    h.signal({"x": 1}, name="somethingElse")
    out = decide_daemon(h.events, settings())
    assert types(out.decisions) == ["RecordMarker"] * 4
    reasons = [
        json.loads(x["recordMarkerDecisionAttributes"]["details"])["reason"] for x in out.decisions
    ]
    assert "not JSON" in reasons[0]
    assert "unknown task type 'os.system'" in reasons[1]
    assert "domain 'other'" in reasons[2]
    assert "workflow_id" in reasons[3]
    assert {n["event"] for n in out.notes} >= {"daemon.signal_rejected", "daemon.signal_ignored"}
    h.apply(out.decisions)
    assert decide_daemon(h.events, settings()).decisions == []


def test_max_children_bounds_open_children_and_the_rest_wait() -> None:
    h = History()
    for i in range(4):
        h.signal({"decider_spec": SPEC, "workflow_id": f"c{i}"})
    out = decide_daemon(h.events, settings(max_children=2))
    started = h.apply(out.decisions)
    assert sorted(started) == ["c0", "c1"]
    assert decide_daemon(h.events, settings(max_children=2)).decisions == []
    h.add(
        "ChildWorkflowExecutionCompleted",
        initiatedEventId=started["c0"],
        workflowExecution={"workflowId": "c0", "runId": "x"},
    )
    out = decide_daemon(h.events, settings(max_children=2))
    assert [
        x["startChildWorkflowExecutionDecisionAttributes"]["workflowId"] for x in out.decisions
    ] == ["c2"]


def test_continue_as_new_carries_waiting_requests_and_running_children() -> None:
    h = History()
    for i in range(3):
        h.signal({"decider_spec": SPEC, "workflow_id": f"c{i}", "input": i})
    started = h.apply(decide_daemon(h.events, settings(max_children=1)).decisions)
    assert list(started) == ["c0"]
    small = settings(max_children=1, continue_after_events=len(h.events))
    out = decide_daemon(h.events, small)
    assert types(out.decisions) == ["ContinueAsNewWorkflowExecution"]
    attrs = out.decisions[0]["continueAsNewWorkflowExecutionDecisionAttributes"]
    assert attrs["childPolicy"] == "ABANDON"
    carried = json.loads(attrs["input"])
    assert [p["workflow_id"] for p in carried["pending"]] == ["c1", "c2"]
    child_started_ts = h.events[started["c0"]]["eventTimestamp"]
    assert carried["children"] == [
        {"workflow_id": "c0", "run_id": f"r{started['c0']}", "deadline": child_started_ts + 600}
    ]

    # The new run: c0 still runs, so nothing starts until it reports closing (a timer waits
    # for its deadline in case it never does).
    new = History(carried=carried)
    first = decide_daemon(new.events, settings(max_children=1, run_id="run2"))
    assert types(first.decisions) == ["StartTimer"]
    new.apply(first.decisions)
    new.signal({"workflow_id": "c0", "run_id": "wrong-run"}, name="flotod.childClosed")
    forged = decide_daemon(new.events, settings(max_children=1, run_id="run2")).decisions
    assert types(forged) == ["RecordMarker"]  # rejected, and c0's slot stays taken
    new.apply(forged)
    new.signal({"workflow_id": "c0", "run_id": f"r{started['c0']}"}, name="flotod.childClosed")
    out = decide_daemon(new.events, settings(max_children=1, run_id="run2"))
    attrs = out.decisions[0]["startChildWorkflowExecutionDecisionAttributes"]
    assert attrs["workflowId"] == "c1"
    assert read_child_input(attrs["input"]).input_text == "1"


def test_carried_child_past_its_deadline_counts_closed_by_event_time_and_a_timer_waits() -> None:
    carried = {
        "children": [{"workflow_id": "old", "run_id": "r", "deadline": 5000.0}],
        "pending": [{"decider_spec": SPEC, "workflow_id": "next"}],
    }
    h = History(carried=carried)
    out = decide_daemon(h.events, settings(max_children=1))
    assert types(out.decisions) == ["StartTimer"]
    fire_in = int(out.decisions[0]["startTimerDecisionAttributes"]["startToFireTimeout"])
    assert fire_in == 5000 - 1001 + 1
    h.apply(out.decisions)
    assert decide_daemon(h.events, settings(max_children=1)).decisions == []  # timer is open
    h.add("TimerFired", ts=5001.0, timerId="flotod.deadline.1")
    out = decide_daemon(h.events, settings(max_children=1))
    assert types(out.decisions) == ["StartChildWorkflowExecution"]


def test_continue_waits_for_unresolved_child_starts() -> None:
    h = History()
    h.signal({"decider_spec": SPEC, "workflow_id": "c0"})
    out = decide_daemon(h.events, settings())
    a = out.decisions[0]["startChildWorkflowExecutionDecisionAttributes"]
    h.add("DecisionTaskCompleted")
    h.add("StartChildWorkflowExecutionInitiated", **a)
    assert decide_daemon(h.events, settings(continue_after_events=2)).decisions == []


def test_cancel_request_cancels_the_daemon_workflow() -> None:
    h = History()
    h.add("WorkflowExecutionCancelRequested")
    assert types(decide_daemon(h.events, settings()).decisions) == ["CancelWorkflowExecution"]


def test_child_decides_from_its_own_input_and_reports_closing_to_the_daemon() -> None:
    request = parse_request({"decider_spec": SPEC, "input": {"n": 2}}, DOMAIN, "dmn")
    assert isinstance(request, ChildRequest)
    h = History()
    h.events[0]["workflowExecutionStartedEventAttributes"]["input"] = child_input(request, "dmn")
    decisions, error = decide_child(h.events, "child-1", "run-c")
    assert error is None
    assert types(decisions) == ["ScheduleActivityTask"]
    payload = json.loads(decisions[0]["scheduleActivityTaskDecisionAttributes"]["input"])
    assert payload["workflow"] == {"n": 2}
    h.add("DecisionTaskCompleted")
    sched = h.add(
        "ActivityTaskScheduled", activityId="a", activityType={"name": "A", "version": "v1"}
    )
    h.add("ActivityTaskCompleted", scheduledEventId=sched, result='"ok"')
    decisions, _ = decide_child(h.events, "child-1", "run-c")
    # The signal goes with the close, in one response: SWF only initiates it there.
    assert types(decisions) == ["SignalExternalWorkflowExecution", "CompleteWorkflowExecution"]
    signal = decisions[0]["signalExternalWorkflowExecutionDecisionAttributes"]
    assert signal["workflowId"] == "dmn" and signal["signalName"] == "flotod.childClosed"
    assert json.loads(signal["input"]) == {"workflow_id": "child-1", "run_id": "run-c"}
    assert json.loads(decisions[1]["completeWorkflowExecutionDecisionAttributes"]["result"]) == {
        "a": "ok"
    }
    # SWF refused the close (an event came in meanwhile): close again, signal not repeated.
    h.add("DecisionTaskCompleted")
    h.add("SignalExternalWorkflowExecutionInitiated", **signal)
    h.add("CompleteWorkflowExecutionFailed", cause="UNHANDLED_DECISION")
    h.add("WorkflowExecutionSignaled", signalName="unrelated")
    decisions, _ = decide_child(h.events, "child-1", "run-c")
    assert types(decisions) == ["CompleteWorkflowExecution"]


def test_child_that_fails_reports_to_the_daemon_with_the_failure() -> None:
    request = parse_request({"decider_spec": SPEC}, DOMAIN, "dmn")
    assert isinstance(request, ChildRequest)
    h = History()
    h.events[0]["workflowExecutionStartedEventAttributes"]["input"] = child_input(request, "dmn")
    h.add("DecisionTaskCompleted")
    sched = h.add(
        "ActivityTaskScheduled", activityId="a", activityType={"name": "A", "version": "v1"}
    )
    h.add("ActivityTaskFailed", scheduledEventId=sched, reason="boom", details="{}")
    decisions, _ = decide_child(h.events, "child-2", "run-d")
    assert types(decisions) == ["SignalExternalWorkflowExecution", "FailWorkflowExecution"]
    signal = decisions[0]["signalExternalWorkflowExecutionDecisionAttributes"]
    assert json.loads(signal["input"]) == {"workflow_id": "child-2", "run_id": "run-d"}


def test_child_with_broken_input_fails_with_a_reason() -> None:
    h = History()
    h.events[0]["workflowExecutionStartedEventAttributes"]["input"] = '{"no": 1}'
    decisions, error = decide_child(h.events, "c", "r")
    assert error is not None
    assert types(decisions) == ["FailWorkflowExecution"]
    attrs = decisions[0]["failWorkflowExecutionDecisionAttributes"]
    assert attrs["reason"] == "invalid_child_input"


def test_daemon_modules_build_every_decision_through_engine_decisions() -> None:
    """engine/decisions.py promises one place for decisions and their limits."""
    from pathlib import Path

    engine = Path(__file__).resolve().parents[2] / "flotod" / "engine"
    raw = [p.name for p in engine.glob("daemon*.py") if '"decisionType":' in p.read_text()]
    assert raw == []


POISON = "[" * 3000  # json.loads raises RecursionError on it


def _reasons(decisions: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for x in decisions:
        if x["decisionType"] == "RecordMarker":
            details = json.loads(x["recordMarkerDecisionAttributes"]["details"])
            out[details["key"]] = details["reason"]
    return out


def test_deeply_nested_signals_are_rejected_alone_and_valid_requests_still_start() -> None:
    h = History()
    bad_start = h.signal(POISON)
    ok = h.signal({"decider_spec": SPEC, "workflow_id": "ok-1"})
    bad_closed = h.signal(POISON, name="flotod.childClosed")
    bad_spec = h.signal({"decider_spec": POISON})  # the spec as (deep) JSON text
    bad_input = h.signal('{"decider_spec": ' + json.dumps(SPEC) + ', "input": ' + POISON + "}")
    out = decide_daemon(h.events, settings(max_children=5))
    reasons = _reasons(out.decisions)
    assert set(reasons) == {f"s{i}" for i in (bad_start, bad_closed, bad_spec, bad_input)}
    assert all("nested deeper than" in r for r in reasons.values()), reasons
    starts = [x for x in out.decisions if x["decisionType"] == "StartChildWorkflowExecution"]
    assert [x["startChildWorkflowExecutionDecisionAttributes"]["workflowId"] for x in starts] == [
        "ok-1"
    ]
    assert f"s{ok}" not in reasons
    h.apply(out.decisions)
    assert decide_daemon(h.events, settings(max_children=5)).decisions == []  # each once


def test_bad_child_closed_signals_get_a_marker_and_free_no_slot() -> None:
    h = History()
    h.signal({"decider_spec": SPEC, "workflow_id": "c0"})
    h.signal({"decider_spec": SPEC, "workflow_id": "c1"})
    started = h.apply(decide_daemon(h.events, settings(max_children=1)).decisions)
    assert list(started) == ["c0"]
    forged = [
        h.signal({"workflow_id": "never-started", "run_id": "r"}, name="flotod.childClosed"),
        h.signal({"workflow_id": "c0", "run_id": "not-its-run"}, name="flotod.childClosed"),
        h.signal({"workflow_id": "c0"}, name="flotod.childClosed"),  # no run id
        h.signal({"workflow_id": 5, "run_id": []}, name="flotod.childClosed"),
        h.signal("null", name="flotod.childClosed"),
    ]
    out = decide_daemon(h.events, settings(max_children=1))
    assert types(out.decisions) == ["RecordMarker"] * len(forged)  # c1 still waits
    assert set(_reasons(out.decisions)) == {f"s{i}" for i in forged}
    h.apply(out.decisions)
    h.signal({"workflow_id": "c0", "run_id": f"r{started['c0']}"}, name="flotod.childClosed")
    out = decide_daemon(h.events, settings(max_children=1))
    assert types(out.decisions) == ["StartChildWorkflowExecution"]


def test_malformed_events_never_make_the_daemon_raise() -> None:
    h = History()
    h.signal({"decider_spec": SPEC, "workflow_id": "ok"})
    h.events.append({"eventId": "x", "eventType": "WorkflowExecutionSignaled"})
    h.events.append(
        {
            "eventId": 99,
            "eventType": "StartChildWorkflowExecutionInitiated",
            "startChildWorkflowExecutionInitiatedEventAttributes": {
                "executionStartToCloseTimeout": "NONE",
                "control": POISON,
            },
        }
    )
    h.events.append({"eventType": "TimerStarted", "timerStartedEventAttributes": []})
    out = decide_daemon(h.events, settings(max_children=5))
    assert types(out.decisions) == ["StartChildWorkflowExecution"]
    assert "daemon.bad_event" in {n["event"] for n in out.notes}


def test_a_bug_building_one_start_rejects_that_request_only(monkeypatch: Any) -> None:
    from flotod.engine import daemon

    real = daemon._start_child

    def broken(key: str, child_id: str, request: Any, s: DaemonSettings) -> dict[str, Any]:
        if child_id == "bad":
            raise RecursionError("maximum recursion depth exceeded")
        return real(key, child_id, request, s)

    monkeypatch.setattr(daemon, "_start_child", broken)
    h = History()
    bad = h.signal({"decider_spec": SPEC, "workflow_id": "bad"})
    h.signal({"decider_spec": SPEC, "workflow_id": "good"})
    out = decide_daemon(h.events, settings(max_children=5))
    assert types(out.decisions) == ["RecordMarker", "StartChildWorkflowExecution"]
    assert "RecursionError" in _reasons(out.decisions)[f"s{bad}"]


def test_a_bug_anywhere_else_gives_a_safe_answer(monkeypatch: Any) -> None:
    from flotod.engine import daemon

    def broken(*args: Any) -> bool:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(daemon, "_admit", broken)
    h = History()
    h.signal({"decider_spec": SPEC, "workflow_id": "x"})
    out = decide_daemon(h.events, settings())
    assert out.decisions == []  # nothing sent, nothing closed: the next event decides again
    (note,) = [n for n in out.notes if n["event"] == "daemon.decide_failed"]
    assert note["level"] == "error" and "RecursionError" in note["error"]


def test_child_with_deeply_nested_input_fails_with_a_reason() -> None:
    h = History()
    h.events[0]["workflowExecutionStartedEventAttributes"]["input"] = POISON
    decisions, error = decide_child(h.events, "c", "r")
    assert error is not None and "nested deeper" in error
    assert types(decisions) == ["FailWorkflowExecution"]


def test_child_input_size_is_checked_with_the_daemons_real_workflow_id() -> None:
    """The check assumed a 64-character daemon id; the config allows 256."""
    long_id = "d" * 256
    base = {"decider_spec": SPEC, "workflow_id": "big"}
    h = History()
    h.signal({**base, "input": ""})
    (start,) = decide_daemon(h.events, settings(workflow_id="x" * 64)).decisions
    empty = len(start["startChildWorkflowExecutionDecisionAttributes"]["input"])
    filler = MAX_PAYLOAD - empty - 10
    h = History()
    h.signal({**base, "input": "y" * filler})  # fits with a 64-character id only
    out = decide_daemon(h.events, settings(workflow_id=long_id))
    assert types(out.decisions) == ["RecordMarker"]
    assert "SWF allows 32768" in next(iter(_reasons(out.decisions).values()))
    h = History()
    h.signal({**base, "input": "y" * (filler - 200)})
    (start,) = decide_daemon(h.events, settings(workflow_id=long_id)).decisions
    assert len(start["startChildWorkflowExecutionDecisionAttributes"]["input"]) <= MAX_PAYLOAD


def _request(i: int, size: int) -> dict[str, Any]:
    return {"decider_spec": SPEC, "workflow_id": f"req-{i}", "input": "x" * size}


def _marker_ids(h: History) -> dict[str, str]:
    """workflow id -> rejection reason, for requests signalled in this history."""
    by_key = {
        f"s{e['eventId']}": e["workflowExecutionSignaledEventAttributes"]["input"]
        for e in h.events
        if e["eventType"] == "WorkflowExecutionSignaled"
    }
    out = {}
    for e in h.events:
        if e["eventType"] == "MarkerRecorded":
            details = json.loads(e["markerRecordedEventAttributes"]["details"])
            for entry in details.get("rejected", [details]):  # a batch, or one
                if "workflow_id" not in entry:
                    continue  # not a valid request: nothing to account for
                assert entry["workflow_id"] == json.loads(by_key[entry["key"]])["workflow_id"]
                out[entry["workflow_id"]] = entry["reason"]
    return out


def _started_ids(h: History) -> list[str]:
    return [
        e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]
        for e in h.events
        if e["eventType"] == "StartChildWorkflowExecutionInitiated"
    ]


def test_a_backlog_the_next_run_could_not_carry_is_rejected_newest_first() -> None:
    h = History()
    for i in range(10):
        h.signal(_request(i, 12_000))
    out = decide_daemon(h.events, settings(max_children=1))
    h.apply(out.decisions)
    assert _started_ids(h) == ["req-0"]
    rejected = _marker_ids(h)
    assert sorted(rejected) == [f"req-{i}" for i in range(3, 10)]  # req-1, req-2 fit: wait
    assert all("backlog" in reason for reason in rejected.values()), rejected
    notes = [n for n in out.notes if n["event"] == "daemon.backlog_full"]
    assert len(notes) == 7 and all(n["level"] == "error" for n in notes)
    assert decide_daemon(h.events, settings(max_children=1)).decisions == []


def test_continue_is_never_postponed_and_every_request_is_accounted_for() -> None:
    """Requests of 1 KB arriving 30 between decisions, one child at a time: before, the
    carried input outgrew SWF's limit and the run only logged continue_postponed while it
    grew towards SWF's 25,000 events."""
    h = History()
    s = settings(max_children=1, continue_after_events=400)
    signalled = 0
    attrs: dict[str, Any] | None = None
    while attrs is None:
        assert len(h.events) < s.continue_after_events + 60, "continue postponed"
        for _ in range(30):
            h.signal(_request(signalled, 1000))
            signalled += 1
        out = decide_daemon(h.events, s)
        h.apply(out.decisions)
        for x in out.decisions:
            if x["decisionType"] == "ContinueAsNewWorkflowExecution":
                attrs = x["continueAsNewWorkflowExecutionDecisionAttributes"]
            elif x["decisionType"] == "StartTimer":  # "more to do": fires at once
                h.add("TimerFired", timerId=x["startTimerDecisionAttributes"]["timerId"])
    assert len(attrs["input"]) <= MAX_PAYLOAD
    carried = [p["workflow_id"] for p in json.loads(attrs["input"])["pending"]]
    started, rejected = _started_ids(h), _marker_ids(h)
    every = sorted(f"req-{i}" for i in range(signalled))
    assert sorted(started + carried + list(rejected)) == every  # each exactly once
    assert len(carried) > 20 and len(rejected) > 100
    assert all("backlog" in reason for reason in rejected.values())


def test_children_that_do_not_fit_the_carried_input_are_dropped_with_an_error_note() -> None:
    h = History()
    for i in range(600):
        h.signal({"decider_spec": SPEC, "workflow_id": f"child-{i:03d}-" + "w" * 80})
    s = settings(max_children=1000, continue_after_events=20_000, child_timeout_seconds=10**6)
    for _ in range(10):
        out = decide_daemon(h.events, s)
        h.apply(out.decisions)
        if not out.decisions:
            break
    assert len(_started_ids(h)) == 600
    out = decide_daemon(h.events, replace(s, continue_after_events=10))
    (attrs,) = [
        x["continueAsNewWorkflowExecutionDecisionAttributes"]
        for x in out.decisions
        if x["decisionType"] == "ContinueAsNewWorkflowExecution"
    ]
    carried = json.loads(attrs["input"])["children"]
    assert len(attrs["input"]) <= MAX_PAYLOAD and 100 < len(carried) < 600
    (note,) = [n for n in out.notes if n["event"] == "daemon.children_not_carried"]
    assert note["level"] == "error" and note["dropped"] == 600 - len(carried)


def test_a_flood_is_answered_in_one_response_with_batch_markers() -> None:
    """One marker per rejection made a burst of signals cost a decision task per 99 of them,
    so the run overshot continue_after_events by about the size of the burst."""
    h = History()
    for i in range(2000):
        h.signal(_request(i, 100))
    h.signal("not json")
    s = settings(max_children=1, continue_after_events=5000)
    out = decide_daemon(h.events, s)
    assert len(out.decisions) <= 100
    size = sum(len(json.dumps(x)) for x in out.decisions)
    assert size < 1_000_000  # SWF's limit on one request
    h.apply(out.decisions)
    started, rejected = _started_ids(h), _marker_ids(h)
    assert len(started) == 1 and len(rejected) > 1500
    batches = [
        e
        for e in h.events
        if e["eventType"] == "MarkerRecorded"
        and e["markerRecordedEventAttributes"]["markerName"] == "flotod.rejectedSignals"
    ]
    assert 0 < len(batches) < 30
    waiting = [n for n in out.notes if n["event"] == "daemon.requests_waiting"]
    assert len(started) + len(rejected) + waiting[0]["waiting"] == 2000
    again = decide_daemon(h.events, s)  # every rejection is read back as handled
    assert not [x for x in again.decisions if x["decisionType"] == "RecordMarker"]


def test_many_bad_signals_leave_room_for_starts_in_the_same_response() -> None:
    h = History()
    for _ in range(150):
        h.signal("not json")
    h.signal({"decider_spec": SPEC, "workflow_id": "good"})
    out = decide_daemon(h.events, settings())
    assert types(out.decisions).count("StartChildWorkflowExecution") == 1
    assert len(out.decisions) <= 100
    h.apply(out.decisions)
    assert decide_daemon(h.events, settings()).decisions == []  # all 150 answered at once
