"""Keep a population process's freed memory for its next replication.

A GB-scale replication allocates and frees a few hundred MiB of numpy arrays. By default
glibc's malloc serves each large array with a fresh ``mmap`` and unmaps it when freed, so
the next one is faulted in again page by page; on a virtual machine that cost a warm
replication 0.03 to 0.06 CPU s of the kernel's time out of 0.41. Told to serve every
block from its heap and never to trim it, a process faults its peak in once and keeps it:
later replications take 0.38 to 0.39 s with none, and a study of 10 seeds x 5 regimes at
GB scale, each run in a fresh process, took 6.6 to 6.9 s on 2 workers against 7.0 to
7.3 s (12.7 to 12.9 s against 12.9 to 13.5 s on 1). A fresh process's first replication
still pays its first touch (docs/how-to/population-engines.md, round nine).

The cost is that the process holds its peak until it ends (the memory check,
:mod:`sim.population.memory`, budgets for the peak anyway; 15 GB runs in one process
peaked at 376 MiB, against 372 MiB unmapping). glibc only: elsewhere nothing changes.
"""

from __future__ import annotations

import ctypes
import platform
from functools import cache

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Free heap at its top beyond this is given back to the system: in practice, never.
NEVER_TRIM = 2**31 - 1


@cache
def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep what is freed (once a process). True when
    the C library took both settings."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
