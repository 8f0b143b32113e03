"""SizedLRU: the size-bounded map both of the decider's per-run caches are built on."""

from __future__ import annotations

import pytest

from flotod.lru import SizedLRU


def test_the_least_recently_put_goes_first_when_sizes_exceed_the_budget() -> None:
    lru: SizedLRU[str] = SizedLRU(10)
    lru.put("a", "A", 4)
    lru.put("b", "B", 4)
    lru.put("a", "A2", 5)  # replaces a, which becomes the most recent
    assert (lru.size, len(lru)) == (9, 2)
    lru.put("c", "C", 3)  # 12 > 10: b goes, a stays
    assert lru.get("b") is None and lru.get("a") == ("A2", 5) and lru.size == 8
    assert lru.pop("a") == ("A2", 5) and lru.size == 3
    assert lru.pop("a") is None


def test_a_value_larger_than_the_budget_is_not_held_and_evicts_nothing() -> None:
    lru: SizedLRU[str] = SizedLRU(5)
    lru.put("small", "s", 2)
    lru.put("huge", "h", 6)
    assert lru.get("huge") is None and lru.get("small") == ("s", 2)
    with pytest.raises(ValueError, match="at least 1"):
        SizedLRU(0)
