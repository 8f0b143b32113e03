"""Run every benchmark in turn: ``python -m bench [--quick]`` (``make bench``).

Each benchmark writes its own section of bench/RESULTS.md when asked to (``--write``); this
runner passes the flags through so one command refreshes the whole page.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "bench.decider",
    "bench.histories",
    "bench.localswf",
    "bench.worker",
    "bench.e2e",
    "bench.footprint",
    "bench.sticky",
    "bench.payloads",
)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    failed = []
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        module = importlib.import_module(name)
        if module.main(args) != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
