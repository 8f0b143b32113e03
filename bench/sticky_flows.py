"""The sticky benchmark's workflow for flotod: a gate, then a chain of steps
(``modules = ["bench.sticky_flows"]``, ``spec_object = "bench.sticky_flows:SPEC"``).

The gate returns at once unless the benchmark left a hold file for the run: then it waits
(heartbeating) while the benchmark drives the run's history long with signals. The chain's
length comes from FLOTOD_BENCH_CHAIN, read when the decider loads the spec.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from flotod.specs import ActivityTask, DeciderSpec
from flotod.worker import activity, current_task

DOMAIN = "bench-sticky"
DECISION_TASK_LIST = "sticky_decisions"
ACTIVITY_TASK_LIST = "sticky_activities"
WORKFLOW = ("sticky_wf", "1")
GATE = ("sticky_gate", "1")
STEP = ("sticky_step", "1")
CHAIN = int(os.environ.get("FLOTOD_BENCH_CHAIN", "500"))
HOLDS = Path(os.environ.get("FLOTOD_BENCH_HOLDS", "/tmp/flotod-bench-holds"))


@activity(*GATE)
def gate(context: Any) -> str:
    hold = HOLDS / current_task().workflow_id
    while hold.exists():
        time.sleep(0.5)
        current_task().heartbeat()
    return "open"


@activity(*STEP)
def step(context: Any) -> str:
    return "ok"


def _chain(length: int) -> list[ActivityTask]:
    tasks = [ActivityTask(*GATE, activity_id="gate")]
    for n in range(length):
        tasks.append(ActivityTask(*STEP, activity_id=f"s{n}", requires=[tasks[-1]]))
    return tasks


SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=DECISION_TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=_chain(CHAIN),
)
