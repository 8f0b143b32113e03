"""Does a new spec agree with the open runs it would decide? Asked once, here, by
``--check-config`` (which ``systemctl reload`` runs first), by a running decider's reload and
by ``flotod replay --all-open``.

A run's next decision task is decided from its whole history: a spec that would have decided
any earlier task differently finds events it never asked for (``history_mismatch``). So a
changed spec is replayed (:func:`flotod.engine.replay_check`) against every open run of its
workflow type version, and refused for that version at the first run that diverges. A spec
that agrees with every open run is safe for them, whatever else changed in it.

When SWF cannot be asked, the change is refused too: a spec no one checked may fail every
open run, while keeping the old one costs nothing but a second reload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flotod.config import ServiceConfig
from flotod.config.reload import Reload, changed_versions, diff_configs
from flotod.engine import HistoryError, ReplayResult, replay_check
from flotod.engine.decisions import payload_limit
from flotod.engine.handlers import with_max_payload
from flotod.engine.replay import DecisionHandler, safe
from flotod.errors import SwfError
from flotod.payloads import PayloadError, Payloads, PayloadUnavailable
from flotod.payloads.history import holds_envelopes, resolve_events
from flotod.specs import DeciderSpec
from flotod.swf import SwfClient

OPEN_RUNS_WINDOW = timedelta(days=366)  # SWF runs at most a year

WorkflowType = tuple[str, str]


def open_runs(swf: SwfClient, domain: str, workflow_type: WorkflowType) -> list[tuple[str, str]]:
    """(workflow id, run id) of every open run of ``workflow_type``, oldest first."""
    name, version = workflow_type
    infos = swf.list_open_workflow_executions(
        domain,
        oldest_start=datetime.now(UTC) - OPEN_RUNS_WINDOW,
        type_name=name,
        type_version=version,
    )
    infos.sort(key=lambda i: i.get("startTimestamp") or datetime.min.replace(tzinfo=UTC))
    return [(i["execution"]["workflowId"], i["execution"]["runId"]) for i in infos]


@dataclass(frozen=True)
class Refusal:
    """Why the new spec of one workflow type version is not taken: the first open run it
    decides otherwise (or cannot replay), or why the check could not run."""

    workflow_type: WorkflowType
    reason: str
    workflow_id: str = ""
    run_id: str = ""
    # SWF could not be asked: nothing is known against the spec, only that it went unchecked.
    unchecked: bool = False

    @property
    def version(self) -> str:
        return f"{self.workflow_type[0]}:{self.workflow_type[1]}"

    def line(self) -> str:
        """The one line ``--check-config`` prints."""
        if self.unchecked:
            return f"{self.version}: the spec was not checked: " + (
                self.reason
                if not self.workflow_id
                else f"open run {safe(self.workflow_id)} (run {safe(self.run_id)}): {self.reason}"
            )
        if not self.workflow_id:
            return f"{self.version}: the new spec is refused: {self.reason}"
        return (
            f"{self.version}: the new spec is refused: open run {safe(self.workflow_id)} "
            f"(run {safe(self.run_id)}): {self.reason}"
        )

    def fields(self) -> dict[str, str]:
        """The ``config.reload_refused`` record's fields."""
        out = {"version": self.version, "divergence": self.reason}
        if self.workflow_id:
            out.update(workflow_id=self.workflow_id, run_id=self.run_id)
        return out


def replay_resolved(
    events: list[dict[str, Any]],
    logic: DeciderSpec | DecisionHandler,
    payloads: Callable[[], Payloads],
    *,
    workflow_id: str | None = None,
    run_id: str = "",
) -> ReplayResult:
    """:func:`replay_check` of a history that may refer to large payloads kept in S3: they
    are read back (``payloads`` is called only then) and decided without SWF's bound, as the
    decider that wrote the history decided. Raises what :func:`replay_check` raises, and
    PayloadError / PayloadUnavailable for a value that cannot be read."""
    if holds_envelopes(events):
        events = resolve_events(events, payloads())
        logic = with_max_payload(logic, payload_limit(True))  # type: ignore[arg-type]
    return replay_check(events, logic, workflow_id=workflow_id, run_id=run_id)


