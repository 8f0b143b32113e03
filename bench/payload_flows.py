"""The payload benchmark's workflow: ``produce`` returns a file list of the size the workflow
input asks for, ``consume`` receives it in its context and answers with a small summary.

So one workflow is one round trip of the value: worker result -> (S3) -> decider -> next
activity's input -> (S3) -> worker. ``modules = ["bench.payload_flows"]``,
``spec_object = "bench.payload_flows:SPEC"``.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.specs import ActivityTask, DeciderSpec

DOMAIN = "bench_payloads"
DECISION_TASK_LIST = "bench_payload_decisions"
ACTIVITY_TASK_LIST = "bench_payload_activities"
WORKFLOW_TYPE = ("bench_payload", "1")
NAME = "s3://exports/2024-03-01/orders/part-{:08d}.csv.gz"
PER_NAME = 55  # in a JSON list: 51 characters, the quotes and ", "


def file_list(size: int) -> list[str]:
    """About ``size`` bytes of JSON: what a pipeline passes between steps."""
    return [NAME.format(n) for n in range(max(1, size // PER_NAME))]


@flotod.activity(name="bench_produce", version="1")
def produce(context: dict[str, Any]) -> list[str]:
    return file_list(int(context["workflow"]["bytes"]))


@flotod.activity(name="bench_consume", version="1")
def consume(context: dict[str, Any]) -> dict[str, Any]:
    files = context["produce"]
    return {"count": len(files), "last": files[-1]}


PRODUCE = ActivityTask("bench_produce", "1", activity_id="produce")
CONSUME = ActivityTask("bench_consume", "1", activity_id="consume", requires=[PRODUCE])
SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=DECISION_TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[PRODUCE, CONSUME],
)
