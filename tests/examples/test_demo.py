"""The one-command demo, end to end: the real services as processes, every example."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flotod.examples.catalog import EXAMPLES


@pytest.mark.slow
def test_the_demo_runs_every_example_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flotod.demo", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["EXAMPLE", "STATUS", "TOOK", "CHECK", "RESULT"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == {e.name for e in EXAMPLES}
    assert all(row[3] == "ok" for row in rows.values()), done.stdout
    assert rows["retry_gives_up"][1] == "FAILED"
    assert rows["hello"][1] == "COMPLETED" and "Hello, world!" in done.stdout
    assert lines[-1] == f"{len(EXAMPLES)} of {len(EXAMPLES)} examples gave their expected outcome"
    assert "stopping the services" in done.stderr
