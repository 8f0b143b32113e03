"""repeat_workflow through real processes: each run's result in a flotod.result marker, shown by
`flotod workflow show`, and a decider with terminate_decider_after_completion serving on."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from flotod.cli.main import main
from flotod.specs import ActivityTask, DeciderSpec
from tests.services.conftest import Site, eventually

pytestmark = pytest.mark.slow


def repeating_spec(domain: str) -> DeciderSpec:
    return DeciderSpec(
        domain=domain,
        task_list="rep_dt",
        default_activity_task_list="rep_at",
        activity_tasks=[ActivityTask("ActivityA", "v1", activity_id="a")],
        repeat_workflow=True,
        terminate_decider_after_completion=True,
    )


def test_a_repeating_workflow_keeps_its_decider_and_records_each_result(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.start("worker", site.config("worker", task_list="rep_at", modules=["tests.services.acts"]))
    decider_config = site.config(
        "decider",
        task_list="rep_dt",
        spec_file=str(site.spec_file(repeating_spec(site.domain))),
        workflow_type_name="repwf",
    )
    decider = site.start("decider", decider_config)
    decider.wait_for("service.ready")
    workflow_id = f"rep-{uuid.uuid4().hex[:6]}"
    first = site.start_workflow("repwf", workflow_id)

    def runs() -> list[dict[str, Any]]:
        return list(
            site.client.list_closed_workflow_executions(
                domain=site.domain,
                startTimeFilter={"oldestDate": 0},
                executionFilter={"workflowId": workflow_id},
            )["executionInfos"]
        )

    # The decider serves the second run (and more) rather than stopping after the first.
    eventually(lambda: len(runs()) >= 3, timeout=60, what="three continued runs")
    assert decider.proc.poll() is None, decider.log_path.read_text()[-3000:]
    markers = [
        e["markerRecordedEventAttributes"]
        for e in site.history(workflow_id, first)
        if e["eventType"] == "MarkerRecorded"
    ]
    assert [m["markerName"] for m in markers] == ["flotod.result"]
    assert json.loads(markers[0]["details"]) == {"a": {"a": "result_a"}}

    assert main(["workflow", "show", workflow_id, "--config", str(decider_config)]) == 0
    out = capsys.readouterr().out
    assert "result_a" in out
    counted = re.search(r"^runs +(\d+)", out, re.M)
    assert counted is not None and int(counted.group(1)) >= 3, out
    assert re.search(r"^last result .*result_a", out, re.M), out
