"""A data pipeline's manifest, far past SWF's 32,768 characters: values through S3.

``listParts`` lists the parts of a day's export (about 1 MB of JSON); ``indexParts`` receives
that list in its context and returns an index of the parts (about 1 MB again), which is the
workflow's result. Neither value fits in SWF: with ``[payloads] s3_bucket`` set, the worker
stores each result in S3 and reports a small reference, the decider resolves it to build the
next task's input (stored again) and the workflow's result, and ``flotod workflow show``
prints the resolved value. Without a bucket the first task fails as "result too large".

Expected result: ``{INDEX.id_: index_of(parts(PARTS))}``, about 1.2 MB of JSON.
"""

from __future__ import annotations

from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec

TASK_LIST = "large_result_decider"
PARTS = 16_000  # ~60 characters a part: about 1 MB of JSON per value


def parts(count: int) -> list[str]:
    """The part files of the export: predictable, so the expected result is known."""
    return [
        f"s3://exports/2024-03-01/orders/part-{n:06d}-of-{count:06d}.csv.gz" for n in range(count)
    ]


def index_of(names: list[str]) -> dict[str, Any]:
    return {"count": len(names), "parts": {name: n for n, name in enumerate(names)}}


@flotod.activity(name="listParts", version="1")
def list_parts(context: dict[str, Any]) -> list[str]:
    return parts(int(context["activity_task"]["parts"]))


@flotod.activity(name="indexParts", version="1")
def index_parts(context: dict[str, Any]) -> dict[str, Any]:
    return index_of(context[LIST.id_])


LIST = ActivityTask("listParts", "1", activity_id="listParts", input={"parts": PARTS})
INDEX = ActivityTask("indexParts", "1", activity_id="indexParts", requires=[LIST])

SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[LIST, INDEX],
)


def expected_result() -> dict[str, Any]:
    return {INDEX.id_: index_of(parts(PARTS))}
