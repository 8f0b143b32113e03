# mypy: ignore-errors
"""The benchmark's shapes written for simpleflow, the peer library; imported only by the
simpleflow processes, inside the virtualenv bench/e2e.py creates for them (never by flotod).

Type names and task lists match bench/e2e_flows.py, so the same driver starts and counts them.
"""

from __future__ import annotations

from simpleflow import Workflow, activity, futures

DECISION_TASK_LIST = "bench_decisions"
ACTIVITY_TASK_LIST = "bench_activities"


@activity.with_attributes(name="bench_noop", version="1", task_list=ACTIVITY_TASK_LIST)
def noop(*args):
    return "ok"


class Single(Workflow):
    name = "bench_single"
    version = "1"
    task_list = DECISION_TASK_LIST

    def run(self, *args, **kwargs):
        return self.submit(noop).result


class Dag(Workflow):
    name = "bench_dag"
    version = "1"
    task_list = DECISION_TASK_LIST

    def run(self, *args, **kwargs):
        root = self.submit(noop, "root")
        futures.wait(root)
        middle = [self.submit(noop, f"m{i}") for i in range(8)]
        futures.wait(*middle)
        return self.submit(noop, "final").result
