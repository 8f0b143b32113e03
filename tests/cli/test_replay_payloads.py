"""``flotod replay`` of histories whose large values are references to S3 objects.

The history is made as the decider service makes one: the engine decides on the resolved
events and its decisions are encoded before SWF records them, so the recorded inputs and
the workflow result are references too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flotod.cli.replay import Decider, Recorded, Unreadable, check
from flotod.engine import decide
from flotod.engine.decisions import payload_limit
from flotod.payloads import Payloads, is_envelope
from flotod.payloads.history import encode_decisions, resolve_events
from flotod.specs import dumps
from tests.cli.test_replay import flotod
from tests.payloads.test_codec import DictStore
from tests.payloads.test_history import big_result, ev, history, spec


def recorded_run(payloads: Payloads) -> list[dict[str, Any]]:
    """Extract returned 1 MB, Load returned 1 MB, the run completed with Load's result."""
    extract, load = (t.id_ for t in spec().activity_tasks)
    events = history(payloads.encode(big_result(), workflow_id="w", run_id="r", name=extract))

    def decided() -> list[dict[str, Any]]:
        decisions = decide(
            resolve_events(events, payloads), spec(), "w", max_payload=payload_limit(True)
        )
        return encode_decisions(decisions, payloads, "w", "r")

    def add(kind: str, **attrs: Any) -> int:
        events.append(ev(len(events) + 1, kind, **attrs))
        return len(events)

    [schedule] = decided()
    completed = add("DecisionTaskCompleted", scheduledEventId=8, startedEventId=9)
    attrs = schedule["scheduleActivityTaskDecisionAttributes"]
    assert is_envelope(attrs["input"])
    scheduled = add("ActivityTaskScheduled", decisionTaskCompletedEventId=completed, **attrs)
    started = add("ActivityTaskStarted", scheduledEventId=scheduled)
    result = payloads.encode(big_result(), workflow_id="w", run_id="r", name=load)
    add("ActivityTaskCompleted", scheduledEventId=scheduled, startedEventId=started, result=result)
    decision_scheduled = add("DecisionTaskScheduled")
    decision_started = add("DecisionTaskStarted", scheduledEventId=decision_scheduled)
    [complete] = decided()
    completed = add(
        "DecisionTaskCompleted",
        scheduledEventId=decision_scheduled,
        startedEventId=decision_started,
    )
    attrs = complete["completeWorkflowExecutionDecisionAttributes"]
    assert is_envelope(attrs["result"])
    add("WorkflowExecutionCompleted", decisionTaskCompletedEventId=completed, **attrs)
    return events


def test_a_history_with_references_replays_with_the_configs_payloads() -> None:
    store = DictStore()
    events = recorded_run(Payloads(store, bucket="b", prefix="flotod/"))
    reader = Payloads(store, bucket="b")  # what the config gives: nothing cached
    result = check(Recorded(events, "run.json"), Decider(spec(), payloads=lambda: reader))
    assert result.agreed, result.summary()
    assert result.summary() == "3 decision tasks agree"


def test_a_lost_object_is_unreadable_naming_the_reason_and_uri() -> None:
    store = DictStore()
    events = recorded_run(Payloads(store, bucket="b", prefix="flotod/"))
    store.objects.clear()
    reader = Payloads(store, bucket="b")
    with pytest.raises(
        Unreadable, match=r"history run.json: payload_missing: .*s3://b/flotod/w/r/"
    ):
        check(Recorded(events, "run.json"), Decider(spec(), payloads=lambda: reader))


def test_without_payloads_configured_a_history_with_references_exits_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = recorded_run(Payloads(DictStore(), bucket="b", prefix="flotod/"))
    history_file = tmp_path / "run.json"
    history_file.write_text(json.dumps(events))
    spec_file = tmp_path / "spec.json"

    spec_file.write_text(dumps(spec()))
    config = tmp_path / "flotod.toml"
    config.write_text('[swf]\ndomain = "d"\n')
    code, out, err = flotod(
        capsys, "replay", str(history_file), "--spec", str(spec_file), "--config", str(config)
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"flotod replay: history {history_file}: payload_store_off: ")
    assert "s3://b/flotod/w/r/" in err
