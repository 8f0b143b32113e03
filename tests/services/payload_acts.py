"""Activities for the large-payload service tests (``modules = ["tests.services.payload_acts"]``):
``produce`` returns a file list of about the size its workflow input asks for, ``consume``
receives it in its context and returns it reversed, as large again."""

from __future__ import annotations

from typing import Any

from flotod.worker import activity

NAME = "s3://raw/2024-03-01/events/part-{:08d}.json.gz"  # 46 characters, 49 in JSON


def files(size: int) -> list[str]:
    return [NAME.format(n) for n in range(max(1, size // 49))]


@activity("produce", "v1")
def produce(context: Any) -> list[str]:
    return files(int(context["workflow"]["bytes"]))


@activity("consume", "v1")
def consume(context: Any) -> dict[str, Any]:
    seen = context["produce"]
    return {"count": len(seen), "files": seen[::-1]}
