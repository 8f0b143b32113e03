"""Every setting flotod reads, declared once.

A declaration carries the type check, the default, the help text and two operational facts:
whether the setting can change on SIGHUP without a restart, and whether it is secret (masked by
``--print-config``). Parsing, ``--check-config``, ``--print-config``, the reload diff and the
Markdown reference all read these declarations, so they cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from flotod.config.listen import LISTEN_HELP, parse_listen
from flotod.swf.limits import DECISION_TASK_TIMEOUT

Kind = Literal["decider", "worker", "daemon"]
KINDS: tuple[Kind, ...] = get_args(Kind)

# The choice settings' types: the declarations take their choices from these, and the config
# dataclasses their annotations, so a type checker knows every value a choice can have.
LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["auto", "journal", "logfmt", "json"]
Executor = Literal["thread", "process"]
SHARED_SECTIONS: tuple[str, ...] = ("swf", "logging", "payloads")

# SWF's own limit for names and identities (see docs/swf-facts).
_SWF_NAME_MAX = 256


def toml_repr(value: Any) -> str:
    """Show a value as the user would have written it in TOML (strings in double quotes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


MASK = "********"
"""What error lines, reload records and ``--print-config`` show instead of a secret."""


def masked_repr(value: Any) -> str:
    """A secret's stand-in in an error line: the mask and the shape, which tells an operator
    what is wrong (too long, not a string) without showing a character of the value."""
    if isinstance(value, str):
        return f"{MASK} (a string of {len(value)} characters)"
    if isinstance(value, bool):
        return f"{MASK} (a boolean)"
    if isinstance(value, int):
        return f"{MASK} (an integer)"
    if isinstance(value, float):
        return f"{MASK} (a number)"
    if isinstance(value, list):
        return f"{MASK} (a list)"
    if isinstance(value, dict):
        return f"{MASK} (a table)"
    return f"{MASK} (a {type(value).__name__})"


class Invalid(ValueError):
    """Raised by a value type: the text says what was expected."""


@dataclass(frozen=True)
class Text:
    """A string, optionally from a fixed set of choices or matching a pattern."""

    max_length: int = _SWF_NAME_MAX
    allow_empty: bool = True
    choices: tuple[str, ...] = ()
    pattern: str = ""
    pattern_help: str = ""

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.pattern_help:
            return self.pattern_help
        size = f"of {'0' if self.allow_empty else '1'} to {self.max_length} characters"
        return f"a string {size}"

    def convert(self, value: Any) -> str:
        ok = isinstance(value, str)
        if ok and self.choices:
            ok = value in self.choices
        elif ok:
            ok = len(value) <= self.max_length and (self.allow_empty or bool(value))
            if ok and value and self.pattern:
                ok = re.fullmatch(self.pattern, value) is not None
        if not ok:
            raise Invalid(self.describe())
        return str(value)


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int

    def describe(self) -> str:
        return f"an integer from {self.minimum} to {self.maximum}"

    def convert(self, value: Any) -> int:
        # TOML booleans are Python ints; "true" is never a count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(self.describe())
        if not self.minimum <= value <= self.maximum:
            raise Invalid(self.describe())
        return value


@dataclass(frozen=True)
class Boolean:
    def describe(self) -> str:
        return "true or false"

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid(self.describe())
        return value


@dataclass(frozen=True)
class TextList:
    """A list of non-empty strings, e.g. module names."""

    item_pattern: str = ""
    item_help: str = "non-empty strings"
    min_items: int = 0

    def describe(self) -> str:
        least = f"at least {self.min_items} " if self.min_items else ""
        return f"a list of {least}{self.item_help}"

    def convert(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) < self.min_items:
            raise Invalid(self.describe())
        for item in value:
            if not isinstance(item, str) or not item:
                raise Invalid(self.describe())
            if self.item_pattern and re.fullmatch(self.item_pattern, item) is None:
                raise Invalid(self.describe())
        return tuple(value)


@dataclass(frozen=True)
class Listen:
    """An address to listen on, "HOST:PORT", or "" for off."""

    def describe(self) -> str:
        return LISTEN_HELP

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(self.describe())
        if value:
            try:
                parse_listen(value)
            except ValueError:
                raise Invalid(self.describe()) from None
        return value


@dataclass(frozen=True)
class PathTable:
    """A TOML table of names to file paths, e.g. ``{ v1 = "a.json", v2 = "b.json" }``; kept as
    (name, path) pairs in the order written, since a frozen config holds no dict."""

    key_max_length: int = 64
    key_help: str = "names"

    def describe(self) -> str:
        return f"a table of at least one of {self.key_help} to paths without control characters"

    def convert(self, value: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict) or not value:
            raise Invalid(self.describe())
        for key, path in value.items():
            if not key or len(key) > self.key_max_length or not isinstance(path, str):
                raise Invalid(self.describe())
            if re.fullmatch(_PATH, path) is None:
                raise Invalid(self.describe())
        return tuple(value.items())


ValueType = Text | Integer | Boolean | TextList | Listen | PathTable

REQUIRED: Any = object()
"""Default marker for a setting that has no default and must be written in the file."""


@dataclass(frozen=True)
class Setting:
    """One key of one table: ``section`` is a shared table ("swf", "logging", "payloads") or
    a process kind."""

    section: str
    name: str
    type: ValueType
    default: Any
    help: str
    reloadable: bool = False
    secret: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def convert(self, value: Any) -> Any:
        return self.type.convert(value)


_MODULE = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
_URL = r"https?://[^\s]+"
# A file system path: control characters (NUL above all, which no system call accepts) are a
# mistake, and refusing them here keeps them from reaching os.stat as a ValueError.
_PATH = r"[^\x00-\x1f\x7f]+"
_PATH_HELP = '"" or a path without control characters'

_DRAIN_HELP = (
    "How long a warm stop (SIGTERM) may wait for in-flight work before it becomes a quick stop. "
    "Keep the unit's TimeoutStopSec= above it."
)


_DRAIN = Integer(1, 86_400)

_DECISION_TIMEOUT = Integer(1, 3_600)
_STICKY_HELP = (
    "Also poll a decision task list of this process's own (named after the task list and "
    "swf.identity) and route each run's next decision tasks there, so that they find its "
    "history and replay state in memory; SWF hands a task back to the shared list when this "
    "process does not start it within sticky_schedule_to_start_seconds. Processes that share "
    "one identity share that list."
)
_STICKY_TIMEOUT = Integer(1, 3_600)
_STICKY_TIMEOUT_HELP = (
    "How long a run's decision task waits on this process's own list before SWF hands it to "
    "the shared list: what a stopped or dead decider costs each run it held."
)
_DECISION_TIMEOUT_DEFAULT = DECISION_TASK_TIMEOUT
_DECISION_TIMEOUT_HELP = (
    "Decision task timeout (defaultTaskStartToCloseTimeout) of the workflow types this table "
    "registers. A decision takes milliseconds; this is how long a task SWF handed to a "
    "decider that stopped or died waits before SWF hands it out again. SWF keeps the value of "
    "the first registration: a new value needs a new workflow type version."
)

_PYTHON_PATH_HELP = (
    "Directories put first on Python's import path before modules or spec_object are imported "
    "(relative paths: to the config file that sets them), like PYTHONPATH for this table only. "
    "Not under /home, /root or /tmp, which the units hide (ProtectHome=yes, PrivateTmp=yes), "
    "unless the config file is there too; readable by the flotod user."
)
_VIRTUALENV_HELP = (
    'A virtualenv made with "python3 -m venv" for the Python flotod runs on (relative: to the '
    "config file); its site-packages are searched after flotod's own dependencies, so they "
    'cannot replace them. "" means none. Same placement rules as python_path.'
)


# SWF names hold no colon, slash, vertical bar or control character; patterns add fnmatch's
# wildcards, which those rules already allow.
_NAME_PATTERN = r"[^:/|\x00-\x1f\x7f-\x9f]{1,256}"
_TYPE_PATTERN = _NAME_PATTERN + r"(:[^:/|\x00-\x1f\x7f-\x9f]{1,64})?"
_ALLOWED_HELP = (
    " Patterns are fnmatch-style (* ? [...]), case-sensitive. Refused: a dynamic run fails "
    'with reason "not_allowed" (details name the task and the value); a daemon request gets '
    "its flotod.rejectedSignal marker. Checked again when a generator's output joins."
)


def _allowlist_settings(kind: Kind) -> tuple[Setting, ...]:
    """What a spec that arrives at run time (a dynamic input, a daemon request) may name: the
    bound on what anyone allowed to start or signal this workflow can make flotod do."""
    daemon = kind == "daemon"
    task_lists = (
        "the task_list of every [worker.*] and [decider.*] table in the same config, "
        "and this daemon's own task_list"
        if daemon
        else "this table's default_activity_task_list, and the task_list of every "
        "[worker.*] and [decider.*] table in the same config"
    )
    children = "the workflow types (workflow_type_name:workflow_type_version) of the config's "
    children += "[decider.*] tables" + (", and the daemon's own child type" if daemon else "")
    scope = (
        "A daemon request's spec" if daemon else "Dynamic deciders only: a dynamic workflow's tasks"
    )
    return (
        Setting(
            kind,
            "allowed_activity_types",
            TextList(item_pattern=_TYPE_PATTERN, item_help='"name" or "name:version" patterns'),
            (),
            f"{scope} may schedule these activity types. Empty means any type: activities "
            "then run only on allowed_task_lists, where this config's workers poll and run "
            "only the activities their modules register (the decider does not import "
            "worker code to list them)." + _ALLOWED_HELP,
            reloadable=True,
        ),
        Setting(
            kind,
            "allowed_task_lists",
            TextList(item_pattern=_NAME_PATTERN, item_help="task list names or patterns"),
            (),
            f"{scope} may send activities and child workflows to these task lists (an "
            "activity's own task_list, or else the spec's default_activity_task_list). Empty "
            f'means {task_lists}. Unless a pattern here is "*", an activity that names no '
            "task list at all (it would go to its type's registered default) is refused."
            + _ALLOWED_HELP,
            reloadable=True,
        ),
        Setting(
            kind,
            "allowed_child_workflow_types",
            TextList(item_pattern=_TYPE_PATTERN, item_help='"name" or "name:version" patterns'),
            (),
            f"{scope} may start these workflow types as children. Empty means {children}."
            + _ALLOWED_HELP,
            reloadable=True,
        ),
    )


def _code_settings(kind: Kind) -> tuple[Setting, ...]:
    """Where a decider's or worker's own code comes from (not reloadable: imported code stays)."""
    return (
        Setting(
            kind,
            "python_path",
            TextList(
                item_pattern=_PATH, item_help="directories (paths without control characters)"
            ),
            (),
            _PYTHON_PATH_HELP,
        ),
        Setting(
            kind,
            "virtualenv",
            Text(max_length=4096, pattern=_PATH, pattern_help=_PATH_HELP),
            "",
            _VIRTUALENV_HELP,
        ),
    )


_METRICS_HELP = (
    'Where this instance serves /metrics for Prometheus, e.g. "127.0.0.1:9464"; "" serves '
    "none. A key of each instance table, since every process needs a port of its own. Not "
    "reloadable: a change applies at the next restart."
)


# S3's bucket naming rules (general purpose buckets): 3 to 63 lowercase letters, digits, dots
# and hyphens, a letter or digit at both ends, no "..", not shaped like an IP address, and none
# of the prefixes and suffixes S3 reserves.
_BUCKET_PATTERN = (
    r"(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)"
    r"(?!.*(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)"
    r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
)
_BUCKET_HELP = (
    '"" (off) or an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, '
    'starting and ending with a letter or digit, no "..", not an IP address, not starting '
    'with "xn--" or "sthree-"'
)
# An S3 key is at most 1,024 bytes; the prefix leaves room for the workflow id (256), run id,
# task id (256) and hash that follow it. No control characters, and no leading "/", which
# would make an empty first path segment that S3 consoles and lifecycle filters show oddly.
_PREFIX_PATTERN = r"[^/\x00-\x1f\x7f][^\x00-\x1f\x7f]*"
_PREFIX_HELP = (
    '"" or a key prefix of up to 256 characters, not starting with "/", without control characters'
)
# A value of threshold_bytes or less stays in SWF. SWF's limit is 32,768 characters and a
# UTF-8 byte count is never below the character count, so a value under the threshold always
# fits; the room left above 32,000 is for what the engine wraps around a value it passes on
# (a generator's output, a failure's details).
MAX_THRESHOLD = 32_000


SETTINGS: tuple[Setting, ...] = (
    # [swf]: shared by every process on the host
    Setting(
        "swf",
        "endpoint_url",
        Text(max_length=2048, pattern=_URL, pattern_help='"" or an http(s):// URL'),
        "",
        '"" means AWS\'s endpoint for the region; "http://127.0.0.1:4566" the embedded SWF.',
    ),
    Setting("swf", "region", Text(allow_empty=False, max_length=64), "us-east-1", "AWS region."),
    Setting(
        "swf",
        "profile",
        Text(max_length=128),
        "",
        'AWS profile; "" means the default credential chain (environment, LoadCredential=, '
        "instance profile).",
    ),
    Setting(
        "swf",
        "access_key_id",
        Text(max_length=128),
        "",
        'Static AWS access key id; "" (recommended) means the credential chain.',
    ),
    Setting(
        "swf",
        "secret_access_key",
        Text(max_length=256),
        "",
        "Static AWS secret key, only together with access_key_id. Prefer the credential chain; "
        "if set, keep the file mode 0640 or stricter.",
        secret=True,
    ),
    Setting("swf", "domain", Text(allow_empty=False), "flotod", "SWF domain."),
    Setting(
        "swf",
        "identity",
        Text(),
        "",
        'Identity reported to SWF with every poll; "" means "<hostname>:<pid>".',
    ),
    # [logging]
    Setting(
        "logging",
        "level",
        Text(choices=get_args(LogLevel)),
        "info",
        "Lowest level written.",
        reloadable=True,
    ),
    Setting(
        "logging",
        "format",
        Text(choices=get_args(LogFormat)),
        "auto",
        "auto: journald under systemd, logfmt on a terminal, JSON lines otherwise.",
        reloadable=True,
    ),
    # [payloads]: values past SWF's 32,768 characters, shared by every process on the host
    Setting(
        "payloads",
        "s3_bucket",
        Text(max_length=63, pattern=_BUCKET_PATTERN, pattern_help=_BUCKET_HELP),
        "",
        "S3 bucket where inputs, results, details and signal inputs larger than "
        'threshold_bytes are kept, SWF carrying a small reference instead; "" turns this off '
        "(such values then fail with payload_too_large). Reached with [swf]'s endpoint_url, "
        "region and credentials. Every process of the deployment (deciders, workers, daemon, "
        "the flotod command) needs the same bucket to read the references. A restart applies "
        "a change.",
    ),
    Setting(
        "payloads",
        "s3_prefix",
        Text(max_length=256, pattern=_PREFIX_PATTERN, pattern_help=_PREFIX_HELP),
        "flotod/",
        "Key prefix of the objects: <prefix><workflow id>/<run id>/<task id>/<sha256>. Put an "
        "S3 lifecycle rule on it to expire them: flotod never deletes an object, since it "
        "cannot know a history that still refers to it is gone.",
    ),
    Setting(
        "payloads",
        "threshold_bytes",
        Integer(1, MAX_THRESHOLD),
        30_000,
        "A value longer than this many bytes (UTF-8) leaves SWF. At most 32,000: SWF takes "
        "32,768 characters, and the rest is room for what flotod wraps around a value.",
    ),
    Setting(
        "payloads",
        "compress",
        Boolean(),
        False,
        "Compress (zlib) a value past threshold_bytes first: if the compressed form fits, it "
        "stays in SWF inline (base64) and S3 is not used for it; otherwise the compressed "
        "bytes go to S3.",
    ),
    # [decider.NAME]
    Setting("decider", "task_list", Text(allow_empty=False), REQUIRED, "Decision task list."),
    Setting(
        "decider",
        "spec_file",
        Text(max_length=4096, pattern=_PATH, pattern_help=_PATH_HELP),
        "",
        "JSON DeciderSpec file (relative to the config file). Re-read on reload; with "
        "workflow_type_name set, a new spec that would decide an open run otherwise than its "
        "history shows is refused.",
        reloadable=True,
    ),
    Setting(
        "decider",
        "specs",
        PathTable(key_help="workflow type versions (1 to 64 characters)"),
        (),
        "Serve several versions of workflow_type_name side by side: a table of SWF workflow "
        'type version to JSON DeciderSpec file, e.g. { v1 = "order-v1.json", v2 = '
        '"order-v2.json" } (relative to the config file). Each version is registered and each '
        "run decided by the spec of the version it was started with; instead of spec_file, "
        "spec_object and workflow_type_version. Re-read on reload: a version whose new spec "
        "would decide an open run otherwise than its history shows keeps its old spec.",
        reloadable=True,
    ),
    Setting(
        "decider",
        "spec_object",
        Text(
            max_length=512,
            pattern=_MODULE + ":" + _MODULE,
            pattern_help='"" or "module:attribute"',
        ),
        "",
        'A Python "module:attribute" that is a DeciderSpec.',
    ),
    Setting(
        "decider",
        "dynamic",
        Boolean(),
        False,
        "Run a dynamic decider: each execution carries its tasks in its input.",
    ),
    Setting(
        "decider",
        "default_activity_task_list",
        Text(),
        "",
        "Dynamic deciders only: the task list of activities that name none.",
    ),
    Setting(
        "decider",
        "workflow_type_name",
        Text(),
        "",
        'Workflow type registered at start (idempotent), with task_list as its default; "" '
        "registers none.",
    ),
    Setting(
        "decider",
        "workflow_type_version",
        Text(allow_empty=False, max_length=64),
        "v1",
        "Version of workflow_type_name (the one version of spec_file, spec_object or dynamic; "
        "with specs, the table's keys are the versions).",
    ),
    Setting(
        "decider",
        "history_cache_events",
        Integer(0, 10_000_000),
        10_000,
        "History events kept in memory (about 2 KB each), with the replay state of their "
        "runs, so that a decision task fetches and replays only the events new to this "
        "decider; 0 keeps nothing and reads every history whole.",
    ),
    Setting(
        "decider",
        "decision_timeout_seconds",
        _DECISION_TIMEOUT,
        _DECISION_TIMEOUT_DEFAULT,
        _DECISION_TIMEOUT_HELP,
    ),
    Setting("decider", "sticky", Boolean(), True, _STICKY_HELP),
    Setting(
        "decider",
        "sticky_schedule_to_start_seconds",
        _STICKY_TIMEOUT,
        5,
        _STICKY_TIMEOUT_HELP,
    ),
    Setting("decider", "drain_timeout_seconds", _DRAIN, 90, _DRAIN_HELP, reloadable=True),
    *_allowlist_settings("decider"),
    *_code_settings("decider"),
    Setting("decider", "metrics_listen", Listen(), "", _METRICS_HELP),
    # [worker.NAME]
    Setting("worker", "task_list", Text(allow_empty=False), REQUIRED, "Activity task list."),
    Setting(
        "worker",
        "modules",
        TextList(item_pattern=_MODULE, item_help="Python module names", min_items=1),
        REQUIRED,
        "Modules imported at start; their activities are served.",
    ),
    Setting(
        "worker",
        "concurrency",
        Integer(1, 1000),
        10,
        "Activities run at the same time (and concurrent polls at most).",
    ),
    Setting(
        "worker",
        "heartbeat_seconds",
        Integer(0, 86_400),
        90,
        "Interval between heartbeats of a running activity; 0 sends only the first, which "
        "marks the task started.",
        reloadable=True,
    ),
    Setting(
        "worker",
        "executor",
        Text(choices=get_args(Executor)),
        "thread",
        "Where activities run: a thread pool or a process pool.",
    ),
    Setting(
        "worker",
        "register_activity_types",
        Boolean(),
        True,
        "Register the served activity types at start (idempotent), with task_list as their "
        "default task list and timeouts that suit heartbeat_seconds.",
    ),
    Setting("worker", "drain_timeout_seconds", _DRAIN, 300, _DRAIN_HELP, reloadable=True),
    *_code_settings("worker"),
    Setting("worker", "metrics_listen", Listen(), "", _METRICS_HELP),
    # [daemon.NAME]
    Setting(
        "daemon",
        "task_list",
        Text(allow_empty=False),
        "flotod_daemon",
        "Decision task list of the daemon workflow.",
    ),
    Setting(
        "daemon",
        "workflow_id",
        Text(allow_empty=False),
        "flotod_daemon",
        "Workflow id of the long-running daemon execution.",
    ),
    Setting(
        "daemon",
        "max_children",
        Integer(1, 1000),
        100,
        "Child workflows open at once (SWF allows 1000 per execution).",
        reloadable=True,
    ),
    Setting(
        "daemon",
        "continue_after_events",
        Integer(100, 20_000),
        5000,
        "The daemon workflow continues as new once its history holds this many events, "
        "carrying waiting signals and running children (SWF's hard limit is 25,000).",
        reloadable=True,
    ),
    Setting(
        "daemon",
        "child_execution_timeout_seconds",
        Integer(60, 365 * 86_400),
        7 * 86_400,
        "executionStartToCloseTimeout of each child workflow the daemon starts.",
        reloadable=True,
    ),
    Setting(
        "daemon",
        "decision_timeout_seconds",
        _DECISION_TIMEOUT,
        _DECISION_TIMEOUT_DEFAULT,
        _DECISION_TIMEOUT_HELP,
    ),
    Setting("daemon", "sticky", Boolean(), True, _STICKY_HELP),
    Setting(
        "daemon",
        "sticky_schedule_to_start_seconds",
        _STICKY_TIMEOUT,
        5,
        _STICKY_TIMEOUT_HELP,
    ),
    Setting("daemon", "drain_timeout_seconds", _DRAIN, 90, _DRAIN_HELP, reloadable=True),
    *_allowlist_settings("daemon"),
    Setting(
        "daemon",
        "allowed_child_workflow_ids",
        TextList(item_pattern=_NAME_PATTERN, item_help="workflow id patterns"),
        ("*",),
        "A request may name its child's workflow_id only if it matches one of these patterns "
        "(ids the daemon makes itself are always allowed). The child always runs the daemon's "
        "own child type on its task list, so an id grants no rights; it can only take a "
        'name in the domain first. "*" (the default) lets senders pick any; narrow it (e.g. '
        '["jobs-*"]) when other workflows in the domain rely on their ids being free.',
        reloadable=True,
    ),
    Setting("daemon", "metrics_listen", Listen(), "", _METRICS_HELP),
)


def settings_of(section: str) -> dict[str, Setting]:
    """The declarations of one section, by key name, in declaration order."""
    return {s.name: s for s in SETTINGS if s.section == section}


def sections() -> Sequence[str]:
    return (*SHARED_SECTIONS, *KINDS)
