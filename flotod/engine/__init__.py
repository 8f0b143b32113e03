"""The pure replay decider: an execution's complete history and a spec in, decisions out.

No I/O, no clock, no randomness: services poll SWF, join the history pages, call
:func:`decide` (or :func:`decide_dynamic`) and send back what it returns. A decider that sees a
run's tasks one after another can use :class:`Replays` instead, which keeps each run's replay
state and reads only the events that are new; it answers exactly what :func:`decide` would.

Each raises :class:`IncompleteHistoryError` for events that do not run from event 1 to the
task's started event (leave such a task unanswered); after SWF refused a response with a
ValidationException, answer with :func:`decision_rejected` so the run ends instead of looping.
The daemon workflow's decisions and its children's are pure too: :mod:`flotod.engine.daemon`
and :mod:`flotod.engine.daemon_requests`. :func:`replay_check` replays a recorded history
through a spec and reports where the spec no longer decides what the history shows.
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
    decision_rejected,
    ends_workflow,
)
from flotod.engine.recorded import HistoryError
from flotod.engine.replay import Divergence, ReplayResult, replay_check
from flotod.engine.replays import Replays
from flotod.errors import IncompleteHistoryError

__all__ = [
    "CLOSING_DECISIONS",
    "MAX_DECISIONS",
    "MAX_PAYLOAD",
    "RESERVED_KEY",
    "Decision",
    "Divergence",
    "HistoryError",
    "IncompleteHistoryError",
    "ReplayResult",
    "Replays",
    "closes_workflow",
    "closing_reason",
    "decide",
    "decide_dynamic",
    "decision_rejected",
    "ends_workflow",
    "replay_check",
    "workflow_input",
]
