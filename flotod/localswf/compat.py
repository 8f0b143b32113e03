"""Checks that moto still has what the embedded SWF builds on, before first use.

The extension subclasses moto's SWF models and calls a few of their methods; a moto release
that renames or reshapes one would make it silently wrong. ``install()`` checks each of them
by name and parameter list and raises :class:`LocalSwfIncompatible` naming what changed.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from typing import Any

from flotod.errors import FlotodError

SUPPORTED_MOTO = ((5, 2), (5, 3))

# (module, attribute path, parameter names the extension relies on, or None for "exists")
REQUIRED: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("moto.swf.models", "SWFBackend.__init__", ("self", "region_name", "account_id")),
    ("moto.swf.models", "SWFBackend.register_domain", ("self", "name")),
    ("moto.swf.models", "SWFBackend.list_domains", None),
    ("moto.swf.models", "SWFBackend.register_type", None),
    ("moto.swf.models", "SWFBackend.describe_type", None),
    ("moto.swf.models.domain", "Domain.get_type", ("self", "kind", "name", "version")),
    ("moto.swf.models.domain", "Domain.to_short_dict", None),
    (
        "moto.swf.models.workflow_execution",
        "WorkflowExecution.__init__",
        ("self", "domain", "workflow_type", "workflow_id"),
    ),
    ("moto.swf.models.workflow_execution", "WorkflowExecution.validate_decisions", None),
    ("moto.swf.models.workflow_execution", "WorkflowExecution.to_list_dict", None),
    ("moto.swf.models.workflow_execution", "WorkflowExecution.to_short_dict", None),
    (
        "moto.swf.models.decision_task",
        "DecisionTask.__init__",
        ("self", "workflow_execution", "scheduled_event_id"),
    ),
    ("moto.swf.models.decision_task", "DecisionTask.start", None),
    (
        "moto.swf.models.activity_task",
        "ActivityTask.__init__",
        (
            "self",
            "activity_id",
            "activity_type",
            "scheduled_event_id",
            "workflow_execution",
            "timeouts",
            "workflow_input",
        ),
    ),
    ("moto.swf.models.activity_task", "ActivityTask.start", ("self", "started_event_id")),
    ("moto.swf.models.history_event", "HistoryEvent", None),
    ("moto.swf.models.activity_type", "ActivityType", None),
    ("moto.swf.models.workflow_type", "WorkflowType", None),
    ("moto.swf.responses", "SWFResponse._get_workflow_execution_params", None),
    ("moto.swf.responses", "SWFResponse._check_string", None),
    ("moto.swf.exceptions", "SWFDefaultUndefinedFault", None),
    ("moto.swf.exceptions", "SWFUnknownResourceFault", None),
    ("moto.swf.exceptions", "SWFValidationException", None),
    ("moto.core.exceptions", "JsonRESTError.get_body", None),
    # The embedded S3 (flotod.localswf.s3) keeps its objects in moto's S3 backend.
    ("moto.s3.models", "S3Backend.__init__", ("self", "region_name", "account_id")),
    ("moto.s3.models", "S3Backend.get_bucket", ("self", "bucket_name")),
    ("moto.s3.models", "FakeBucket.__init__", ("self", "name", "account_id", "region_name")),
    ("moto.s3.models", "s3_backends.bucket_accounts", None),
    ("moto.s3.models", "S3Backend.head_bucket", ("self", "bucket_name")),
    ("moto.s3.models", "S3Backend.put_object", ("self", "bucket_name", "key_name", "value")),
    ("moto.s3.models", "S3Backend.get_object", ("self", "bucket_name", "key_name")),
    ("moto.s3.models", "S3Backend.delete_object", ("self", "bucket_name", "key_name")),
    ("moto.s3.models", "S3Backend.list_objects", None),
    ("moto.s3.exceptions", "MissingBucket", None),
)

_lock = threading.Lock()
_installed = False


class LocalSwfIncompatible(FlotodError):
    """The installed moto lacks something the embedded SWF relies on."""


def _resolve(module_name: str, path: str) -> Any:
    obj: Any = importlib.import_module(module_name)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def check() -> None:
    """Raise LocalSwfIncompatible listing every moto attribute that is missing or reshaped."""
    import moto  # noqa: PLC0415 (an optional dependency: checked when used)

    problems: list[str] = []
    version = tuple(int(part) for part in moto.__version__.split(".")[:2])
    if not SUPPORTED_MOTO[0] <= version < SUPPORTED_MOTO[1]:
        problems.append(f"moto {moto.__version__} is outside the supported range >=5.2,<5.3")
    for module_name, path, params in REQUIRED:
        try:
            obj = _resolve(module_name, path)
        except (ImportError, AttributeError):
            problems.append(f"{module_name}.{path} is missing")
            continue
        if params is None:
            continue
        names = tuple(inspect.signature(obj).parameters)
        if names[: len(params)] != params:
            problems.append(f"{module_name}.{path} takes {names}, expected {params} first")
    if problems:
        raise LocalSwfIncompatible(
            "the embedded SWF cannot run on this moto: " + "; ".join(problems)
        )


def install() -> None:
    """Verify moto once per process; later calls return at once."""
    global _installed
    with _lock:
        if not _installed:
            check()
            _installed = True
