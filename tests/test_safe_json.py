"""flotod.safe_json: untrusted JSON text never raises anything but ValueError."""

from __future__ import annotations

import json
import time

import pytest

from flotod.safe_json import MAX_DEPTH, NestingError, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text", ["[" * 3000, '{"a":' * 3000, nested(5000), "[" * 1_000_000])
def test_deep_documents_are_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels") as caught:
        loads(text)
    assert isinstance(caught.value, json.JSONDecodeError | NestingError)


def test_the_bound_is_exact_and_ordinary_json_passes() -> None:
    assert loads(nested(MAX_DEPTH)) is not None
    with pytest.raises(NestingError):
        loads(nested(MAX_DEPTH + 1))
    assert loads(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert loads('"[[[["') == "[[[["  # brackets inside strings are text
    assert loads(json.dumps(["[" * 500])) == ["[" * 500]
    with pytest.raises(ValueError):
        loads("{not json")


def test_a_megabyte_is_read_quickly() -> None:
    wide = json.dumps([[i, {"k": [i]}] for i in range(60_000)])
    assert len(wide) > 1_000_000
    began = time.monotonic()
    assert len(loads(wide)) == 60_000
    with pytest.raises(NestingError):
        loads("[" * 1_000_000)
    assert time.monotonic() - began < 5
