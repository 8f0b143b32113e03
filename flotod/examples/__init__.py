"""floto's example workflows, rewritten for flotod and shipped with it.

Each module is one example: its activities (registered on the default registry when the module
is imported, so a worker's ``modules = ["flotod.examples.NAME"]`` serves them) and a
``SPEC`` usable as ``spec_object = "flotod.examples.NAME:SPEC"``. Activity names are unique
across the examples, so one worker may serve them all. :mod:`flotod.examples.catalog` lists
every example with its input and expected outcome, for the tests and ``python -m flotod.demo``.
"""

from __future__ import annotations

DOMAIN = "flotod"
# Every example except hello shares this activity task list; hello keeps the one the sample
# configs in /etc/flotod use.
ACTIVITY_TASK_LIST = "flotod_examples"

__all__ = ["ACTIVITY_TASK_LIST", "DOMAIN"]
