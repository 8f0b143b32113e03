"""What a run-time spec may name (issue 14 item 13): the dynamic decider and the daemon refuse
activity types, task lists and child workflow types outside the config's allowlists."""

from __future__ import annotations

import json
from typing import Any

from flotod.engine import decide_dynamic
from flotod.engine.allowlist import Allowlist, type_allowed
from flotod.engine.daemon import decide_daemon
from flotod.engine.daemon_requests import child_input, decide_child, parse_request
from flotod.specs import dumps
from flotod.specs.codec import tasks_from_list
from tests.engine.conftest import attrs, kinds, make_spec
from tests.engine.swfsim import SwfSim
from tests.engine.test_daemon import SPEC, History, settings, types

ALLOW = Allowlist(
    activity_types=frozenset({"resize:v1", "ocr", "report-*:v2"}),
    task_lists=frozenset({"acts", "gpu-*"}),
    child_workflow_types=frozenset({"render:v1"}),
)


def started(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A dynamic run's first decision task, as SWF hands it out: plain JSON events."""
    return [
        {
            "eventId": 1,
            "eventType": "WorkflowExecutionStarted",
            "eventTimestamp": 1000.0,
            "workflowExecutionStartedEventAttributes": {
                "input": json.dumps({"activity_tasks": tasks}),
                "taskList": {"name": "decider"},
                "childPolicy": "TERMINATE",
            },
        },
        {
            "eventId": 2,
            "eventType": "DecisionTaskScheduled",
            "eventTimestamp": 1000.0,
            "decisionTaskScheduledEventAttributes": {"taskList": {"name": "decider"}},
        },
        {
            "eventId": 3,
            "eventType": "DecisionTaskStarted",
            "eventTimestamp": 1001.0,
            "decisionTaskStartedEventAttributes": {"scheduledEventId": 2},
        },
    ]


def act(name: str, version: str = "v1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "ActivityTask",
        "id_": extra.pop("id_", "a"),
        "name": name,
        "version": version,
        **extra,
    }


def child(name: str, version: str = "v1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "ChildWorkflow",
        "workflow_id": "c",
        "workflow_type_name": name,
        "workflow_type_version": version,
        **extra,
    }


def refusal(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    assert kinds(decisions) == ["FailWorkflowExecution"], decisions
    fail = attrs(decisions[0])
    assert fail["reason"] == "not_allowed"
    return json.loads(fail["details"])  # type: ignore[no-any-return]


def test_type_patterns_match_a_name_for_any_version_or_a_name_and_version() -> None:
    patterns = frozenset({"resize:v1", "ocr", "report-*:v2"})
    assert type_allowed("resize", "v1", patterns) and not type_allowed("resize", "v2", patterns)
    assert type_allowed("ocr", "v1", patterns) and type_allowed("ocr", "anything", patterns)
    assert type_allowed("report-daily", "v2", patterns)
    assert not type_allowed("report-daily", "v1", patterns)
    assert not type_allowed("OCR", "v1", patterns)  # SWF's names are case-sensitive
    assert not type_allowed("x", "v1", frozenset())


def test_a_dynamic_workflow_within_the_allowlist_is_scheduled() -> None:
    tasks = [act("resize"), act("report-daily", "v2", id_="r", task_list="gpu-1")]
    decisions = decide_dynamic(started(tasks), make_spec(), "wf", allow=ALLOW)
    assert kinds(decisions) == ["ScheduleActivityTask"] * 2
    assert {attrs(x)["taskList"]["name"] for x in decisions} == {"acts", "gpu-1"}


def test_a_dynamic_workflow_naming_a_forbidden_activity_type_fails_naming_task_and_type() -> None:
    decisions = decide_dynamic(started([act("resize", "v2")]), make_spec(), "wf", allow=ALLOW)
    assert refusal(decisions) == {"task": "a", "activity_type": "resize:v2"}
    # without an allowlist (the engine's default) the same spec is scheduled
    assert kinds(decide_dynamic(started([act("resize", "v2")]), make_spec(), "wf")) == [
        "ScheduleActivityTask"
    ]


def test_a_dynamic_workflow_naming_a_forbidden_task_list_fails() -> None:
    events = started([act("ocr", task_list="billing")])
    assert refusal(decide_dynamic(events, make_spec(), "wf", allow=ALLOW)) == {
        "task": "a",
        "task_list": "billing",
    }


def test_the_default_activity_task_list_is_checked_too() -> None:
    events = started([act("ocr")])
    details = refusal(decide_dynamic(events, make_spec(task_list="other"), "wf", allow=ALLOW))
    assert details == {"task": "a", "default_activity_task_list": "other"}


def test_a_dynamic_workflow_naming_a_forbidden_child_type_or_child_task_list_fails() -> None:
    assert refusal(
        decide_dynamic(started([child("admin_wipe")]), make_spec(), "wf", allow=ALLOW)
    ) == {"task": "c", "child_workflow_type": "admin_wipe:v1"}
    events = started([child("render", task_list="billing")])
    assert refusal(decide_dynamic(events, make_spec(), "wf", allow=ALLOW)) == {
        "task": "c",
        "child_task_list": "billing",
    }
    allowed = decide_dynamic(started([child("render")]), make_spec(), "wf", allow=ALLOW)
    assert kinds(allowed) == ["StartChildWorkflowExecution"]


def test_a_generators_forbidden_output_fails_the_run_before_it_is_scheduled() -> None:
    gen = {"type": "Generator", "id_": "g", "name": "ocr", "version": "v1"}
    sim = SwfSim(input=json.dumps({"activity_tasks": [gen]}))
    spec = make_spec()
    first = decide_dynamic(sim.decision_task(), spec, "wf", allow=ALLOW)
    assert kinds(first) == ["ScheduleActivityTask"]
    sim.respond(first)
    output = tasks_from_list([act("resize", id_="ok"), act("rm_rf", id_="bad")], "output")
    sim.complete_activity("g", dumps(output))
    details = refusal(decide_dynamic(sim.decision_task(), spec, "wf", allow=ALLOW))
    assert details == {"task": "bad", "activity_type": "rm_rf:v1"}


def test_a_refused_run_that_already_closed_gets_no_second_close() -> None:
    sim = SwfSim(input=json.dumps({"activity_tasks": [act("nope")]}))
    spec = make_spec()
    sim.respond(decide_dynamic(sim.decision_task(), spec, "wf", allow=ALLOW))
    assert sim.closed == "WorkflowExecutionFailed"


# -- the daemon ---------------------------------------------------------------------------------


def spec_with(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**SPEC, "activity_tasks": list(tasks), **fields}


def marker_reasons(decisions: list[dict[str, Any]]) -> list[str]:
    return [
        json.loads(x["recordMarkerDecisionAttributes"]["details"])["reason"]
        for x in decisions
        if x["decisionType"] == "RecordMarker"
    ]


def test_the_daemon_starts_an_allowed_request_and_marks_forbidden_ones() -> None:
    h = History()
    h.signal({"decider_spec": spec_with(act("resize", task_list="acts"))})
    h.signal({"decider_spec": spec_with(act("rm_rf"))})
    h.signal({"decider_spec": spec_with(act("ocr", task_list="billing"))})
    h.signal({"decider_spec": spec_with(act("ocr"), default_activity_task_list="billing")})
    h.signal({"decider_spec": spec_with(child("admin_wipe"))})
    h.signal({"decider_spec": spec_with(child("render", task_list="billing"))})
    out = decide_daemon(h.events, settings(max_children=10, allow=ALLOW))
    assert types(out.decisions).count("StartChildWorkflowExecution") == 1
    reasons = marker_reasons(out.decisions)
    assert reasons == [
        "not_allowed: task 'a': activity_type 'rm_rf:v1' is not allowed",
        "not_allowed: task 'a': task_list 'billing' is not allowed",
        "not_allowed: task 'a': default_activity_task_list 'billing' is not allowed",
        "not_allowed: task 'c': child_workflow_type 'admin_wipe:v1' is not allowed",
        "not_allowed: task 'c': child_task_list 'billing' is not allowed",
    ]


def test_the_daemon_limits_explicit_child_workflow_ids_by_pattern() -> None:
    allow = Allowlist(child_workflow_ids=frozenset({"jobs-*"}))
    assert parse_request({"decider_spec": SPEC, "workflow_id": "jobs-1"}, "d", "daemon", allow)
    h = History()
    h.signal({"decider_spec": SPEC, "workflow_id": "billing-nightly"})
    h.signal({"decider_spec": SPEC})  # a daemon-made id is always allowed
    out = decide_daemon(h.events, settings(allow=allow))
    assert marker_reasons(out.decisions) == ["workflow_id 'billing-nightly' is not allowed"]
    assert types(out.decisions).count("StartChildWorkflowExecution") == 1


def test_a_daemon_childs_generator_output_is_checked_when_it_joins() -> None:
    gen = {"type": "Generator", "id_": "g", "name": "ocr", "version": "v1", "task_list": "acts"}
    request = parse_request({"decider_spec": spec_with(gen)}, "d", "daemon", ALLOW)
    sim = SwfSim(input=child_input(request, "daemon"))
    first, error = decide_child(sim.decision_task(), "wf", sim.run_id, ALLOW)
    assert error is None and kinds(first) == ["ScheduleActivityTask"]
    sim.respond(first)
    output = tasks_from_list([act("resize", id_="x", task_list="billing")], "output")
    sim.complete_activity("g", dumps(output))
    decisions, _ = decide_child(sim.decision_task(), "wf", sim.run_id, ALLOW)
    fail = [x for x in decisions if x["decisionType"] == "FailWorkflowExecution"]
    assert attrs(fail[0])["reason"] == "not_allowed"
    assert json.loads(attrs(fail[0])["details"]) == {"task": "x", "task_list": "billing"}


def test_an_activity_naming_no_task_list_is_refused_unless_every_list_is_allowed() -> None:
    events = started([act("ocr")])
    details = refusal(decide_dynamic(events, make_spec(task_list=None), "wf", allow=ALLOW))
    assert details == {"task": "a", "task_list": None}
    anywhere = Allowlist(activity_types=frozenset({"ocr"}))
    decisions = decide_dynamic(events, make_spec(task_list=None), "wf", allow=anywhere)
    assert kinds(decisions) == ["ScheduleActivityTask"]
