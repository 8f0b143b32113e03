"""floto's file example without S3: a generator fans out one pair of tasks per weekday.

``weekDays`` reads ``from_date`` and ``to_date`` from the workflow input and generates, for
each weekday between them, ``copyFile`` (writes that day's small data file into a directory
of its own per workflow) followed by ``fileLength`` (the copied file's size). A generator's
result is the result of the tasks it generated that nothing else requires, so the workflow
result holds every day's length. Each day's data is its weekday's name, one line per day of
the month: tiny, local and predictable.

Expected result for 2024-03-01 to 2024-03-05 (Fri, Sat, Sun, Mon, Tue):
``{"fileLength:2024-03-01": 7, "fileLength:2024-03-04": 28, "fileLength:2024-03-05": 40}``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import flotod
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN
from flotod.specs import ActivityTask, DeciderSpec, Generator, InstantRetry, Task

TASK_LIST = "week_days_decider"
INPUT = {"from_date": "2024-03-01", "to_date": "2024-03-05"}


def day_data(day: dt.date) -> str:
    """The source data of one day (what floto's example read from S3)."""
    return f"{day:%A}\n" * day.day


def work_dir(workflow_id: str) -> Path:
    """Where one workflow's copies go; workers on one host share it, workflows do not."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workflow_id)
    return Path(tempfile.gettempdir()) / "flotod-examples" / safe


@flotod.generator(name="weekDays", version="1")
def week_days(context: dict[str, Any]) -> list[Task]:
    first = dt.date.fromisoformat(context["workflow"]["from_date"])
    last = dt.date.fromisoformat(context["workflow"]["to_date"])
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    retry = InstantRetry(retries=3)
    tasks: list[Task] = []
    for day in (d for d in days if d.weekday() < 5):
        copy = ActivityTask(
            "copyFile",
            "1",
            activity_id=f"copyFile:{day.isoformat()}",
            input=day.isoformat(),
            retry_strategy=retry,
        )
        length = ActivityTask(
            "fileLength",
            "1",
            activity_id=f"fileLength:{day.isoformat()}",
            requires=[copy],
            retry_strategy=retry,
        )
        tasks += [copy, length]
    return tasks


@flotod.activity(name="copyFile", version="1")
def copy_file(context: dict[str, Any]) -> str:
    day = dt.date.fromisoformat(context["activity_task"])
    target = work_dir(flotod.current_task().workflow_id) / f"{day.isoformat()}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(day_data(day), encoding="utf-8")
    return str(target)


@flotod.activity(name="fileLength", version="1")
def file_length(context: dict[str, Any]) -> int:
    """The context holds the one copyFile result this task requires: the copied path."""
    paths = [v for k, v in context.items() if k.startswith("copyFile:")]
    return len(Path(paths[0]).read_text(encoding="utf-8"))


SPEC = DeciderSpec(
    domain=DOMAIN,
    task_list=TASK_LIST,
    default_activity_task_list=ACTIVITY_TASK_LIST,
    activity_tasks=[Generator("weekDays", "1", activity_id="weekDays")],
)

EXPECTED_RESULT = {
    "fileLength:2024-03-01": 7,
    "fileLength:2024-03-04": 28,
    "fileLength:2024-03-05": 40,
}
