"""prometheus_client's process collector, made to work inside the systemd units' sandbox.

The units set ``ProcSubset=pid``, which hides /proc/stat. The collector reads the boot time
from there and, when it cannot, reports nothing at all (it takes an unreadable /proc/stat for
a system without /proc). The boot time is also ``time.time()`` less the time since boot
(``CLOCK_BOOTTIME``), which needs no file.
"""

from __future__ import annotations

import time

from prometheus_client import ProcessCollector


class SandboxedProcessCollector(ProcessCollector):
    """Process CPU, memory, file descriptors and start time, with or without /proc/stat."""

    def _boot_time(self) -> float:  # the 0.16 name of the collector's boot time reader
        try:
            return float(super()._boot_time())  # type: ignore[no-untyped-call]
        except OSError:
            return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
