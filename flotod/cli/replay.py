"""``flotod replay``: would this spec have decided what these runs' histories show?

What a team runs in CI before shipping a spec change, with production histories saved by
``flotod workflow history --json`` as fixtures; and what an operator runs against the open
runs before reloading a decider. The work is :func:`flotod.engine.replay_check`; this reads
its two inputs (a history from a file or from SWF, a spec from a file or the config's
``[decider.NAME]`` table) and reports. Exit 0: they agree; 1: a run diverges; 2: a history or
the spec cannot be read (one line saying which and why).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flotod.cli import output
from flotod.cli.executions import latest_run_id
from flotod.cli.operator import Target, add_connection_arguments, resolve_target
from flotod.config import DEFAULT_CONFIG_PATH, ServiceConfig, load_config
from flotod.engine import HistoryError, ReplayResult
from flotod.engine.replay import DecisionHandler, safe
from flotod.errors import ConfigError, FlotodError, SpecError, SwfError
from flotod.payloads import PayloadError, Payloads, PayloadUnavailable
from flotod.services.decider import decider_handler
from flotod.services.spec_check import open_runs as list_open_runs
from flotod.services.spec_check import replay_resolved
from flotod.specs import DeciderSpec, load_decider_spec

HELP = (
    "Replay recorded workflow histories through a decider spec: check that a changed spec "
    "still decides what running and recorded executions were decided"
)

EX_AGREE = 0
EX_DIVERGED = 1
EX_UNREADABLE = 2


class Unreadable(FlotodError):
    """A history or the spec cannot be read: one line naming which and why."""

    exit_code = EX_UNREADABLE


@dataclass(frozen=True)
class Recorded:
    """One run's history and what names it."""

    events: list[dict[str, Any]]
    source: str  # the file, or "swf"
    workflow_id: str | None = None
    run_id: str = ""

    @property
    def label(self) -> str:
        if self.source != "swf" or self.workflow_id is None:
            return safe(self.source)
        run = f" (run {safe(self.run_id)})" if self.run_id else ""
        return f"{safe(self.workflow_id)}{run}"


@dataclass(frozen=True)
class Decider:
    """What decides in the replay, and the workflow types its runs have (for --all-open):
    one, or one per version of a table with ``specs``."""

    logic: DeciderSpec | DecisionHandler
    workflow_types: tuple[tuple[str, str], ...] = ()
    # What resolves the large payloads a history refers to: the config's [payloads], made
    # on first use (most histories hold none).
    payloads: Callable[[], Payloads] = Payloads.off


# -- reading ----------------------------------------------------------------------------------


