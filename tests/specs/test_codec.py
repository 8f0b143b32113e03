"""The JSON form: exact round trips, floto's documents, and the type allowlist."""

from __future__ import annotations

import json

import pytest

from flotod.errors import SpecError
from flotod.specs import (
    ActivityTask,
    ChildWorkflow,
    DeciderSpec,
    ExponentialRetry,
    Generator,
    InstantRetry,
    Timer,
    dumps,
    task_from_dict,
    tasks_from_list,
)

FLOTO_README_JSON = """
{
    "activity_tasks": [
        {
            "id_": "simple_activity:v1:2be88ca424",
            "name": "simple_activity",
            "type": "floto.specs.task.ActivityTask",
            "version": "v1"
        }
    ],
    "default_activity_task_list": "hello_world_atl",
    "domain": "floto_test",
    "repeat_workflow": false,
    "task_list": "simple_decider",
    "terminate_decider_after_completion": true,
    "type": "floto.specs.DeciderSpec"
}
"""


def full_spec() -> DeciderSpec:
    a = ActivityTask("A", "v1", input={"path": "s3://x"}, task_list="tl-a")
    b = ActivityTask("B", "v1", retry_strategy=InstantRetry(3))
    t = Timer("T30", 30, requires=[a])
    c = ChildWorkflow(
        "child",
        "1",
        requires=[t, b],
        input=[1, "\u00e9", None],
        retry_strategy=ExponentialRetry(4, 5, backoff_coefficient=3.0, jitter=0.25),
        task_list="child-tl",
    )
    g = Generator("weekDays", "1", requires=[c], input=0)
    return DeciderSpec(
        "dom",
        task_list="deciders",
        activity_tasks=[a, b, t, c, g],
        default_activity_task_list="acts",
        repeat_workflow=True,
        terminate_decider_after_completion=True,
    )


def test_round_trip_is_exact() -> None:
    spec = full_spec()
    text = spec.to_json()
    again = DeciderSpec.from_json(text)
    assert again == spec
    assert again.to_json() == text
    assert DeciderSpec.from_json(again.to_json().encode()).to_json() == text


def test_json_names_flotod_types() -> None:
    data = json.loads(full_spec().to_json())
    assert data["type"] == "flotod.specs.DeciderSpec"
    assert [t["type"] for t in data["activity_tasks"]] == [
        "flotod.specs.ActivityTask",
        "flotod.specs.ActivityTask",
        "flotod.specs.Timer",
        "flotod.specs.ChildWorkflow",
        "flotod.specs.Generator",
    ]
    assert data["activity_tasks"][1]["retry_strategy"] == {
        "type": "flotod.specs.InstantRetry",
        "retries": 3,
    }


def test_falsy_inputs_survive_the_round_trip() -> None:
    values: list[object] = [0, "", [], {}, False]
    for value in values:
        task = task_from_dict(json.loads(dumps(ActivityTask("A", "1", input=value))))
        assert isinstance(task, ActivityTask)
        assert task.input == value


def test_reads_floto_readme_json() -> None:
    spec = DeciderSpec.from_json(FLOTO_README_JSON)
    assert spec.domain == "floto_test"
    assert spec.task_list == "simple_decider"
    assert spec.terminate_decider_after_completion is True
    (task,) = spec.activity_tasks
    assert isinstance(task, ActivityTask)
    assert task.id_ == "simple_activity:v1:2be88ca424"


def test_reads_floto_requirements_retry_and_other_types() -> None:
    floto_tasks = [
        {
            "type": "floto.specs.task.ActivityTask",
            "id_": "a",
            "name": "A",
            "version": "1",
            "domain": "floto_test",
            "retry_strategy": {"type": "floto.specs.retry_strategy.InstantRetry", "retries": 2},
        },
        {"type": "floto.specs.task.Timer", "id_": "t", "delay_in_seconds": 3, "requires": ["a"]},
        {
            "type": "floto.specs.task.ChildWorkflow",
            "id_": "c",
            "workflow_type_name": "w",
            "workflow_type_version": "1",
            "requires": [{"id_": "t", "type": "floto.specs.task.Timer"}],
        },
        {"type": "floto.specs.task.Generator", "id_": "g", "name": "G", "version": "1"},
    ]
    a, t, c, g = tasks_from_list(floto_tasks)
    assert isinstance(a, ActivityTask) and a.retry_strategy == InstantRetry(2)
    assert isinstance(t, Timer) and t.requires == ("a",)
    assert isinstance(c, ChildWorkflow) and c.requires == ("t",) and c.workflow_id == "c"
    assert isinstance(g, Generator)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "decider spec is not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"type": "os.system", "domain": "d"}', "unknown spec type 'os.system'"),
        (
            '{"domain": "d", "activity_tasks": [{"type": "subprocess.Popen", "args": "ls"}]}',
            r"activity_tasks\[0\]: unknown task type 'subprocess.Popen'",
        ),
        (
            '{"domain": "d", "activity_tasks": [{"name": "A", "version": "1"}]}',
            r"activity_tasks\[0\]: has no 'type'",
        ),
        (
            '{"domain": "d", "activity_tasks": [{"type": "ActivityTask", "name": "A",'
            ' "version": "1", "retry_strategy": {"type": "builtins.eval"}}]}',
            r"activity_tasks\[0\].retry_strategy: unknown retry strategy type 'builtins.eval'",
        ),
        (
            '{"domain": "d", "activity_tasks": [{"type": "Timer", "id_": "t",'
            ' "delay_in_seconds": 1, "colour": "red"}]}',
            r"activity_tasks\[0\] \(Timer\): unknown field 'colour'",
        ),
        (
            '{"domain": "d", "activity_tasks": [{"type": "Timer", "id_": "t"}]}',
            r"activity_tasks\[0\] \(Timer\): missing field\(s\) 'delay_in_seconds'",
        ),
        (
            '{"domain": "d", "activity_tasks": [{"type": "Timer", "id_": "t",'
            ' "delay_in_seconds": 1, "requires": [{"x": 1}]}]}',
            r"requires\[0\] is not a task id",
        ),
        ('{"domain": "d", "activity_tasks": {}}', "expected a list of tasks"),
        ('{"domain": "d", "bogus": 1}', "unknown field 'bogus'"),
        ('{"domain": "d", "repeat_workflow": "yes"}', "repeat_workflow must be true or false"),
    ],
)
def test_bad_documents_get_a_clear_error(document: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        DeciderSpec.from_json(document)


def test_allowlist_never_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__
    imported: list[str] = []

    def spy(name: str, *args: object, **kwargs: object) -> object:
        imported.append(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", spy)
    with pytest.raises(SpecError):
        DeciderSpec.from_json('{"domain": "d", "activity_tasks": [{"type": "antigravity.X"}]}')
    assert "antigravity" not in imported


def test_floto_readme_flag_alias() -> None:
    spec = DeciderSpec.from_json('{"domain": "d", "terminate_workflow_after_completion": true}')
    assert spec.terminate_decider_after_completion is True


@pytest.mark.parametrize("text", ["[" * 3000, '{"type": "flotod.specs.DeciderSpec", "x": ' * 2000])
def test_deeply_nested_spec_json_is_a_spec_error(text: str) -> None:
    """json.loads raised RecursionError here, past every SpecError handler."""
    with pytest.raises(SpecError, match="nested deeper than"):
        DeciderSpec.from_json(text)
