"""One activity of its own for the registration tests: `flotod register` runs in the test
process, where other tests' modules may already have registered common names."""

from __future__ import annotations

from typing import Any

from flotod.worker import activity


@activity("reg_slow", "v1")
def reg_slow(context: Any) -> str:
    return "done"
