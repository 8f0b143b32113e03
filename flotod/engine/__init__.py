"""The pure replay decider: an execution's complete history and a spec in, decisions out.

No I/O, no clock, no randomness: services poll SWF, join the history pages, call
:func:`decide` (or :func:`decide_dynamic`) and send back what it returns.
"""

from __future__ import annotations

from flotod.engine.decide import (
    RESERVED_KEY,
    closing_reason,
    decide,
    decide_dynamic,
    workflow_input,
)
from flotod.engine.decisions import (
    CLOSING_DECISIONS,
    MAX_DECISIONS,
    MAX_PAYLOAD,
    Decision,
    closes_workflow,
)

__all__ = [
    "CLOSING_DECISIONS",
    "MAX_DECISIONS",
    "MAX_PAYLOAD",
    "RESERVED_KEY",
    "Decision",
    "closes_workflow",
    "closing_reason",
    "decide",
    "decide_dynamic",
    "workflow_input",
]
