"""A service's SWF connection pool fits its concurrency: no poll or report waits for a
connection another one holds (botocore blocks, then drops, past max_pool_connections)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flotod.config import load_config
from flotod.services.process import make_client


@pytest.mark.parametrize("concurrency", [1, 10, 1000])
def test_the_worker_pool_has_room_for_every_lane_and_report(
    tmp_path: Path, concurrency: int
) -> None:
    path = tmp_path / "flotod.toml"
    path.write_text(
        '[swf]\nendpoint_url = "http://127.0.0.1:9"\naccess_key_id = "x"\n'
        'secret_access_key = "y"\n'
        f'[worker.w]\ntask_list = "t"\nmodules = ["json"]\nconcurrency = {concurrency}\n'
    )
    client = make_client(load_config(path, "worker"))
    pool = client._client.meta.config.max_pool_connections
    # A poll per lane, a report per lane, and heartbeats beside them.
    assert pool >= 2 * concurrency + 1, pool
