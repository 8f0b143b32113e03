"""A service process builds its payload codec from [payloads] at start (the decider, worker and
daemon code that uses it reads ``proc.payloads``)."""

from __future__ import annotations

import pytest

from tests.services.conftest import Site

pytestmark = pytest.mark.slow


def test_a_daemon_started_with_payloads_says_where_they_go(site: Site) -> None:
    path = site.config("daemon")
    with path.open("a") as toml:
        toml.write('[payloads]\ns3_bucket = "svc-payloads"\ns3_prefix = "big/"\n')
    service = site.start("daemon", path)
    record = service.wait_for("service.starting")
    assert record["payloads"] == "s3://svc-payloads/big/"
    service.wait_for("service.ready")
    assert service.stop() == 0


def test_without_a_bucket_payloads_are_off(site: Site) -> None:
    service = site.start("daemon", site.config("daemon"))
    assert service.wait_for("service.starting")["payloads"] == "off"
    service.wait_for("service.ready")
    assert service.stop() == 0
