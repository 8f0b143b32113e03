"""``flotod replay`` through flotod's own main(): files, the config's decider, the embedded SWF.

Exit codes: 0 the spec agrees with the history, 1 it diverges (the first divergence printed),
2 a history or the spec cannot be read (one line naming it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from flotod.cli.main import main
from flotod.engine import decide
from flotod.engine.versions import VersionedHandler
from flotod.examples import hello
from flotod.specs import decider_spec_from_dict, load_decider_spec
from flotod.swf import SwfClient
from tests.cli.conftest import Site

# Fixtures: a site with its types registered, and one with the hello decider and worker running.
from tests.cli.test_workflow import registered, serving  # noqa: F401
from tests.conftest import endpoint_client

GOLDEN = Path(__file__).parents[1] / "engine" / "fixtures" / "a_b_then_c.json"


def flotod(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def golden(tmp_path: Path) -> dict[str, Path]:
    """The golden a_b_then_c history as `workflow history --json` prints it (a list), its
    spec, and the same spec with an input given to A."""
    fixture = json.loads(GOLDEN.read_text())
    paths = {
        "history": tmp_path / "history.json",
        "spec": tmp_path / "spec.json",
        "changed": tmp_path / "changed.json",
    }
    paths["history"].write_text(json.dumps(fixture["history"]))
    paths["spec"].write_text(json.dumps(fixture["spec"]))
    changed = fixture["spec"]
    for task in changed["activity_tasks"]:
        if task["id_"] == "A":
            task["input"] = {"k": 2}
    decider_spec_from_dict(changed)  # still a valid spec
    paths["changed"].write_text(json.dumps(changed))
    return paths


def test_a_history_file_that_agrees_exits_0_with_one_line(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = flotod(capsys, "replay", str(golden["history"]), "--spec", str(golden["spec"]))
    assert (code, err) == (0, "")
    assert out == f"{golden['history']}: 2 decision tasks agree\n"


def test_a_diverging_spec_exits_1_with_the_first_divergence(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = flotod(
        capsys, "replay", str(golden["history"]), "--spec", str(golden["changed"])
    )
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert (
        lines[0] == f"{golden['history']}: diverges at decision task 1 of 1 decision task checked"
    )
    assert (
        lines[1]
        == "decision task 1 (events 2 scheduled, 3 started, 4 completed) diverges at decision 1:"
    )
    assert "  input differs:" in lines
    assert (
        '    first difference at $.activity_task: nothing in the history, {"k": 2} in the spec'
        in lines
    )


def test_json_output_for_scripts(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = flotod(
        capsys, "replay", str(golden["history"]), "--spec", str(golden["spec"]), "--json"
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["agreed"] is True and doc["decision_tasks"] == 2 and doc["divergence"] is None
    assert doc["source"] == str(golden["history"])

    code, out, _ = flotod(
        capsys, "replay", str(golden["history"]), "--spec", str(golden["changed"]), "--json"
    )
    doc = json.loads(out)
    assert code == 1 and doc["agreed"] is False
    div = doc["divergence"]
    assert (div["task"], div["position"], div["ids"]) == (1, 1, ["A"])
    assert div["text"].startswith("decision task 1 (events 2 scheduled")
    assert div["differences"][0] == "input differs:"


def test_the_golden_fixture_object_form_is_read_with_its_workflow_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fixture = json.loads(GOLDEN.read_text())
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(fixture["spec"]))
    code, out, _ = flotod(capsys, "replay", str(GOLDEN), "--spec", str(spec))
    assert (code, out) == (0, f"{GOLDEN}: 2 decision tasks agree\n")
    saved = tmp_path / "saved.json"
    saved.write_text(
        json.dumps({"workflow_id": "wf-9", "run_id": "r", "events": fixture["history"]})
    )
    code, out, _ = flotod(capsys, "replay", str(saved), "--spec", str(spec), "--json")
    doc = json.loads(out)
    assert code == 0 and (doc["workflow_id"], doc["run_id"], doc["agreed"]) == ("wf-9", "r", True)


def test_a_history_piped_on_standard_input(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(golden["history"].read_text()))
    code, out, _ = flotod(capsys, "replay", "-", "--spec", str(golden["spec"]))
    assert (code, out) == (0, "-: 2 decision tasks agree\n")


def test_several_files_are_each_reported_then_counted(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What CI runs: every saved history against the new spec. One that cannot be read is
    reported and the others still replayed; a divergence decides the exit code."""
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    histories = [str(golden["history"]), str(GOLDEN)]
    code, out, _ = flotod(capsys, "replay", *histories, "--spec", str(golden["spec"]))
    assert code == 0
    assert out.splitlines() == [
        f"{golden['history']}: 2 decision tasks agree",
        f"{GOLDEN}: 2 decision tasks agree",
        "histories: 2 replayed, 2 agree, 0 diverge",
    ]
    code, out, _ = flotod(capsys, "replay", *histories, str(broken), "--spec", str(golden["spec"]))
    assert code == 2
    assert f"cannot be replayed: history {broken}: the history has no events" in out
    assert out.splitlines()[-1] == "histories: 3 replayed, 2 agree, 0 diverge, 1 cannot be replayed"
    code, out, _ = flotod(
        capsys, "replay", *histories, str(broken), "--spec", str(golden["changed"]), "--json"
    )
    doc = json.loads(out)
    assert code == 1 and doc["agreed"] is False
    assert [r["agreed"] for r in doc["runs"]] == [False, False, None]