def read_history_file(name: str) -> Recorded:
    """The JSON ``flotod workflow history --json`` prints (a list of events), or an object
    with an ``events`` (or ``history``) list and, optionally, the run's ``workflow_id``."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise Unreadable(f"cannot read history {name}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"history {name} is not JSON: {exc}") from None
    if isinstance(data, list):
        return Recorded(data, name)
    if isinstance(data, Mapping):
        events = data.get("events", data.get("history"))
        workflow_id = data.get("workflow_id", data.get("workflowId"))
        run_id = data.get("run_id", data.get("runId")) or ""
        if isinstance(events, list) and isinstance(workflow_id, str | None):
            return Recorded(events, name, workflow_id, str(run_id))
    raise Unreadable(
        f"history {name}: expected a JSON list of events (as `flotod workflow history --json` "
        'prints them) or an object with an "events" list'
    )


def read_spec_file(name: str) -> Decider:
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read spec {name}: {exc.strerror or exc}") from None
    try:
        return Decider(load_decider_spec(data))
    except SpecError as exc:
        raise Unreadable(f"spec {name}: {exc}") from None


def config_decider(config: str | None, instance: str | None) -> Decider:
    """The decider the services would run for ``[decider.INSTANCE]``, and its workflow type."""
    path = Path(config) if config is not None else DEFAULT_CONFIG_PATH
    try:
        loaded: ServiceConfig = load_config(path, "decider", instance)
    except ConfigError as exc:
        raise Unreadable("spec from the config: " + "; ".join(exc.problems)) from None
    decider = loaded.decider
    handler = decider_handler(loaded)
    name = decider.workflow_type_name
    versions = tuple(decider.versions) or (decider.workflow_type_version,)
    return Decider(handler, tuple((name, v) for v in versions) if name else ())


def swf_target(args: argparse.Namespace) -> Target:
    try:
        return resolve_target(args)
    except ConfigError as exc:
        raise Unreadable("SWF settings from the config: " + "; ".join(exc.problems)) from None


def config_payloads(args: argparse.Namespace) -> Payloads:
    """What resolves large payloads: the config's ``[payloads]``, which comes with the SWF
    settings (same endpoint and credentials); off when the config sets no bucket."""
    return swf_target(args).payloads


def fetch(target: Target, workflow_id: str, run_id: str | None = None) -> Recorded:
    try:
        run = run_id or latest_run_id(target.swf, target.domain, workflow_id)
        events = target.swf.get_workflow_execution_history(target.domain, workflow_id, run)
    except SwfError as exc:
        raise Unreadable(f"history of {safe(workflow_id)} from SWF: {exc}") from None
    return Recorded(events, "swf", workflow_id, run)


def open_runs(target: Target, workflow_type: tuple[str, str]) -> list[tuple[str, str]]:
    try:
        return list_open_runs(target.swf, target.domain, workflow_type)
    except SwfError as exc:
        name, version = workflow_type
        raise Unreadable(f"open runs of {safe(name)}:{safe(version)} from SWF: {exc}") from None


# -- reporting --------------------------------------------------------------------------------


def check(recorded: Recorded, decider: Decider) -> ReplayResult:
    try:
        return replay_resolved(
            recorded.events,
            decider.logic,
            decider.payloads,
            workflow_id=recorded.workflow_id,
            run_id=recorded.run_id,
        )
    except PayloadError as exc:
        uri = f" ({exc.uri})" if exc.uri and exc.uri not in str(exc) else ""
        raise Unreadable(f"history {recorded.label}: {exc.reason}: {exc}{uri}") from None
    except PayloadUnavailable as exc:
        raise Unreadable(
            f"history {recorded.label}: payload_unavailable: {exc} ({exc.uri})"
        ) from None
    except HistoryError as exc:
        raise Unreadable(f"history {recorded.label}: {exc}") from None


def as_json(recorded: Recorded, result: ReplayResult | None, error: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "source": recorded.source,
        "workflow_id": recorded.workflow_id,
        "run_id": recorded.run_id or None,
    }
    if result is None:
        return {**doc, "agreed": None, "error": error}
    doc.update(result.to_dict())
    if result.divergence is not None:
        doc["divergence"]["text"] = result.divergence.text()
    doc["summary"] = result.summary()
    return doc


def report(recorded: Recorded, result: ReplayResult) -> None:
    output.emit(f"{recorded.label}: {result.summary()}")
    if result.divergence is not None:
        output.emit(result.divergence.text())


def _one(recorded: Recorded, decider: Decider, as_json_doc: bool) -> int:
    result = check(recorded, decider)
    if as_json_doc:
        output.print_json(as_json(recorded, result))
    else:
        report(recorded, result)
    return EX_AGREE if result.agreed else EX_DIVERGED


def _many(
    what: str,
    runs: Iterable[Callable[[], Recorded]],
    decider: Decider,
    json_doc: bool,
    about: Mapping[str, Any] | None = None,
) -> int:
    """Replay each run, reporting each as it is done, then a count (or one JSON document).
    A run that cannot be read is reported and the others still replayed."""
    docs: list[dict[str, Any]] = []
    diverged = unreadable = 0
    for load in runs:
        recorded: Recorded | None = None
        try:
            recorded = load()
            result = check(recorded, decider)
        except Unreadable as exc:
            unreadable += 1
            message = " ".join(str(exc).split())
            docs.append({"agreed": None, "error": message})
            if not json_doc:
                output.emit(f"cannot be replayed: {message}")
            continue
        diverged += not result.agreed
        docs.append(as_json(recorded, result))
        if not json_doc:
            report(recorded, result)
    agreed = len(docs) - diverged - unreadable
    if json_doc:
        doc = {**(about or {}), "agreed": not diverged and not unreadable, "runs": docs}
        output.print_json(doc)
    else:
        output.emit(
            f"{what}: {len(docs)} replayed, {agreed} agree, {diverged} diverge"
            + (f", {unreadable} cannot be replayed" if unreadable else "")
        )
    if diverged:
        return EX_DIVERGED
    return EX_UNREADABLE if unreadable else EX_AGREE


def _all_open(args: argparse.Namespace, decider: Decider) -> int:
    if not decider.workflow_types:
        raise Unreadable(
            "--all-open needs the decider's workflow type: use --instance NAME of a "
            "[decider.NAME] table with workflow_type_name"
        )
    target = swf_target(args)
    runs = [
        functools.partial(fetch, target, workflow_id, run_id)
        for workflow_type in decider.workflow_types
        for workflow_id, run_id in open_runs(target, workflow_type)
    ]
    shown = ", ".join(f"{safe(n)}:{safe(v)}" for n, v in decider.workflow_types)
    what = f"open runs of {shown}"
    types = [{"name": n, "version": v} for n, v in decider.workflow_types]
    about = {"workflow_type": types[0]} if len(types) == 1 else {"workflow_types": types}
    return _many(what, runs, decider, args.json, about)


def _replay(args: argparse.Namespace) -> int:
    sources = [bool(args.history), args.workflow_id is not None, args.all_open]
    if sum(sources) != 1:
        raise Unreadable("give exactly one of HISTORY.json, --workflow-id ID, --all-open")
    if args.run_id is not None and args.workflow_id is None:
        raise Unreadable("--run-id goes with --workflow-id")
    if args.spec is not None:
        decider = read_spec_file(args.spec)
    else:
        decider = config_decider(args.config, args.instance)
    decider = replace(decider, payloads=functools.cache(lambda: config_payloads(args)))
    if args.workflow_id is not None:
        recorded = fetch(swf_target(args), args.workflow_id, args.run_id)
        return _one(recorded, decider, args.json)
    if args.all_open:
        return _all_open(args, decider)
    if len(args.history) == 1:
        return _one(read_history_file(args.history[0]), decider, args.json)
    files = [functools.partial(read_history_file, name) for name in args.history]
    return _many("histories", files, decider, args.json)


def run(args: argparse.Namespace) -> int:
    try:
        return _replay(args)
    except Unreadable as exc:
        message = " ".join(str(exc).split())
        if args.json:
            output.print_json({"agreed": None, "error": message})
        print(f"flotod replay: {message}", file=sys.stderr)
        return EX_UNREADABLE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "history",
        nargs="*",
        metavar="HISTORY.json",
        help="a recorded history: the JSON `flotod workflow history --json` prints (- reads "
        "standard input); several files are replayed one after another",
    )
    parser.add_argument("--workflow-id", metavar="ID", help="replay this execution's history")
    parser.add_argument("--run-id", metavar="RUN", help="with --workflow-id: this run")
    parser.add_argument(
        "--all-open",
        action="store_true",
        help="replay every open run of the decider's workflow type (workflow_type_name and "
        "workflow_type_version of its [decider.NAME] table, or every version of its specs, "
        "each run with the spec of its version)",
    )
    spec = parser.add_mutually_exclusive_group()
    spec.add_argument(
        "--instance",
        metavar="NAME",
        help="decide with the config's [decider.NAME] (spec_file, spec_object or dynamic; "
        "default: the only decider table)",
    )
    spec.add_argument("--spec", metavar="FILE", help="decide with this JSON decider spec")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_connection_arguments(parser)
