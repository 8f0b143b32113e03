"""A service warns at start when a file holding a secret is readable by every user."""

from __future__ import annotations

import pytest

from tests.services.conftest import Site

pytestmark = pytest.mark.slow


def test_a_world_readable_config_with_a_secret_is_warned_about(site: Site) -> None:
    path = site.config("daemon")  # it sets secret_access_key
    path.chmod(0o644)
    daemon = site.start("daemon", path)
    record = daemon.wait_for("config.secret_readable")
    assert str(path) in record["problem"]
    assert record["level"] == "warning"
    assert daemon.stop() == 0


def test_no_warning_when_the_file_is_private(site: Site) -> None:
    path = site.config("daemon")
    path.chmod(0o600)
    daemon = site.start("daemon", path)
    daemon.wait_for("service.ready")
    assert daemon.stop() == 0
    assert "config.secret_readable" not in daemon.events()
