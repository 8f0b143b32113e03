"""Consistency of what the package ships: units, sample configs, spec, man pages, install lists.

These run in the default suite (they take milliseconds); the booted-systemd checks are in
run.sh. Each test guards an agreement between files that nothing else would catch until an
operator hits it: a sample config the services reject, a stop timeout shorter than the drain,
a man page a unit points at but the package does not ship.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from flotod.specs import load_decider_spec

REPO = Path(__file__).resolve().parents[2]
ETC = REPO / "etc"
UNITS = REPO / "systemd"
DEBIAN = REPO / "packaging" / "debian"
SERVICES = ("flotod-decider@.service", "flotod-worker@.service", "flotod-daemon.service")
KIND_OF = {"flotod-decider@.service": "decider", "flotod-worker@.service": "worker"}
KIND_OF["flotod-daemon.service"] = "daemon"
LONG_POLL_SECONDS = 70


def unit_settings(path: Path) -> dict[str, list[str]]:
    """systemd's format allows repeated keys, so values are lists (configparser would refuse)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key}", []).append(value)
    return out


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)s?", value)
    assert match, f"not a plain seconds value: {value!r}"
    return int(match.group(1))


def merged_samples() -> dict[str, dict[str, object]]:
    merged: dict[str, dict[str, object]] = {}
    for path in sorted(ETC.glob("*.toml")):
        for table, body in tomllib.loads(path.read_text()).items():
            assert isinstance(body, dict)
            into = merged.setdefault(table, {})
            clash = set(into) & set(body)
            assert not clash, f"{path.name} sets {clash} again in [{table}]"
            into.update(body)
    return merged


def test_sample_configs_agree_with_the_sample_spec() -> None:
    conf = merged_samples()
    spec = load_decider_spec((ETC / "specs" / "hello.json").read_text())
    decider = conf["decider"]["hello"]
    worker = conf["worker"]["hello"]
    assert isinstance(decider, dict) and isinstance(worker, dict)
    assert decider["spec_file"] == "/etc/flotod/specs/hello.json"
    assert spec.domain == conf["swf"]["domain"]
    assert spec.task_list == decider["task_list"]
    assert spec.default_activity_task_list == worker["task_list"]
    assert set(conf) == {"swf", "logging", "decider", "worker", "daemon"}


@pytest.mark.parametrize("unit", SERVICES)
def test_service_units_keep_the_lifecycle_contract(unit: str) -> None:
    s = unit_settings(UNITS / unit)
    assert s["Service.Type"] == ["notify"]
    assert s["Service.NotifyAccess"] == ["main"]
    assert s["Service.RestartPreventExitStatus"] == ["78"]
    assert s["Service.KillMode"] == ["mixed"]
    assert s["Service.User"] == ["flotod"]
    assert s["Unit.PartOf"] == ["flotod.target"]
    assert s["Install.WantedBy"] == ["flotod.target"]
    assert seconds(s["Service.WatchdogSec"][0]) > LONG_POLL_SECONDS
    # A missing credential file must not fail the unit: SetCredential= is the fallback.
    assert s["Service.LoadCredential"] == ["aws:/etc/flotod/aws-credentials"]
    assert any(v.startswith("aws:") for v in s["Service.SetCredential"])
    exec_start = s["Service.ExecStart"][0].split()
    assert exec_start[0] == "/usr/bin/" + unit.split("@", maxsplit=1)[0].split(".", maxsplit=1)[0]
    assert ("--instance" in exec_start) == ("@" in unit)


@pytest.mark.parametrize("unit", SERVICES)
def test_stop_timeout_outlasts_a_long_poll_plus_the_sample_drain(unit: str) -> None:
    instances = merged_samples()[KIND_OF[unit]]
    drains = [body["drain_timeout_seconds"] for body in instances.values()]  # type: ignore[index]
    timeout = seconds(unit_settings(UNITS / unit)["Service.TimeoutStopSec"][0])
    assert timeout > LONG_POLL_SECONDS + max(drains)


def test_package_installs_every_unit_config_and_man_page() -> None:
    installed = {line.split()[0] for line in (DEBIAN / "flotod.install").read_text().splitlines()}
    shipped = {str(p.relative_to(REPO)) for d in (UNITS, ETC) for p in d.rglob("*") if p.is_file()}
    assert installed == shipped | {"packaging/completion/flotod"}
    manpages = set((DEBIAN / "flotod.manpages").read_text().split())
    assert manpages == {str(p.relative_to(REPO)) for p in (REPO / "man").iterdir()}
    for unit in UNITS.iterdir():
        for ref in unit_settings(unit)["Unit.Documentation"][0].split():
            name, section = re.fullmatch(r"man:(.+)\((\d)\)", ref).groups()  # type: ignore[union-attr]
            assert f"man/{name}.{section}" in manpages, f"{unit.name} points at missing {ref}"


