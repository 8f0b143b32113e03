"""Against an endpoint on a loopback address a service needs no credentials, like the CLI."""

from __future__ import annotations

import pytest

from tests.services.conftest import Site

pytestmark = pytest.mark.slow


def test_a_service_on_the_embedded_swf_starts_without_credentials(site: Site) -> None:
    path = site.config("daemon")
    lines = [line for line in path.read_text().splitlines() if "access_key" not in line]
    path.write_text("\n".join(lines) + "\n")
    daemon = site.start("daemon", path, env={"HOME": str(site.tmp)})  # no ~/.aws either
    daemon.wait_for("daemon.workflow_started")
    assert daemon.stop() == 0
    assert "swf.unreachable" not in daemon.events()
