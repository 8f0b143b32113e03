"""--print-config output and the Markdown reference, both driven by the declarations."""

from __future__ import annotations

import tomllib
from pathlib import Path

from flotod.config import SETTINGS, load_config, print_config, reference_markdown
from flotod.config.settings import MASK

from .conftest import Write


def test_print_config_is_loadable_toml_with_secrets_masked(write: Write, confdir: Path) -> None:
    write(
        "flotod.toml",
        '[swf]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "wJalrXUtnFEMI"\n'
        '[logging]\nlevel = "debug"\n',
    )
    write("daemon.toml", '[daemon.main]\nmax_children = 12\nworkflow_id = "with \\"quotes\\""\n')
    config = load_config(confdir, "daemon")
    text = print_config(config)
    assert "wJalrXUtnFEMI" not in text
    assert f'secret_access_key = "{MASK}"' in text
    assert 'access_key_id = "AKIAEXAMPLE"' in text
    parsed = tomllib.loads(text)
    assert parsed["logging"] == {"level": "debug", "format": "auto"}
    assert parsed["daemon"]["main"] == {
        "task_list": "flotod_daemon",
        "workflow_id": 'with "quotes"',
        "max_children": 12,
        "continue_after_events": 5000,
        "child_execution_timeout_seconds": 604800,
        "decision_timeout_seconds": 10,
        "drain_timeout_seconds": 90,
    }
    # Every declared shared setting is shown, defaults included.
    assert set(parsed["swf"]) == {s.name for s in SETTINGS if s.section == "swf"}
    # Written back (secret restored), it loads into the same config.
    again = confdir.parent / "again.toml"
    again.write_text(text.replace(MASK, "wJalrXUtnFEMI"))
    reloaded = load_config(again, "daemon")
    assert (reloaded.swf, reloaded.logging, reloaded.process) == (
        config.swf,
        config.logging,
        config.process,
    )


def test_print_config_keeps_empty_secret_visible_and_lists_modules(
    write: Write, modules_dir: Path
) -> None:
    (modules_dir / "cfgtest_p1.py").write_text("")
    path = write("w.toml", '[worker."video.hd"]\ntask_list = "t"\nmodules = ["cfgtest_p1"]\n')
    text = print_config(load_config(path, "worker"))
    assert 'secret_access_key = ""' in text
    parsed = tomllib.loads(text)
    assert parsed["worker"]["video.hd"]["modules"] == ["cfgtest_p1"]
    assert text.startswith("# effective configuration of flotod worker.video.hd, read from ")


def test_reference_lists_every_setting_once_with_reload_and_secret() -> None:
    text = reference_markdown()
    for setting in SETTINGS:
        assert text.count(f"| `{setting.name}` |") >= 1
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(SETTINGS)
    heartbeat = next(r for r in rows if r.startswith("| `heartbeat_seconds` |"))
    assert "an integer from 0 to 86400" in heartbeat
    assert "| `90` | yes |" in heartbeat
    secret = next(r for r in rows if r.startswith("| `secret_access_key` |"))
    assert "Secret." in secret
    task_list = next(r for r in rows if r.startswith("| `task_list` |"))
    assert "| required | no |" in task_list


def test_python_m_flotod_config_prints_the_reference() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "flotod.config"], capture_output=True, text=True, check=True
    )
    assert done.stdout == reference_markdown()
