"""The benchmark's workflow shapes for flotod: activities a worker serves and specs a decider
runs (``modules = ["bench.e2e_flows"]``, ``spec_object = "bench.e2e_flows:DAG"``).

The activities do nothing, so the benchmark measures the orchestration, not the work.
"""

from __future__ import annotations

import flotod
from flotod.specs import ActivityTask, DeciderSpec

DOMAIN = "bench"
DECISION_TASK_LIST = "bench_decisions"
ACTIVITY_TASK_LIST = "bench_activities"
ACTIVITY = ("bench_noop", "1")
WORKFLOW_TYPES = {"single": ("bench_single", "1"), "dag": ("bench_dag", "1")}
FAN_OUT = 8


@flotod.activity(name=ACTIVITY[0], version=ACTIVITY[1])
def noop() -> str:
    return "ok"


def _spec(tasks: list[ActivityTask]) -> DeciderSpec:
    return DeciderSpec(
        domain=DOMAIN,
        task_list=DECISION_TASK_LIST,
        default_activity_task_list=ACTIVITY_TASK_LIST,
        activity_tasks=tasks,
    )


SINGLE = _spec([ActivityTask(*ACTIVITY, activity_id="only")])

_ROOT = ActivityTask(*ACTIVITY, activity_id="root")
_MIDDLE = [ActivityTask(*ACTIVITY, activity_id=f"m{i}", requires=[_ROOT]) for i in range(FAN_OUT)]
DAG = _spec([_ROOT, *_MIDDLE, ActivityTask(*ACTIVITY, activity_id="final", requires=_MIDDLE)])
