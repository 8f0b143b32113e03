"""The README's configuration reference is generated from the settings' declarations."""

from __future__ import annotations

from pathlib import Path

from flotod.config import reference_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_config_reference_is_current() -> None:
    text = README.read_text()
    begin, end = "<!-- BEGIN CONFIG REFERENCE -->\n", "\n<!-- END CONFIG REFERENCE -->"
    assert begin in text and end in text
    section = text.split(begin, 1)[1].split(end, 1)[0]
    assert section.strip() == reference_markdown().strip(), (
        "README's configuration reference is stale: paste `python -m flotod.config` into it"
    )


def test_readme_names_the_two_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text
