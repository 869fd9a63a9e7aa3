"""The population report's reductions: the run's years, time-to-commission quantiles, and
the digest each replication is reduced to where it ran."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from _population_support import replications, small
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.population import memory
from sim.population.digest import TTC_GRID, digest, run_years, year_end
from sim.population.memory import check_digests
from sim.population.model import Replication
from sim.population.params import PopulationParams
from sim.population.stats import CURVE_QUANTILES, QUANTILES, TABLE_QUANTILES, ttc_quantiles


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


def _kth_smallest(days: list[float], p: float) -> float:
    """The textbook inverted CDF: the smallest time whose share of the cohort reaches ``p``."""
    ordered = sorted(days)
    return ordered[max(1, math.ceil(len(ordered) * p)) - 1]


@settings(max_examples=200, deadline=None)
@given(times, st.lists(st.floats(0.0, 3.0 * 365.25), max_size=40), st.lists(st.floats(0.0, 3.0 * 365.25), max_size=40))
def test_a_digest_holds_what_the_report_reads_of_its_replication(days: list[float], gains: list[float],
                                                                 replaced: list[float]) -> None:
    """Every quantile set the report asks for is the cohort's inverted CDF, and the
    per-year counts are the gains and replacements in each run year, counted here apart."""
    params = small(sites=300).replace(years=3.0)
    rep = dataclasses.replace(_one_replication(), ttc_days=np.array(days), gain_days=np.array(gains),
                              replaced_days=np.array(replaced))
    d = digest(params, rep)
    for qs in (QUANTILES, TABLE_QUANTILES, CURVE_QUANTILES):
        for value, p in zip(d.ttc_at(qs), qs, strict=True):
            assert value == _kth_smallest(days, p) or math.isclose(math.ceil(len(days) * p), len(days) * p,
                                                                   rel_tol=1e-9)
    assert d.within_days == sum(t <= 90 for t in days) / len(days)
    bounds = [0, 365, 730, 1096]  # 365.25 x 1, 2, 3 days, rounded half to even: the run's days
    assert params.days == bounds[-1]
    for counted, times_of in ((d.gains_by_year, gains), (d.replaced_by_year, replaced)):
        assert counted == tuple(sum(lo <= t < hi for t in times_of) for lo, hi in zip(bounds, bounds[1:]))


def test_a_digest_answers_only_the_quantiles_it_holds() -> None:
    d = digest(small(sites=300), _one_replication())
    assert d.ttc_at(TTC_GRID).shape == TTC_GRID.shape
    with pytest.raises(ValueError, match="not all in digest.TTC_GRID"):
        d.ttc_at([0.5, 0.123])


def test_a_digest_does_not_grow_with_the_sites_its_replication_grows_with() -> None:
    """What ``hansim backlog`` holds of each run: the daily series, not the per-meter arrays."""
    sizes = []
    for sites in (300, 3000):
        rep = replications(small(sites=sites), "email-10wd", reps=1)[0]
        d = digest(small(sites=sites), rep)
        sizes.append([sum(a.nbytes for a in vars(x).values() if isinstance(a, np.ndarray)) for x in (rep, d)])
    (whole_small, held_small), (whole_large, held_large) = sizes
    assert whole_large - held_large > 5 * (whole_small - held_small)  # the per-meter arrays: about 10x
    assert held_large == held_small
    assert held_large <= 2 * 6 * 8 * (small().days + 1) + TTC_GRID.nbytes


def test_digests_beyond_memory_are_refused_before_the_run_in_one_line(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * 2**30)  # 20,000 30-year digests: 26 GiB
    result = CliRunner().invoke(main, ["backlog", "--years", "30", "--replications", "10000", "--policy", "none",
                                       "--policy", "smi-codes", "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "20,000 replications' digests held together" in lines[0], result.output
    check_digests(1827, 1000, available=2**30)  # 1,000 five-year runs: about 0.2 GiB
