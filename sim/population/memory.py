"""Refuse a population study this machine cannot hold, before it starts.

Each engine's peak memory grows with the modelled sites (the per-meter state, the event
queue and the per-meter results); :data:`BYTES_PER_SITE` is measured at 1,000,000 sites
by ``benchmarks/backlog.py`` (peak RSS over the process's baseline), with a margin.
Workers run replications side by side, so they multiply it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.policies import ParameterError

if TYPE_CHECKING:
    from sim.population.runner import Task

#: Peak bytes per modelled site, by engine (measured 2026-11-30, see docs/reference/backlog.md).
BYTES_PER_SITE = {"numba": 500, "simpy": 900}
#: What a worker process costs before it models anything (Python, numpy, numba, SimPy).
BASELINE_BYTES = 250 * 2**20
#: Bytes a site of one whole replication (its per-meter arrays: completions, time in the
#: backlog, time to commission), which the Python API's ``backlog()`` holds for every
#: replication: 16.0 MiB at 1,000,000 sites (``benchmarks/backlog.py``, section 4), with a margin.
RESULT_BYTES_PER_SITE = 20


#: Bytes a run day of one replication's digest (:mod:`sim.population.digest`: the backlog
#: and meter-day series, 6 states x 8 B each), and its fixed part (quantiles, counts,
#: Python's objects), with a margin: what ``hansim backlog`` holds of each replication.
DIGEST_BYTES_PER_DAY = 128
DIGEST_BYTES = 8192


class StudyTooLarge(ParameterError):
    """The study needs more memory than the machine has available."""


def available_bytes() -> int:
    """Memory available to new processes (MemAvailable; else physical pages free)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def needed_bytes(sites: int, engine: str, parallel: int) -> int:
    """Peak bytes of ``parallel`` replications of ``sites`` sites side by side."""
    return parallel * (BASELINE_BYTES + sites * BYTES_PER_SITE[engine])


def check_memory(tasks: Sequence[Task], parallel: int, available: int | None = None) -> None:
    """Raise :class:`StudyTooLarge` if the largest task, ``parallel`` at once, needs more than
    the memory available."""
    if tasks:
        largest = max(tasks, key=lambda t: t.params.sites * BYTES_PER_SITE[t.engine])
        check_sites(largest.params.sites, largest.engine, parallel, available)


def check_held(sites: int, replications: int, available: int | None = None) -> None:
    """Raise :class:`StudyTooLarge` if ``replications`` results of ``sites`` sites, held
    together to be summarised, need more than the memory available."""
    _refuse_beyond(replications * sites * RESULT_BYTES_PER_SITE, available,
                   f"{replications:,} replications' results held together x {sites:,} sites x "
                   f"{RESULT_BYTES_PER_SITE} B a site need",
                   "fewer replications, policies or sites; hansim backlog, calibrate and sensitivity keep "
                   "a digest of each replication, not the whole")


def check_digests(days: int, replications: int, available: int | None = None) -> None:
    """Raise :class:`StudyTooLarge` if ``replications`` digests of ``days``-day runs, held
    together to be summarised, need more than the memory available."""
    _refuse_beyond(replications * (DIGEST_BYTES + days * DIGEST_BYTES_PER_DAY), available,
                   f"{replications:,} replications' digests held together x {days:,} days x "
                   f"{DIGEST_BYTES_PER_DAY} B a day need", "fewer --replications, policies or --years")


def check_sites(sites: int, engine: str, parallel: int, available: int | None = None) -> None:
    """Raise :class:`StudyTooLarge` (one line: what, how much, what to do) if ``parallel``
    replications of ``sites`` sites on ``engine`` need more than the memory available."""
    _refuse_beyond(needed_bytes(sites, engine, parallel), available,
                   f"{sites:,} sites x {BYTES_PER_SITE[engine]} B a site ({engine} engine) x {parallel} "
                   f"worker{'s' if parallel > 1 else ''} needs", "fewer --sites or --workers")


def _refuse_beyond(need: int, available: int | None, what: str, allowed: str) -> None:
    have = available_bytes() if available is None else available
    if need > have:
        raise StudyTooLarge(f"study too large for memory: {what} about {need / 2**30:.1f} GiB, "
                            f"{have / 2**30:.1f} GiB available (allowed: {allowed})")
