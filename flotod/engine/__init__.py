"""The pure replay decider: an execution's complete history and a spec in, decisions out.

No I/O, no clock, no randomness: services poll SWF, join the history pages, call
:func:`decide` (or :func:`decide_dynamic`) and send back what it returns. A decider that sees a
run's tasks one after another can use :class:`Replays` instead, which keeps each run's replay
state and reads only the events that are new; it answers exactly what :func:`decide` would.
:func:`replay_check` replays a recorded history through a spec and reports where the spec no
longer decides what the history shows.
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
from flotod.engine.recorded import HistoryError
from flotod.engine.replay import Divergence, ReplayResult, replay_check
from flotod.engine.replays import Replays

__all__ = [
    "CLOSING_DECISIONS",
    "MAX_DECISIONS",
    "MAX_PAYLOAD",
    "RESERVED_KEY",
    "Decision",
    "Divergence",
    "HistoryError",
    "ReplayResult",
    "Replays",
    "closes_workflow",
    "closing_reason",
    "decide",
    "decide_dynamic",
    "replay_check",
    "workflow_input",
]
