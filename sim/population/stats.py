"""Replications reduced to means with 95% confidence intervals (Student t across runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.population.model import Replication

#: Quantiles of time to commission: the summary's, ``time_to_commission.csv``'s and the
#: plotted curve's.
QUANTILES = (0.5, 0.9, 0.99)
TABLE_QUANTILES = (*np.round(np.arange(0.05, 1.0, 0.05), 2).tolist(), 0.99)
CURVE_QUANTILES = np.linspace(0.01, 0.99, 99)


@dataclass(frozen=True)
class Estimate:
    """Mean across replications and its 95% CI (``lo == hi == mean`` for one run)."""

    mean: float
    lo: float
    hi: float

    def as_dict(self) -> dict[str, float | None]:
        return {k: _json_number(v) for k, v in (("mean", self.mean), ("lo", self.lo), ("hi", self.hi))}


def _json_number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def confidence(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval along ``axis`` (replications)."""
    samples = np.asarray(samples, float)
    n = samples.shape[axis]
    mean = samples.mean(axis=axis)
    if n < 2:
        return mean, mean, mean
    from scipy import stats as sps  # 0.7 s to import: not for every command that imports this module

    with np.errstate(invalid="ignore"):
        half = sps.t.ppf(0.975, n - 1) * samples.std(axis=axis, ddof=1) / np.sqrt(n)
    half = np.where(np.isfinite(half), half, 0.0)
    return mean, mean - half, mean + half


def estimate(values: list[float] | np.ndarray) -> Estimate:
    mean, lo, hi = confidence(np.asarray(values, float))
    return Estimate(float(mean), float(lo), float(hi))


def steady_backlog(site_days: np.ndarray, start_day: int) -> np.ndarray:
    """Time-average backlog per state from ``start_day`` to the end (exact integral of a
    replication's ``site_days``)."""
    days = site_days.shape[1] - 1
    return (site_days[:, days] - site_days[:, start_day]) / (days - start_day)


def ttc_quantiles(rep: Replication, qs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Quantiles ``qs`` of time to commission (days); ``inf`` where censored sites reach
    them, ``nan`` for an empty cohort. One call for every quantile a report needs: numpy
    selects them all in one pass, where a call a quantile partitioned the whole cohort
    each time (122 a replication, most of the cost of a study's summary)."""
    if rep.ttc_days.size == 0:
        return np.full(len(qs), np.nan)
    return np.quantile(rep.ttc_days, np.asarray(qs, float), method="inverted_cdf")

