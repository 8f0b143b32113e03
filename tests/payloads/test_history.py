"""Envelopes in histories and decisions, on JSON histories with a dict store (pure tier).

The engine is run on resolved histories here as the decider runs it, so what is checked is
the whole decider side: a large result read back, the next task's input and the workflow
result encoded, and a reference that can never resolve naming its object and event.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from flotod.engine import decide
from flotod.engine.daemon import decide_daemon
from flotod.engine.decisions import MAX_PAYLOAD, payload_limit
from flotod.payloads import PayloadError, Payloads, PayloadUnavailable, is_envelope
from flotod.payloads.history import (
    EventPayloadError,
    encode_decisions,
    resolve_counted,
    resolve_events,
)
from flotod.payloads.reference import UNRESOLVED_SIGNAL
from flotod.specs import ActivityTask, DeciderSpec
from tests.engine.test_daemon import SPEC, History, settings
from tests.payloads.test_codec import DictStore

Event = dict[str, Any]


class DownStore(DictStore):
    def get(self, bucket: str, key: str) -> bytes:
        raise PayloadUnavailable("connection refused")


def codec(store: DictStore | None = None) -> Payloads:
    return Payloads(store or DictStore(), bucket="b", prefix="flotod/")


def big_result(n: int = 1_000_000) -> str:
    return json.dumps({"rows": ["x" * 90 + f"{i:08d}" for i in range(n // 100)]})


def spec() -> DeciderSpec:
    first = ActivityTask("Extract", "1")
    second = ActivityTask("Load", "1", requires=[first])
    return DeciderSpec(
        domain="d",
        task_list="dt",
        default_activity_task_list="at",
        activity_tasks=[first, second],
    )


def ev(event_id: int, kind: str, **attrs: Any) -> Event:
    key = kind[:1].lower() + kind[1:] + "EventAttributes"
    return {"eventId": event_id, "eventType": kind, "eventTimestamp": 1000.0 + event_id, key: attrs}


def history(result: str, input_text: str = "{}") -> list[Event]:
    """The first activity completed with ``result``; the decider is due to schedule the next."""
    first = spec().activity_tasks[0].id_
    return [
        ev(1, "WorkflowExecutionStarted", input=input_text, taskList={"name": "dt"}),
        ev(2, "DecisionTaskScheduled"),
        ev(3, "DecisionTaskStarted", scheduledEventId=2),
        ev(4, "DecisionTaskCompleted", scheduledEventId=2, startedEventId=3),
        ev(
            5,
            "ActivityTaskScheduled",
            activityId=first,
            activityType={"name": "Extract", "version": "1"},
            input='{"__flotod__":{"attempt":1},"workflow":{}}',  # as the engine decides it
            decisionTaskCompletedEventId=4,
        ),
        ev(6, "ActivityTaskStarted", scheduledEventId=5),
        ev(7, "ActivityTaskCompleted", scheduledEventId=5, startedEventId=6, result=result),
        ev(8, "DecisionTaskScheduled"),
        ev(9, "DecisionTaskStarted", scheduledEventId=8),
    ]


def test_without_envelopes_the_same_list_comes_back() -> None:
    events = history('{"small": 1}')
    assert resolve_events(events, Payloads.off()) is events
    assert resolve_events(events, codec()) is events


def test_a_large_result_is_read_back_and_passed_on_encoded() -> None:
    payloads = codec()
    value = big_result()
    envelope = payloads.encode(value, workflow_id="w", run_id="r", name="Extract")
    events = history(envelope)
    shared = copy.deepcopy(events)

    resolved, added = resolve_counted(events, payloads)
    assert events == shared, "the events given (maybe a cache's) are never changed"
    assert resolved[6]["activityTaskCompletedEventAttributes"]["result"] == value
    assert added == len(value)
    assert all(a is b for a, b in zip(resolved[:6], events[:6], strict=True))

    decisions = decide(resolved, spec(), "w", max_payload=payload_limit(True))
    [schedule] = decisions
    attrs = schedule["scheduleActivityTaskDecisionAttributes"]
    assert len(attrs["input"]) > MAX_PAYLOAD  # the engine builds the value; encoding follows

    sent = encode_decisions(decisions, payloads, "w", "r")
    text = sent[0]["scheduleActivityTaskDecisionAttributes"]["input"]
    assert is_envelope(text) and len(text) < 500
    assert f"/w/r/{attrs['activityId']}/" in json.loads(text)["uri"]
    assert json.loads(payloads.decode(text))[spec().activity_tasks[0].id_] == json.loads(value)
    assert decisions[0]["scheduleActivityTaskDecisionAttributes"]["input"] == attrs["input"]


def test_the_workflow_result_is_encoded_under_result() -> None:
    payloads = codec()
    value = big_result()
    load = spec().activity_tasks[1].id_
    load_type = {"name": "Load", "version": "1"}
    result = payloads.encode(value, workflow_id="w", run_id="r", name=load)
    events = [
        *history('{"ok": 1}')[:-2],
        ev(8, "DecisionTaskScheduled"),
        ev(9, "DecisionTaskStarted", scheduledEventId=8),
        ev(10, "DecisionTaskCompleted", scheduledEventId=8, startedEventId=9),
        ev(11, "ActivityTaskScheduled", activityId=load, activityType=load_type, input="{}"),
        ev(12, "ActivityTaskStarted", scheduledEventId=11),
        ev(13, "ActivityTaskCompleted", scheduledEventId=11, startedEventId=12, result=result),
        ev(14, "DecisionTaskScheduled"),
        ev(15, "DecisionTaskStarted", scheduledEventId=14),
    ]
    decisions = decide(
        resolve_events(events, payloads), spec(), "w", max_payload=payload_limit(True)
    )
    sent = encode_decisions(decisions, payloads, "w", "r")
    [complete] = sent
    result = complete["completeWorkflowExecutionDecisionAttributes"]["result"]
    assert "/w/r/result/" in json.loads(result)["uri"]
    assert json.loads(payloads.decode(result)) == {load: json.loads(value)}


def test_payloads_off_a_large_result_still_fails_with_payload_too_large() -> None:
    value = big_result(40_000)
    decisions = decide(history(value), spec(), "w", max_payload=payload_limit(False))
    [fail] = decisions
    attrs = fail["failWorkflowExecutionDecisionAttributes"]
    assert attrs["reason"] == "payload_too_large"
    assert json.loads(attrs["details"])["limit"] == MAX_PAYLOAD
    assert encode_decisions(decisions, Payloads.off(), "w", "r") is decisions


def test_with_payloads_on_a_runaway_value_fails_naming_the_bound() -> None:
    bound = payload_limit(True)
    assert bound > MAX_PAYLOAD
    decisions = decide(history(big_result(100_000)), spec(), "w", max_payload=100_000)
    attrs = decisions[0]["failWorkflowExecutionDecisionAttributes"]
    assert attrs["reason"] == "payload_too_large"
    assert json.loads(attrs["details"])["limit"] == 100_000


def test_a_missing_object_names_its_uri_event_and_task() -> None:
    payloads = codec()
    envelope = payloads.encode(big_result(), workflow_id="w", run_id="r", name="Extract")
    reader = Payloads(DictStore(), bucket="b")  # another process: nothing cached, no object
    with pytest.raises(EventPayloadError) as caught:
        resolve_events(history(envelope), reader)
    error = caught.value
    assert error.reason == "payload_missing"
    details = error.details()
    assert details["uri"] == json.loads(envelope)["uri"]
    assert details["event"] == "ActivityTaskCompleted 7 (result)"
    assert details["task"] == spec().activity_tasks[0].id_


def test_a_tampered_object_fails_with_payload_tampered() -> None:
    store = DictStore()
    envelope = codec(store).encode(big_result(), workflow_id="w", run_id="r", name="Extract")
    [key] = store.objects
    store.objects[key] = store.objects[key].replace(b"x", b"y", 1)
    with pytest.raises(EventPayloadError) as caught:
        resolve_events(history(envelope), Payloads(store, bucket="b"))
    assert caught.value.reason == "payload_tampered"
    assert caught.value.uri == json.loads(envelope)["uri"]


def test_a_workflow_input_reference_without_a_store_is_payload_store_off() -> None:
    envelope = codec().encode(big_result(), workflow_id="w", run_id="r", name="input")
    with pytest.raises(EventPayloadError) as caught:
        resolve_events(history("{}", input_text=envelope), Payloads.off())
    assert caught.value.reason == "payload_store_off"
    assert caught.value.details()["event"] == "WorkflowExecutionStarted 1 (input)"


def test_a_store_that_is_down_is_unavailable_not_a_failure() -> None:
    envelope = codec().encode(big_result(), workflow_id="w", run_id="r", name="Extract")
    with pytest.raises(PayloadUnavailable) as caught:
        resolve_events(history(envelope), Payloads(DownStore(), bucket="b"))
    assert not isinstance(caught.value, PayloadError)
    assert caught.value.uri == json.loads(envelope)["uri"]


def test_an_unresolvable_signal_becomes_a_named_fault_not_a_failed_run() -> None:
    envelope = codec().encode(big_result(), workflow_id="w", run_id="r", name="sig")
    events = [
        *history("{}")[:4],
        ev(5, "WorkflowExecutionSignaled", signalName="s", input=envelope),
    ]
    resolved = resolve_events(events, Payloads(DictStore(), bucket="b"))
    fault = json.loads(resolved[4]["workflowExecutionSignaledEventAttributes"]["input"])
    assert fault[UNRESOLVED_SIGNAL]["reason"] == "payload_missing"
    assert fault[UNRESOLVED_SIGNAL]["uri"] == json.loads(envelope)["uri"]


def test_resolving_from_start_leaves_earlier_events_alone() -> None:
    payloads = codec()
    envelope = payloads.encode(big_result(), workflow_id="w", run_id="r", name="Extract")
    events = history(envelope)
    assert resolve_events(events, payloads, start=7) is events
    assert resolve_events(events, payloads, start=6) is not events


def test_every_payload_decision_is_encoded_under_its_name() -> None:
    payloads = codec()
    value = big_result(50_000)
    decisions = [
        {"decisionType": "StartChildWorkflowExecution",
         "startChildWorkflowExecutionDecisionAttributes": {"workflowId": "w:c", "input": value}},
        {"decisionType": "ContinueAsNewWorkflowExecution",
         "continueAsNewWorkflowExecutionDecisionAttributes": {"input": value}},
        {"decisionType": "RecordMarker",
         "recordMarkerDecisionAttributes": {"markerName": "flotod.result", "details": value}},
        {"decisionType": "SignalExternalWorkflowExecution",
         "signalExternalWorkflowExecutionDecisionAttributes":
             {"workflowId": "p", "signalName": "s", "input": value}},
        {"decisionType": "StartTimer",
         "startTimerDecisionAttributes": {"timerId": "t", "control": value}},
    ]  # fmt: skip
    sent = encode_decisions(decisions, payloads, "w", "r")
    names = [
        json.loads(next(iter(x.values()))[f])["uri"].split("/w/r/")[1].rsplit("/", 1)[0]
        for x, f in zip(
            [{k: v for k, v in s.items() if k != "decisionType"} for s in sent[:4]],
            ["input", "input", "details", "input"],
            strict=True,
        )
    ]
    assert names == ["child/w:c", "input", "marker/flotod.result", "signal/p/s"]
    assert sent[4] is decisions[4], "control is flotod's own and never encoded"


def test_the_daemon_starts_a_child_from_a_large_signal_and_rejects_a_lost_one() -> None:
    sender = codec()
    store = sender.store
    assert isinstance(store, DictStore)
    request = {"decider_spec": SPEC, "input": big_result(100_000), "workflow_id": "job-1"}
    h = History()
    h.signal(sender.encode(json.dumps(request), workflow_id="d", run_id="r", name="a"))
    lost = h.signal(sender.encode(json.dumps(request) + " ", workflow_id="d", run_id="r", name="b"))
    daemon = Payloads(store, bucket="b", prefix="flotod/")  # its own cache: reads the store
    del store.objects[next(k for k in store.objects if "/b/" in k[1])]

    events = resolve_events(h.events, daemon)
    out = decide_daemon(events, settings(max_payload=payload_limit(True)))
    kinds = [x["decisionType"] for x in out.decisions]
    assert sorted(kinds) == ["RecordMarker", "StartChildWorkflowExecution"]
    marker = next(x for x in out.decisions if x["decisionType"] == "RecordMarker")
    rejected = json.loads(marker["recordMarkerDecisionAttributes"]["details"])
    assert rejected["key"] == f"s{lost}"
    assert rejected["reason"].startswith("payload_missing: signal input could not be read (s3://b/")

    sent = encode_decisions(out.decisions, daemon, "daemon", "run1")
    start = next(x for x in sent if x["decisionType"] == "StartChildWorkflowExecution")
    text = start["startChildWorkflowExecutionDecisionAttributes"]["input"]
    assert "/daemon/run1/child/job-1/" in json.loads(text)["uri"]
    child = json.loads(daemon.decode(text))["flotod_daemon_child"]
    assert child["input"] == request["input"]
