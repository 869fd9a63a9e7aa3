"""The population report's reductions: the run's years, and time-to-commission quantiles."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path

import numpy as np
from _population_support import replications, small
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.population.model import Replication
from sim.population.params import PopulationParams
from sim.population.report import run_years, year_end
from sim.population.stats import ttc_quantiles


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 30.0, allow_nan=False))
def test_the_run_years_cover_its_days_and_none_is_empty(years: float) -> None:
    params = PopulationParams(sites=1000, years=years)
    n = run_years(params)
    assert year_end(params, n) == params.days
    assert all(year_end(params, y) > year_end(params, y - 1) for y in range(1, n + 1))


def test_a_whole_number_of_years_whose_days_round_up_reports_that_many(tmp_path: Path) -> None:
    """``--years 3`` is 1,096 days (3 x 365.25, rounded up): three run years, not a fourth
    with no days (whose gains were divided by none)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["backlog", "--sites", "600", "--years", "3", "--replications", "2",
                                       "--quiet", "--set", "historic_years=1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    for policy in summary["policies"].values():
        assert [row["year"] for row in policy["by_year"]] == [1, 2, 3]


@functools.cache
def _one_replication() -> Replication:
    return replications(small(sites=300), "none", reps=1)[0]


qs = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=30)
times = st.lists(st.floats(0.0, 4000.0, allow_nan=False) | st.just(math.inf), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(times, qs)
def test_ttc_quantiles_are_the_inverted_cdf_of_the_cohort(days: list[float], q: list[float]) -> None:
    """Each is the smallest time to commission whose share of the cohort at or below it
    reaches q (the textbook inverted CDF), and numpy's own quantile asked one q at a time."""
    rep = dataclasses.replace(_one_replication(), ttc_days=np.sort(np.array(days)))
    got = ttc_quantiles(rep, q)
    ordered = sorted(days)
    for value, p in zip(got, q, strict=True):
        k = max(1, math.ceil(len(ordered) * p))  # the k-th smallest: share k/n >= p
        assert value == ordered[k - 1] or math.isclose(k, len(ordered) * p, rel_tol=1e-12)
        assert value == np.quantile(rep.ttc_days, p, method="inverted_cdf")