@pytest.mark.parametrize(
    ("history", "spec", "message"),
    [
        ("{not json", None, "history.json is not JSON: "),
        ('{"no": "events"}', None, 'or an object with an "events" list'),
        (
            json.dumps([{"eventId": 1, "eventType": "DecisionTaskScheduled"}]),
            None,
            "starts with event 1 (DecisionTaskScheduled), not WorkflowExecutionStarted",
        ),
        (None, "{broken", "spec.json: decider spec is not valid JSON"),
        (None, '{"activity_tasks": 3}', "spec.json: "),
    ],
)
def test_what_cannot_be_read_exits_2_naming_it(
    golden: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    history: str | None,
    spec: str | None,
    message: str,
) -> None:
    history_path, spec_path = golden["history"], golden["spec"]
    if history is not None:
        history_path = tmp_path / "bad" / "history.json"
        history_path.parent.mkdir()
        history_path.write_text(history)
    if spec is not None:
        spec_path = tmp_path / "bad" / "spec.json"
        spec_path.parent.mkdir()
        spec_path.write_text(spec)
    code, out, err = flotod(capsys, "replay", str(history_path), "--spec", str(spec_path))
    assert (code, out) == (2, "")
    assert err.startswith("flotod replay: ") and err.count("\n") == 1
    assert message in err

    code, out, _ = flotod(capsys, "replay", str(history_path), "--spec", str(spec_path), "--json")
    assert code == 2 and message in json.loads(out)["error"]


