"""Man pages: the committed ones are what the parsers produce now, they format cleanly, and
every flag an operator can type is documented (service pages included, which are by hand)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flotod.cli.main import COMMANDS
from flotod.cli.manpage import (
    Notes,
    command_parsers,
    escape,
    page_name,
    render,
    render_all,
    write_pages,
)
from flotod.cli.services import build_parser as service_parser

REPO = Path(__file__).resolve().parents[2]
MAN = REPO / "man"
REGENERATE = ".venv/bin/python -m flotod.cli.manpage man"
GROFF = shutil.which("groff")
MAN_DB = shutil.which("man")


def formatter_warnings(page: Path) -> str:
    """What groff (and man-db, when installed) print as warnings while formatting the page."""
    out = ""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"}
    if GROFF:
        done = subprocess.run(
            [GROFF, "-man", "-ww", "-z", str(page)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        out += done.stderr
    if MAN_DB:
        done = subprocess.run(
            [MAN_DB, "--warnings", "-l", str(page)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        out += done.stderr
    return out


def plain_text(roff: str, tmp_path: Path) -> str:
    """The page as a reader sees it (ASCII, no overstriking), whitespace collapsed."""
    assert GROFF is not None
    path = tmp_path / "page.1"
    path.write_text(roff)
    done = subprocess.run(
        [GROFF, "-man", "-Tascii", "-P-cbou", "-rLL=400n", "-rHY=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def parser_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for flag in action.option_strings
    }


def walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += walk(sub)
    return found


# -- the committed pages --------------------------------------------------------------------


def test_committed_pages_are_current() -> None:
    for name, text in render_all().items():
        path = MAN / name
        assert path.exists(), f"man/{name} is missing: {REGENERATE}"
        assert path.read_text() == text, f"man/{name} is stale: {REGENERATE}"


def test_every_command_has_a_page_and_nothing_else_is_generated() -> None:
    assert set(render_all()) == {page_name(name) for name, *_ in COMMANDS}
    assert {"flotod-register.1", "flotod-workflow.1", "flotod-config.1"} <= set(render_all())


def test_write_pages_writes_what_render_all_renders(tmp_path: Path) -> None:
    written = write_pages(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(render_all())
    for path in written:
        assert path.read_text() == render_all()[path.name]


@pytest.mark.parametrize("command", [name for name, *_ in COMMANDS])
def test_every_flag_of_every_parser_is_on_its_page(command: str) -> None:
    parser = {name: p for name, _, p in command_parsers()}[command]
    page = (MAN / page_name(command)).read_text()
    for sub in walk(parser):
        for flag in parser_flags(sub):
            assert f"\\fB{escape(flag)}\\fR" in page, f"{flag} ({sub.prog}) is not documented"
        for action in sub._actions:
            if action.option_strings or isinstance(action, argparse._SubParsersAction):
                continue
            metavar = escape(str(action.metavar or action.dest.upper()))
            assert f"\\fI{metavar}\\fR" in page, f"{metavar} ({sub.prog}) is not documented"


def test_workflow_page_has_a_section_per_action() -> None:
    page = (MAN / "flotod-workflow.1").read_text()
    for action in ("start", "list", "show", "history", "signal", "cancel", "terminate"):
        assert f'.SS "flotod workflow {action}"' in page
    assert "\\-\\-interval" not in page  # suppressed in --help, so not on the page either


@pytest.mark.skipif(GROFF is None and MAN_DB is None, reason="neither groff nor man-db installed")
@pytest.mark.parametrize("page", sorted(p.name for p in MAN.iterdir()))
def test_page_formats_without_warnings(page: str) -> None:
    assert formatter_warnings(MAN / page) == ""


# -- flotod.1 and the hand-written service pages ---------------------------------------------


def test_flotod_1_lists_every_command_and_its_page() -> None:
    page = (MAN / "flotod.1").read_text()
    commands = page.split(".SH COMMANDS", 1)[1].split(".SH ", 1)[0]
    see_also = page.split(".SH SEE ALSO", 1)[1]
    for name, *_ in COMMANDS:
        assert f".B {escape(name)}" in commands, f"flotod.1 does not list {name}"
        ref = f".BR \\%{escape(f'flotod-{name}')} (1)"
        assert ref in commands and ref in see_also, f"flotod.1 does not point at {name}'s page"


def page_option_flags(roff: str) -> set[str]:
    """Flags named in the tags (the line after each .TP) of the OPTIONS section."""
    options = roff.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0].splitlines()
    tags = [options[i + 1] for i, line in enumerate(options[:-1]) if line == ".TP"]
    text = " ".join(tags).replace("\\-", "-")
    return set(re.findall(r"(?<![\w-])--?[a-z][a-z0-9-]*", text))


@pytest.mark.parametrize("kind", ["decider", "worker", "daemon"])
def test_service_page_options_match_the_parser(kind: str) -> None:
    roff = (MAN / f"flotod-{kind}.8").read_text()
    assert page_option_flags(roff) == parser_flags(service_parser(kind))


# -- escaping ---------------------------------------------------------------------------------


def test_escape_makes_roff_specials_literal() -> None:
    assert escape("a-b") == "a\\-b"
    assert escape("C:\\dir") == "C:\\edir"
    assert escape('say "hi"') == "say \\(dqhi\\(dq"
    assert escape(".TH x\n'br") == "\\&.TH x\n\\(aqbr"
    assert escape("line\n.SH NAME") == "line\n\\&.SH NAME"


@pytest.mark.skipif(GROFF is None, reason="groff is not installed")
def test_hostile_help_text_comes_out_literally(tmp_path: Path) -> None:
    """Help full of roff syntax is printed as written, not obeyed, and formats cleanly."""
    hostile = ".SH INJECTED \\fBbold\\fR 'quoted' \"double\" --flag -x back\\slash"
    parser = argparse.ArgumentParser(prog="flotod demo", description=hostile)
    parser.add_argument("--with-dash", metavar="A-B", help=hostile)
    parser.add_argument("target", metavar="TARGET", help=".br leading dot")
    roff = render("demo", "a demo for tests", parser, Notes(examples=(("run:", ".x 'y'"),)))
    path = tmp_path / "flotod-demo.1"
    path.write_text(roff)
    assert formatter_warnings(path) == ""
    text = plain_text(roff, tmp_path)
    assert text.count(hostile) == 2  # the description and the option's help
    assert "--with-dash A-B" in text
    assert ".br leading dot" in text
    assert ".x 'y'" in text
    assert "INJECTED" not in roff.split(".SH DESCRIPTION")[0]


@pytest.mark.skipif(MAN_DB is None, reason="man-db is not installed")
def test_man_finds_a_command_page_by_its_words(tmp_path: Path) -> None:
    """``man flotod workflow`` opens flotod-workflow(1), as ``man git commit`` does."""
    (tmp_path / "man1").mkdir()
    shutil.copy(MAN / "flotod-workflow.1", tmp_path / "man1")
    assert MAN_DB is not None
    done = subprocess.run(
        [MAN_DB, "-M", str(tmp_path), "-w", "flotod", "workflow"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(tmp_path / "man1" / "flotod-workflow.1")
