"""Names flotod makes up for SWF, kept within SWF's rules for them."""

from __future__ import annotations

import hashlib

MAX_TASK_LIST = 256
_FORBIDDEN = frozenset(":/|")


def _allowed(char: str) -> bool:
    code = ord(char)
    return char not in _FORBIDDEN and code > 0x1F and not 0x7F <= code <= 0x9F


def sticky_task_list(task_list: str, identity: str) -> str:
    """The decision task list of one decider process: ``<task_list>-sticky-<identity>``.

    SWF's rule for a task list's name (1 to 256 characters, no ``:``, ``/``, ``|`` or control
    character, no leading or trailing whitespace, not ``arn``) holds for any input: a
    forbidden character becomes ``-``, and a name that would be too long keeps its head and
    ends with a hash of the whole, so two identities never collapse into one list.
    """
    raw = f"{task_list}-sticky-{identity}"
    name = "".join(char if _allowed(char) else "-" for char in raw).strip() or "sticky"
    if len(name) > MAX_TASK_LIST:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
        name = name[: MAX_TASK_LIST - len(digest) - 1].rstrip() + "-" + digest
    return name
