"""``python -m flotod.config`` prints the Markdown settings reference (for the README)."""

from __future__ import annotations

import sys

from flotod.config.render import reference_markdown

if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
