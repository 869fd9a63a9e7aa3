"""Worker processes end when the process that started them dies, by any signal.

A ``kill -9`` of ``hansim sweep`` gives its parent no chance to stop its worker
processes, and a worker busy with a long replication never looks at its task queue, so
it would run on, orphaned. On Linux the kernel sends a chosen signal to a process when
its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere, and as a second line, a
daemon thread notices the parent is gone (the worker is re-parented) within a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_SECONDS = 1.0


def end_with_parent(parent_pid: int) -> None:
    """Call first thing in a worker process: it dies with ``parent_pid``."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="end-with-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)
