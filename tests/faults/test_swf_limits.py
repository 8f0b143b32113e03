"""A dynamic workflow carrying a spec SWF would refuse fails within one decision task.

Before specs were checked against SWF's limits, a 10^9-second timer went out as a StartTimer
the endpoint refuses (ValidationException: over 8 digits); nothing was recorded, and the same
decision was sent again at every decision task timeout until the run reached 25,000 events.
"""

from __future__ import annotations

import signal

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.harness import ACTIVITIES, outcomes, start_many, wait_all_closed

pytestmark = pytest.mark.slow

DYNAMIC = "faultdyn"


def test_a_timer_over_swf_limit_fails_the_workflow_in_its_first_decision(
    make_site: MakeSite,
) -> None:
    site = make_site()
    site.register_workflow_type(DYNAMIC, "limits_dt", task_timeout=5)
    decider = site.start(
        "decider",
        site.config(
            "decider",
            "dyn",
            task_list="limits_dt",
            dynamic=True,
            default_activity_task_list=ACTIVITIES,
        ),
    )
    decider.wait_for("service.ready")
    tasks = [{"type": "Timer", "id_": "nap", "delay_in_seconds": 10**9}]
    runs = start_many(site, ["huge-timer"], [{"activity_tasks": tasks}], workflow=DYNAMIC)
    wait_all_closed(site, runs, timeout=30)
    found = outcomes(site, runs)["huge-timer"]
    reason, details = found.failure()
    assert reason == "invalid_activity_tasks"
    assert "delay_in_seconds" in details["error"] and "99999999" in details["error"]
    assert found.kinds.count("DecisionTaskCompleted") == 1
    assert "DecisionTaskTimedOut" not in found.kinds
    decider.send(signal.SIGTERM)
    assert decider.stop() == 0