def test_man_pages_are_installed_where_their_headers_say() -> None:
    """dh_installman files a page by its .TH section; a page's name and section must agree with
    its file name, or man (and lintian) find it under the wrong name."""
    for listed in (DEBIAN / "flotod.manpages").read_text().split():
        path = REPO / listed
        name, _, section = path.name.rpartition(".")
        th = path.read_text().splitlines()[0].split()
        assert th[0] == ".TH", f"{listed} does not start with .TH"
        assert th[1].replace("\\-", "-") == name.upper(), f"{listed}: .TH names {th[1]}"
        assert th[2] == section, f"{listed}: .TH section {th[2]}, file section {section}"


def test_package_ships_a_man_page_for_every_flotod_command() -> None:
    from flotod.cli.main import COMMANDS

    manpages = set((DEBIAN / "flotod.manpages").read_text().split())
    for name, *_ in COMMANDS:
        assert f"man/flotod-{name}.1" in manpages, f"flotod {name} has no packaged man page"


def test_package_version_matches_the_project_version() -> None:
    first = (DEBIAN / "changelog").read_text().splitlines()[0]
    deb_version = re.search(r"\(([^)]+)\)", first).group(1)  # type: ignore[union-attr]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert re.split(r"[-+~]", deb_version)[0] == project


@pytest.mark.skipif(
    not (REPO / "flotod" / "cli" / "services.py").exists(),
    reason="flotod/cli/services.py has not landed: --check-config cannot run yet",
)
@pytest.mark.parametrize("command", ["flotod-decider", "flotod-worker", "flotod-daemon"])
def test_sample_configs_pass_check_config(command: str, tmp_path: Path) -> None:
    """The shipped samples are valid as installed (spec path rewritten to this checkout)."""
    conf = tmp_path / "flotod"
    (conf / "specs").mkdir(parents=True)
    for path in ETC.glob("*.toml"):
        text = path.read_text().replace("/etc/flotod/specs/", f"{conf}/specs/")
        (conf / path.name).write_text(text)
    (conf / "specs" / "hello.json").write_text((ETC / "specs" / "hello.json").read_text())
    exe = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / command
    result = subprocess.run(
        [str(exe), "--config", str(conf), "--check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _etc_flotod_paths() -> tuple[set[str], set[str]]:
    """The files and directories the package installs under /etc/flotod (from flotod.install)."""
    files: set[str] = set()
    for line in (DEBIAN / "flotod.install").read_text().splitlines():
        source, dest = line.split()
        if dest == "etc/flotod" or dest.startswith("etc/flotod/"):
            files.add(f"/{dest}/{Path(source).name}")
    dirs = {"/etc/flotod"} | {str(Path(f).parent) for f in files}
    return files, dirs


def test_etc_flotod_ships_root_flotod_0640_and_0750() -> None:
    """Credentials may live in /etc/flotod: readable by the services' group, never by everyone.

    dpkg-statoverride (not a chmod in postinst) so that dpkg itself applies owner and mode
    when an upgrade unpacks a new version of a conffile; the rules drop the world bits in the
    .deb too, so nothing is world-readable even before the first configure."""
    files, dirs = _etc_flotod_paths()
    postinst = (DEBIAN / "flotod.postinst").read_text()
    overrides = {
        path: mode
        for mode, path in re.findall(r"^\s*override (\d{4}) (\S+)\s*$", postinst, re.MULTILINE)
    }
    assert overrides == dict.fromkeys(files, "0640") | dict.fromkeys(dirs, "0750")
    assert "dpkg-statoverride --update --add root flotod" in postinst
    # The overrides need the flotod group, which the sysusers snippet creates.
    assert postinst.index("#DEBHELPER#") < postinst.index("override 0750 /etc/flotod")
    postrm = (DEBIAN / "flotod.postrm").read_text()
    assert "dpkg-statoverride --remove" in postrm
    for path in files | dirs:
        assert path in postrm, f"purge leaves the statoverride of {path}"
    rules = (DEBIAN / "rules").read_text()
    assert "execute_after_dh_fixperms:" in rules
    assert "chmod 0750" in rules and "chmod 0640" in rules
