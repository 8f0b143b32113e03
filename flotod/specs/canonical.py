"""Canonical JSON and stable hashes, so that ids and jitter agree across processes and Pythons."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialize with sorted keys, no whitespace and ASCII only: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def stable_hash(*parts: str, length: int = 10) -> str:
    """A hex digest of ``parts`` that never depends on ``PYTHONHASHSEED`` or the platform."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) derived from ``parts``: deterministic "randomness" for the decider."""
    return int(stable_hash(*parts, length=13), 16) / float(16**13)
