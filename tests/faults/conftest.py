"""Fixtures of the fault tests: each test gets its own ``flotod local-swf`` process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FaultSite, LocalSwf

MakeSite = Callable[..., FaultSite]


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[MakeSite]:
    """``make_site(throttling=0.2, decision_failures=0.3)``: a fresh endpoint process and a
    site (domain) on it."""
    endpoints: list[LocalSwf] = []
    sites: list[FaultSite] = []

    def make(
        throttling: float = 0.0, poll_timeout: float = 1.0, decision_failures: float = 0.0
    ) -> FaultSite:
        log = tmp_path / f"local-swf-{len(endpoints)}.log"
        endpoint = LocalSwf(log, poll_timeout, throttling, decision_failures)
        endpoints.append(endpoint)
        site = FaultSite(endpoint, tmp_path)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()
    for endpoint in endpoints:
        endpoint.close()
