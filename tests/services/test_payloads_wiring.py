"""A service process builds its payload codec from [payloads] at start (the decider, worker and
daemon code that uses it reads ``proc.payloads``)."""

from __future__ import annotations

import boto3
import botocore.config
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
    # The site's endpoint has no such bucket: said at start, not at the first large value.
    [warning] = [r for r in service.records() if r["event"] == "payloads.bucket_unreachable"]
    assert "'svc-payloads' does not exist" in warning["problem"]
    assert service.stop() == 0


def test_a_reachable_bucket_gives_no_warning(site: Site) -> None:
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=site.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="svc-present")
    path = site.config("daemon")
    with path.open("a") as toml:
        toml.write('[payloads]\ns3_bucket = "svc-present"\n')
    service = site.start("daemon", path)
    service.wait_for("service.ready")
    assert not [r for r in service.records() if r["event"] == "payloads.bucket_unreachable"]
    assert service.stop() == 0


def test_without_a_bucket_payloads_are_off(site: Site) -> None:
    service = site.start("daemon", site.config("daemon"))
    assert service.wait_for("service.starting")["payloads"] == "off"
    service.wait_for("service.ready")
    assert service.stop() == 0
