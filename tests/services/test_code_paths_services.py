"""Real decider and worker processes run an operator's code from python_path and a virtualenv.

The operator's package (a spec_object for the decider, an activity for the worker) lives in a
directory of its own; the activity needs a library that exists only in a virtualenv. Nothing
is on PYTHONPATH but flotod itself, as under the units.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.services.conftest import Site, result_of

pytestmark = pytest.mark.slow

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def operator_code(root: Path, domain: str) -> Path:
    """/opt/acme in miniature: code/ with the package, venv/ with its one dependency."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "lib" / PY / "site-packages" / "acmelib_cfgtest.py").write_text(
        "def shout(text: str) -> str:\n    return text.upper() + '!'\n"
    )
    package = root / "code" / "acme_cfgtest"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        textwrap.dedent(
            """
            import acmelib_cfgtest
            from flotod import activity

            @activity("acme_shout", "v1")
            def shout() -> str:
                return acmelib_cfgtest.shout("hello from the venv")
            """
        )
    )
    (package / "workflow.py").write_text(
        textwrap.dedent(
            f"""
            from flotod.specs import ActivityTask, DeciderSpec

            SPEC = DeciderSpec(
                domain={domain!r},
                task_list="acme_dt",
                default_activity_task_list="acme_acts",
                activity_tasks=[ActivityTask("acme_shout", "v1", activity_id="shout")],
            )
            """
        )
    )
    return root


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_operator_code_runs_from_python_path_and_virtualenv(site: Site, executor: str) -> None:
    root = operator_code(site.tmp / "acme", site.domain)
    worker = site.start(
        "worker",
        site.config(
            "worker",
            task_list="acme_acts",
            modules=["acme_cfgtest.tasks"],
            python_path=[str(root / "code")],
            virtualenv=str(root / "venv"),
            executor=executor,
        ),
    )
    decider = site.start(
        "decider",
        site.config(
            "decider",
            task_list="acme_dt",
            spec_object="acme_cfgtest.workflow:SPEC",
            python_path=[str(root / "code")],
        ),
    )
    site.register_workflow_type("acmewf", "acme_dt")
    decider.wait_for("service.ready")
    worker.wait_for("service.ready")

    run = site.start_workflow("acmewf", "wf-acme")

    assert result_of(site.wait_closed("wf-acme", run)) == {"shout": "HELLO FROM THE VENV!"}
