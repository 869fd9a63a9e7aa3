"""A replication reduced to what a study reads of it: its digest.

A replication keeps per-meter arrays (times to commission, completions, gains), about
16 MiB at GB scale. The backlog report, a sweep's summary and calibration read far less
of it: the daily backlog and meter-day series, time to commission at the report's
quantiles, counts per run year and a few totals. That is the digest, about 173 KiB for a
5-year run, made where the replication ran (:func:`digest_of` as the runner's
``reduce``). So ``hansim backlog`` holds the digests of thousands of GB-scale
replications where it could hold a few hundred replications, and its workers send a
hundredth of the bytes back.

Every figure the reports print comes from a digest, computed as they computed it from the
replication: the files are the same bytes either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.population.model import Replication
from sim.population.params import PopulationParams
from sim.population.runner import Task
from sim.population.stats import CURVE_QUANTILES, QUANTILES, TABLE_QUANTILES, ttc_quantiles

#: Every quantile of time to commission a report reads, sorted: the summary's, the CSV
#: table's and the plotted curve's.
TTC_GRID = np.unique(np.concatenate([QUANTILES, TABLE_QUANTILES, CURVE_QUANTILES]))

#: Days within which the summary counts the cohort's share commissioned.
WITHIN_DAYS = 90


@dataclass(frozen=True)
class Digest:
    """One replication, as the reports read it (fields as in
    :class:`~sim.population.model.Replication` where they share its name)."""

    backlog: np.ndarray
    site_days: np.ndarray
    ttc: np.ndarray  #: days to commission of the first-half cohort at :data:`TTC_GRID`
    within_days: float  #: the cohort's share commissioned within :data:`WITHIN_DAYS` days
    mean_days_to_commission: float  #: over every meter commissioned in the run (nan: none was)
    gains_by_year: tuple[int, ...]  #: uncommissioned meters gained on a CoS, each run year
    replaced_by_year: tuple[int, ...]  #: meters replaced, each run year
    entered_backlog: int  #: meters in the backlog at some time in the run (Little's law's arrivals)
    mean_days_in_backlog: float  #: their mean days in it within the run (0: none)
    replaced: int
    requests: int
    escalations: int
    commissioned: int
    events: int

    def ttc_at(self, qs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Days to commission at quantiles ``qs``, each one of :data:`TTC_GRID`."""
        qs = np.asarray(qs, float)
        at = np.searchsorted(TTC_GRID, qs)
        if not np.array_equal(TTC_GRID.take(at, mode="clip"), qs):
            raise ValueError(f"quantiles {qs.tolist()} are not all in digest.TTC_GRID")
        return self.ttc[at]


def digest(params: PopulationParams, rep: Replication) -> Digest:
    """``rep`` (run with ``params``) reduced to its :class:`Digest`."""
    years = range(1, run_years(params) + 1)
    cohort = rep.ttc_days
    return Digest(
        backlog=rep.backlog,
        site_days=rep.site_days,
        ttc=ttc_quantiles(rep, TTC_GRID),
        within_days=float(np.mean(cohort <= WITHIN_DAYS)) if cohort.size else float("nan"),
        mean_days_to_commission=(np.mean(rep.done_days - rep.done_installed_days) if rep.done_days.size
                                 else np.nan),
        gains_by_year=tuple(count_in_year(rep.gain_days, params, year) for year in years),
        replaced_by_year=tuple(count_in_year(rep.replaced_days, params, year) for year in years),
        entered_backlog=rep.in_backlog_days.size,
        mean_days_in_backlog=float(rep.in_backlog_days.mean()) if rep.in_backlog_days.size else 0.0,
        replaced=rep.replaced, requests=rep.requests, escalations=rep.escalations,
        commissioned=rep.commissioned, events=rep.events)


def digest_of(task: Task, rep: Replication) -> Digest:
    """:func:`digest` as the runner's ``reduce``: run where the replication ran."""
    return digest(task.params, rep)


def run_years(params: PopulationParams) -> int:
    """The run's years that hold at least one of its days (the last may be part of one).
    Counted on :func:`year_end`'s own rounding: ``--years 3`` is 1,096 days, and a fourth
    year of no days divided its gains by none."""
    year = 0
    while year_end(params, year) < params.days:
        year += 1
    return year


def year_end(params: PopulationParams, year: int) -> int:
    return min(params.days, int(round(year * 365.25)))


def count_in_year(days: np.ndarray, params: PopulationParams, year: int) -> int:
    return int(np.count_nonzero((days >= year_end(params, year - 1)) & (days < year_end(params, year))))
