"""Every example runs to its expected outcome on the embedded SWF with the real worker.

All examples run side by side on one worker per activity task list, as the demo and a
production host would serve them, which also proves their activity names do not collide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flotod.examples import DOMAIN, catalog, hello, week_days
from flotod.examples.catalog import EXAMPLES
from flotod.localswf import in_process_s3_client
from flotod.localswf.backend import LocalSWFBackend
from flotod.payloads import Payloads
from flotod.specs import load_decider_spec
from flotod.swf import SwfClient
from flotod.swf.s3 import S3Store
from tests.examples.harness import ExampleRunner

ROOT = Path(__file__).resolve().parents[2]


def _mismatch(item: catalog.Example, outcome: Any) -> str | None:
    if item.expected_failure is not None:
        if outcome.status != "FAILED" or outcome.reason != item.expected_failure:
            return f"expected failure {item.expected_failure}, got {outcome}"
    elif outcome.status != "COMPLETED" or outcome.result != item.expected_result:
        return f"expected {item.expected_result!r}, got {outcome}"
    if outcome.seconds is None or outcome.seconds < item.min_seconds:
        return f"took {outcome.seconds} s, a correct run takes at least {item.min_seconds} s"
    return None


def test_every_example_gives_its_expected_outcome(
    swf_client: Any, swf_backend: LocalSWFBackend
) -> None:
    # large_result's values go through the embedded endpoint's S3, as in the demo.
    swf_backend.s3.create_bucket("flotod-examples")
    store = S3Store(in_process_s3_client(swf_backend))
    payloads = Payloads(store, bucket="flotod-examples", prefix="flotod/")
    runner = ExampleRunner(SwfClient.from_boto(swf_client), payloads)
    with runner.serving():
        outcomes = runner.run_all(EXAMPLES)
    assert set(outcomes) == {e.name for e in EXAMPLES}
    problems = {e.name: _mismatch(e, outcomes[e.name]) for e in EXAMPLES}
    assert {k: v for k, v in problems.items() if v} == {}
    # The failing example carries the activity's last error, not just a reason.
    details = json.dumps(outcomes["retry_gives_up"].details)
    assert "attempt 3 fails" in details


def test_registration_is_idempotent(swf_client: Any) -> None:
    swf = SwfClient.from_boto(swf_client)
    first_runner = ExampleRunner(swf)
    again_runner = ExampleRunner(swf)
    first, again = first_runner.registration, again_runner.registration
    assert first_runner.domain_created and not again_runner.domain_created
    assert [s for s in again if s.created] == []
    assert {s.type.label for s in again} == {s.type.label for s in first if s.created}
    # Registering again finds exactly the defaults registered the first time.
    assert [s.differences for s in again if s.differences] == []
    names = {s.type.name for s in first if s.created and s.type.kind == "activity"}
    assert {"hello", "ActivityC", "weekDays", "copyFile", "fileLength", "Flaky"} <= names


def test_hello_spec_is_the_shipped_json() -> None:
    shipped = load_decider_spec((ROOT / "etc" / "examples" / "hello.json").read_bytes())
    # The sample names no domain: it runs in the domain of the config that serves it.
    assert shipped.domain is None
    shipped.domain = DOMAIN
    assert shipped == hello.SPEC
    assert load_decider_spec(hello.SPEC.to_json()) == hello.SPEC


def test_every_spec_survives_its_json_form() -> None:
    for decider in catalog.DECIDERS:
        spec = decider.spec()
        assert load_decider_spec(spec.to_json()) == spec, decider.name


def test_activities_stay_plain_functions() -> None:
    assert hello.hello({"activity_task": {"name": "flotod"}}) == "Hello, flotod!"
    tasks = week_days.week_days({"workflow": week_days.INPUT})
    assert [t.id_ for t in tasks][::2] == [
        "copyFile:2024-03-01",
        "copyFile:2024-03-04",
        "copyFile:2024-03-05",
    ]
