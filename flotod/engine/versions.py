"""Which spec decides a run: the one of the workflow type version the run was started with.

A decider serving several versions of one workflow type (``specs`` in its config) ships a
changed task graph as a new version while the runs of the old one finish on the old graph.
Pure, like every handler: a task in, an answer out.
"""

from __future__ import annotations

from collections.abc import Mapping

from flotod.engine.decisions import MAX_PAYLOAD
from flotod.engine.handlers import Answer, SpecHandler
from flotod.errors import UnservedVersionError
from flotod.specs import DeciderSpec
from flotod.swf.types import DecisionTask


class VersionedHandler:
    """One :class:`SpecHandler` per version of the workflow type ``name``.

    ``max_events`` bounds the replay states kept by all versions together (it is shared out),
    so serving more versions does not multiply the memory history_cache_events allows.
    """

    def __init__(
        self,
        name: str,
        specs: Mapping[str, DeciderSpec],
        max_events: int = 0,
        max_payload: int = MAX_PAYLOAD,
    ) -> None:
        if not specs:
            raise ValueError("a versioned handler needs at least one version")
        share = max(1, max_events // len(specs)) if max_events else 0
        self.name = name
        self.max_events = max_events
        self.handlers = {
            version: SpecHandler(spec, share, max_payload) for version, spec in specs.items()
        }

    def with_max_payload(self, max_payload: int) -> VersionedHandler:
        """The same versions deciding with ``max_payload`` (replaying runs whose large
        payloads were kept in S3), with nothing kept."""
        specs = {version: handler.spec for version, handler in self.handlers.items()}
        return VersionedHandler(self.name, specs, self.max_events, max_payload)

    def spec_of(self, workflow_type: Mapping[str, str]) -> DeciderSpec:
        """The spec that decides runs of ``workflow_type``; raises UnservedVersionError."""
        return self._handler(workflow_type).spec

    def _handler(self, workflow_type: Mapping[str, str]) -> SpecHandler:
        name, version = workflow_type.get("name"), workflow_type.get("version")
        handler = self.handlers.get(str(version)) if name == self.name else None
        if handler is None:
            served = ", ".join(f"{self.name}:{v}" for v in self.handlers)
            raise UnservedVersionError(
                f"no spec for workflow type {name}:{version} (this decider serves {served})"
            )
        return handler

    def __call__(self, task: DecisionTask) -> Answer:
        return self._handler(task.workflow_type)(task)

    def forget(self, workflow_id: str, run_id: str) -> None:
        for handler in self.handlers.values():
            handler.forget(workflow_id, run_id)
