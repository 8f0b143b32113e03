"""One RespondDecisionTaskCompleted being applied, and what applying it needs of the backend.

Shared by the decision handlers (decisions.py, external.py); it sits below both, so the
package's imports stay a DAG.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flotod.localswf.execution import LocalWorkflowExecution
from flotod.localswf.faults import DecisionFaults

if TYPE_CHECKING:
    from moto.swf.models.domain import Domain
    from moto.swf.models.workflow_type import WorkflowType


class Runs(Protocol):
    """What decisions need of the backend beyond the deciding run: other runs, by id."""

    def find_open(
        self, domain: str, workflow_id: str, run_id: str | None = None
    ) -> LocalWorkflowExecution | None: ...

    def new_execution(
        self, domain: Domain, wf_type: WorkflowType, workflow_id: str, **kwargs: Any
    ) -> LocalWorkflowExecution: ...

    def add_execution(self, wfe: LocalWorkflowExecution) -> None: ...


@dataclass(frozen=True)
class Step:
    """One response being applied: the runs it may reach, the deciding run, and the id of
    its DecisionTaskCompleted event."""

    runs: Runs
    run: LocalWorkflowExecution
    event_id: int
    faults: DecisionFaults | None = None

    def injected(self, decision_type: str) -> str | None:
        """The cause of an injected refusal of this decision (tests only), or None."""
        return self.faults.draw(decision_type) if self.faults is not None else None


FollowUp = Callable[[], None]