def test_missing_files_and_bad_combinations_exit_2(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.json")
    code, _, err = flotod(capsys, "replay", missing, "--spec", str(golden["spec"]))
    assert code == 2 and f"cannot read history {missing}: No such file" in err
    code, _, err = flotod(capsys, "replay", str(golden["history"]), "--spec", missing)
    assert code == 2 and f"cannot read spec {missing}: No such file" in err
    code, _, err = flotod(capsys, "replay", "--spec", str(golden["spec"]))
    assert code == 2 and "exactly one of HISTORY.json, --workflow-id ID, --all-open" in err
    code, _, err = flotod(
        capsys, "replay", str(golden["history"]), "--run-id", "r", "--spec", str(golden["spec"])
    )
    assert code == 2 and "--run-id goes with --workflow-id" in err
    code, _, err = flotod(
        capsys, "replay", str(golden["history"]), "--config", str(tmp_path / "no-config")
    )
    assert code == 2 and err.startswith("flotod replay: spec from the config: ")


def test_swf_settings_that_cannot_be_read_exit_2(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "flotod.toml"
    config.write_text("[swf]\nendpoint_url = 5\n")
    code, _, err = flotod(
        capsys,
        "replay",
        "--workflow-id",
        "w",
        "--spec",
        str(golden["spec"]),
        "--config",
        str(config),
    )
    assert code == 2 and err.startswith("flotod replay: SWF settings from the config: ")
    assert "endpoint_url" in err and err.count("\n") == 1


# -- against the embedded SWF, with the config's decider ----------------------------------------


def _hello_spec(site: Site, name: str) -> str:
    """The site's hello spec, greeting ``name`` instead."""
    data = json.loads((site.config / "specs" / "hello.json").read_text())
    data["activity_tasks"][0]["input"] = {"name": name}
    return json.dumps(data)


def test_a_run_from_swf_replays_by_workflow_id_and_from_its_saved_history(
    serving: Site,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code, _, err = serving.run(capsys, "workflow", "start", "hello", "--id", "r1", "--wait")
    assert code == 0, err

    # The config's only decider, [decider.hello], decides.
    code, out, err = serving.run(capsys, "replay", "--workflow-id", "r1")
    assert code == 0, err
    assert out.startswith("r1 (run ") and out.endswith("): 2 decision tasks agree\n")
    code, out, _ = serving.run(capsys, "replay", "--workflow-id", "r1", "--instance", "hello")
    assert code == 0

    # What `workflow history --json` saved replays the same: the CI workflow.
    code, saved, _ = serving.run(capsys, "workflow", "history", "r1", "--json")
    history = tmp_path / "r1.json"
    history.write_text(saved)
    code, out, err = serving.run(capsys, "replay", str(history))
    assert (code, out) == (0, f"{history}: 2 decision tasks agree\n"), err

    changed = tmp_path / "moon.json"
    changed.write_text(_hello_spec(serving, "moon"))
    code, out, _ = serving.run(capsys, "replay", "--workflow-id", "r1", "--spec", str(changed))
    assert code == 1
    assert "diverges at decision task 1 of 1 decision task checked" in out
    assert '"name":"world"' in out and '"name":"moon"' in out

    code, _, err = serving.run(capsys, "replay", "--workflow-id", "nobody")
    assert code == 2 and "history of nobody from SWF: no execution with workflow id" in err


def _decide_once(site: Site, workflow_id: str) -> None:
    """One decision task of the run, decided by the hello spec: the run stays open with its
    activity scheduled and no worker to run it."""
    swf = SwfClient.from_boto(endpoint_client(site.endpoint))
    spec = load_decider_spec((site.config / "specs" / "hello.json").read_bytes())
    for _ in range(10):
        task = swf.poll_for_decision_task(site.domain, hello.TASK_LIST)
        if task is not None:
            assert task.workflow_execution.workflow_id == workflow_id
            decisions = decide(task.events, spec, workflow_id)
            swf.respond_decision_task_completed(task.task_token, decisions)
            return
    raise AssertionError("no decision task")


def test_all_open_replays_every_open_run_of_the_deciders_type(
    registered: Site,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    for workflow_id in ("open-1", "open-2"):
        code, _, err = registered.run(capsys, "workflow", "start", "hello", "--id", workflow_id)
        assert code == 0, err
        _decide_once(registered, workflow_id)

    code, out, err = registered.run(capsys, "replay", "--all-open")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(" ")[0] for line in lines[:2]] == ["open-1", "open-2"]
    assert all(line.endswith(": 1 decision task agree") for line in lines[:2])
    assert lines[2] == "open runs of hello:v1: 2 replayed, 2 agree, 0 diverge"

    doc: Any = registered.run_json(capsys, "replay", "--all-open")
    assert doc["agreed"] is True and doc["workflow_type"] == {"name": "hello", "version": "v1"}
    assert [r["workflow_id"] for r in doc["runs"]] == ["open-1", "open-2"]

    # The spec the config names changes under the runs: each of them diverges.
    spec_file = registered.config / "specs" / "hello.json"
    spec_file.write_text(_hello_spec(registered, "moon"))
    code, out, _ = registered.run(capsys, "replay", "--all-open")
    assert code == 1
    assert out.count("diverges at decision task 1") == 2
    assert out.splitlines()[-1] == "open runs of hello:v1: 2 replayed, 0 agree, 2 diverge"
    code, out, _ = registered.run(capsys, "replay", "--all-open", "--json")
    assert code == 1 and json.loads(out)["agreed"] is False


def test_all_open_needs_the_deciders_workflow_type(
    golden: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = flotod(capsys, "replay", "--all-open", "--spec", str(golden["spec"]))
    assert code == 2 and "--all-open needs the decider's workflow type" in err


def test_all_open_of_a_versioned_decider_replays_each_run_with_its_versions_spec(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    (site.config / "specs" / "hello-v2.json").write_text(_hello_spec(site, "moon"))
    services = site.config / "services.toml"
    services.write_text(
        services.read_text().replace(
            'spec_file = "specs/hello.json"\n',
            'specs = { v1 = "specs/hello.json", v2 = "specs/hello-v2.json" }\n',
        )
    )
    code, _, err = site.run(capsys, "register")  # registers hello:v1 and hello:v2
    assert code == 0, err
    swf = SwfClient.from_boto(endpoint_client(site.endpoint))
    handler = VersionedHandler(
        "hello",
        {
            "v1": load_decider_spec((site.config / "specs" / "hello.json").read_bytes()),
            "v2": load_decider_spec((site.config / "specs" / "hello-v2.json").read_bytes()),
        },
    )
    for workflow_id, version in (("open-v1", "v1"), ("open-v2", "v2")):
        code, _, err = site.run(
            capsys, "workflow", "start", f"hello:{version}", "--id", workflow_id
        )
        assert code == 0, err
        task = None
        for _ in range(10):
            task = swf.poll_for_decision_task(site.domain, hello.TASK_LIST)
            if task is not None:
                break
        assert task is not None and task.workflow_execution.workflow_id == workflow_id
        swf.respond_decision_task_completed(task.task_token, handler(task).decisions)

    code, out, err = site.run(capsys, "replay", "--all-open")
    assert code == 0, err
    assert out.splitlines()[-1] == "open runs of hello:v1, hello:v2: 2 replayed, 2 agree, 0 diverge"
    doc: Any = site.run_json(capsys, "replay", "--all-open")
    assert doc["workflow_types"] == [
        {"name": "hello", "version": "v1"},
        {"name": "hello", "version": "v2"},
    ]
