"""Activities the service tests' worker processes import (``modules = ["tests.services.acts"]``).

They follow floto's README examples: a DAG of A and B then C, a flaky task retried, a slow
task for stop tests, and a generator that spawns tasks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from flotod.specs import ActivityTask
from flotod.worker import activity, current_task, generator


@activity("ActivityA", "v1")
def activity_a(context: Any) -> dict[str, str]:
    return {"a": "result_a"}


@activity("ActivityB", "v1")
def activity_b() -> dict[str, str]:
    return {"b": "result_b"}


@activity("ActivityC", "v1")
def activity_c(context: Any) -> dict[str, Any]:
    seen = sorted(k for k in context if not k.startswith("__"))
    return {"c": "done", "saw": seen}


@activity("flaky", "v1")
def flaky(context: Any) -> str:
    """Fails on its first attempt, succeeds on the second (retry strategy tests)."""
    if (current_task().attempt or 1) < 2:
        raise RuntimeError("first attempt always fails")
    return "recovered"


@activity("slow", "v1")
def slow(context: Any) -> str:
    """Sleeps ``seconds``; touches ``marker`` (a path) first so a test knows it runs."""
    args = context.get("activity_task") or context.get("workflow") or {}
    marker = args.get("marker")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(float(args.get("seconds", 2)))
    return "slept"


@generator("spawn", "v1")
def spawn(context: Any) -> list[ActivityTask]:
    count = int((context.get("workflow") or {}).get("count", 2))
    return [ActivityTask("ActivityA", "v1", activity_id=f"gen-{i}") for i in range(count)]