def first_refusal(
    swf: SwfClient,
    domain: str,
    workflow_type: WorkflowType,
    logic: DeciderSpec | DecisionHandler | None,
    beat: Callable[[], None] = lambda: None,
    payloads: Callable[[], Payloads] = Payloads.off,
) -> Refusal | None:
    """Replay every open run of ``workflow_type`` through ``logic``; None when all agree.

    ``logic`` None: the version is being removed, which no open run may still need.
    ``beat`` is called once per run (a reload runs this on the service's main thread).
    """
    try:
        runs = open_runs(swf, domain, workflow_type)
    except SwfError as exc:
        reason = f"its open runs could not be listed: {exc}"
        return Refusal(workflow_type, reason, unchecked=True)
    if logic is None:
        if not runs:
            return None
        return Refusal(
            workflow_type, f"removed while {len(runs)} open run(s) still need it", *runs[0]
        )
    for workflow_id, run_id in runs:
        beat()
        try:
            events = swf.get_workflow_execution_history(domain, workflow_id, run_id)
            result = replay_resolved(
                events, logic, payloads, workflow_id=workflow_id, run_id=run_id
            )
        except (SwfError, PayloadUnavailable) as exc:
            reason = f"its history could not be read: {exc}"
            return Refusal(workflow_type, reason, workflow_id, run_id, unchecked=True)
        except PayloadError as exc:
            reason = f"cannot be replayed: {exc.reason}: {exc}"
            return Refusal(workflow_type, reason, workflow_id, run_id)
        except HistoryError as exc:
            return Refusal(workflow_type, f"cannot be replayed: {exc}", workflow_id, run_id)
        if result.divergence is not None:
            reason = " ".join(result.divergence.line().split())
            return Refusal(workflow_type, reason, workflow_id, run_id)
    return None


def _to_check(
    previous: ServiceConfig | None, new: ServiceConfig
) -> dict[WorkflowType, DeciderSpec | None]:
    """The versions whose spec is new, changed or gone, with the spec each would now have."""
    old, now = (previous.decider if previous else None), new.decider
    name = now.workflow_type_name
    if now.versions:
        kept: Mapping[str, DeciderSpec] = old.versions if old is not None else {}
        versions = changed_versions(kept, now.versions) if old is not None else list(now.versions)
        return {(name, v): now.versions.get(v) for v in versions}
    if now.spec is None or not name or (old is not None and old.spec == now.spec):
        return {}  # dynamic, unchanged, or runs no spec can list (no workflow_type_name)
    return {(name, now.workflow_type_version): now.spec}


def refusals(
    swf: SwfClient,
    previous: ServiceConfig | None,
    new: ServiceConfig,
    beat: Callable[[], None] = lambda: None,
    payloads: Callable[[], Payloads] = Payloads.off,
) -> list[Refusal]:
    """One per changed version (every version without ``previous``) whose new spec an open
    run refuses."""
    if new.kind != "decider":
        return []
    out = []
    for workflow_type, spec in _to_check(previous, new).items():
        refusal = first_refusal(swf, new.swf.domain, workflow_type, spec, beat, payloads)
        if refusal is not None:
            out.append(refusal)
    return out


def keep_refused(
    previous: ServiceConfig, new: ServiceConfig, refused: list[Refusal]
) -> ServiceConfig:
    """``new`` with each refused version's spec as it was in ``previous``."""
    if not refused:
        return new
    old, now = previous.decider, new.decider
    if not now.versions:
        return replace(new, process=replace(now, spec=old.spec, spec_file=old.spec_file))
    versions: dict[str, DeciderSpec] = dict(now.versions)
    for refusal in refused:
        version = refusal.workflow_type[1]
        if version in old.versions:
            versions[version] = old.versions[version]
        else:
            versions.pop(version, None)
    return replace(new, process=replace(now, versions=versions))


def vet_reload(
    swf: SwfClient,
    current: ServiceConfig,
    result: Reload,
    log: Any,
    beat: Callable[[], None] = lambda: None,
    payloads: Callable[[], Payloads] = Payloads.off,
) -> Reload:
    """A decider's reload with each refused version kept as it was, each refusal logged as
    one ``config.reload_refused`` error; every other change still applies."""
    refused = refusals(swf, current, result.effective(current), beat, payloads)
    for refusal in refused:
        log.error("config.reload_refused", **refusal.fields())
    if not refused:
        return result
    config = keep_refused(current, result.config, refused)
    return Reload(config, diff_configs(current, config))
