"""Local worker processes for replications: forked for one call, or kept for a session.

A worker forked for one study pays for its memory on its first replication (0.1 to
0.25 s of system time at GB scale on this 2-core virtual machine, whose host takes back
memory a second after it is freed, and charges for it again: docs/how-to/population-engines.md,
round ten), and a study of eight replications a worker pays it on one in four.
Calibration calls the runner once a generation, and a notebook once a question. Within
:func:`kept_workers` the same workers serve every call, warm, as one process running
every replication itself is warm; outside it each call forks its own and ends them.

Either way, a call stopped for any reason (Ctrl-C, SIGINT to this process alone, a fault
in a task or in ``finish``) ends its workers at once: the pool's own shutdown would wait
minutes for replications nobody will keep. A session then forks new ones for its next
call.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sim.parent_death import end_with_parent
from sim.population import allocator

T = TypeVar("T")


class _Workers:
    """A pool and the worker processes it started: those to end on a fault, and to ask
    what they hold (never another child of this process, such as a Dask cluster's)."""

    def __init__(self, size: int) -> None:
        self.size = size
        allocator.before_forking()
        self.executor = ProcessPoolExecutor(max_workers=size, initializer=end_with_parent, initargs=(os.getpid(),))

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """The workers the pool has started. The executor keeps them by pid in a private
        dict, the only record of which children are its own; ``tests/test_population_pool.py``
        fails if a Python release renames it."""
        started: dict[int, multiprocessing.process.BaseProcess] = getattr(self.executor, "_processes", None) or {}
        return list(started.values())

    def end(self) -> None:
        """End the workers at once (busy or not), and the pool with them."""
        workers = self.processes
        for worker in workers:
            worker.kill()
        for worker in workers:  # gone before the caller clears what they staged
            worker.join(timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def held_bytes(self) -> int:
        """Resident memory of the workers: what they keep from one replication for the next."""
        page = os.sysconf("SC_PAGE_SIZE")
        held = 0
        for worker in self.processes:
            try:
                with open(f"/proc/{worker.pid}/statm") as statm:
                    held += int(statm.read().split()[1]) * page
            except (OSError, ValueError, IndexError):
                pass  # ended, or no /proc: nothing known to be held
        return held


@dataclass
class _Session:
    """Workers kept by :func:`kept_workers` in the process that opened it (a worker forked
    from that process inherits the object, not the session)."""

    owner: int = field(default_factory=os.getpid)
    workers: _Workers | None = None


_session: _Session | None = None


def _open() -> _Session | None:
    return _session if _session is not None and _session.owner == os.getpid() else None


@contextmanager
def kept_workers() -> Iterator[None]:
    """Keep local workers between the runner's calls in this block (calibration's
    generations, a notebook's studies); end them when it ends. Results are the same bits
    as without: every task carries its own parameters and seed. Nested, the outer block
    owns the workers."""
    global _session
    if _open() is not None:
        yield
        return
    _session = session = _Session()
    try:
        yield
    finally:
        _session = None
        if session.workers is not None:
            session.workers.executor.shutdown(wait=True)


def held_bytes() -> int:
    """What the session's idle workers hold: memory the next call's workers reuse, so a
    memory check counts it as available."""
    session = _open()
    return session.workers.held_bytes() if session is not None and session.workers is not None else 0


def run_on_pool(run: Callable[[T], Sequence[Any]], jobs: Sequence[tuple[T, Sequence[int]]], workers: int,
                finish: Callable[[int, Any], None]) -> None:
    """``run(job)`` for every job on ``workers`` local processes, then ``finish(i, result)``
    for each of a job's results with its index, as jobs complete."""
    session = _open()
    pool = session.workers if session is not None else None
    if pool is None or pool.size != workers:
        if pool is not None:
            pool.executor.shutdown(wait=True)
        pool = _Workers(workers)
        if session is not None:
            session.workers = pool
    try:
        futures = {pool.executor.submit(run, job): indices for job, indices in jobs}
        for future in as_completed(futures):
            for i, result in zip(futures.pop(future), future.result(), strict=True):  # then released
                finish(i, result)
    except BaseException:
        pool.end()
        if session is not None:
            session.workers = None  # the next call forks new workers
        raise
    if session is None:
        pool.executor.shutdown()


__all__ = ["held_bytes", "kept_workers", "run_on_pool"]
