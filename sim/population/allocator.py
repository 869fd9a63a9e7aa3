"""Keep a population process's freed memory for its next replication.

A GB-scale replication allocates and frees a few hundred MiB of numpy arrays. By default
glibc's malloc serves each large array with a fresh ``mmap`` and unmaps it when freed, so
the next one is faulted in again page by page; on a virtual machine that is some 10% of
a warm replication's CPU. Told to serve every block from its heap and never to trim it,
a process faults its peak in once and keeps it: a warm replication 1.11x faster, a study
on 2 workers 1.06x (``benchmarks/allocator.py``, both settings side by side;
docs/how-to/population-engines.md, round nine). A fresh process's first replication
still pays its first touch.

The cost is that the process holds its peak until it ends (the memory check,
:mod:`sim.population.memory`, budgets for the peak anyway). glibc only: elsewhere nothing
changes. ``HANSIM_KEEP_FREED_MEMORY=0`` in the environment leaves malloc as it was (a
Dask worker shared with other work, say).
"""

from __future__ import annotations

import ctypes
import os
import platform
from functools import cache

#: The environment variable that turns this off when set to 0.
OPT_OUT = "HANSIM_KEEP_FREED_MEMORY"
# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Free heap at its top beyond this is given back to the system: in practice, never.
NEVER_TRIM = 2**31 - 1


def _glibc() -> ctypes.CDLL | None:
    """The C library this process already runs on, when it is glibc."""
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


@cache
def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep what is freed (once a process). True when
    the C library took both settings."""
    libc = _glibc()
    if libc is None or os.environ.get(OPT_OUT) == "0":
        return False
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))


def before_forking() -> None:
    """Hand the heap's free pages back before forking workers. A forked worker shares its
    parent's pages until it writes them, then copies each one, which costs more than a
    fresh page: a parent that kept its freed memory would hand the workers hundreds of MiB
    to copy instead of to fault in."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
