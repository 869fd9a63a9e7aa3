"""The consultation's answers: strategy totals, the break-even re-flash price (checked by
bisection over fresh runs, not by the formula that computes it), demand at each price
point, and the DCC's volume-dependent price."""

import pytest
from reflash_support import study

from sim.mp155.costs import ALL, breakeven_rows, cost_rows, demand_rows
from sim.mp155.model import StockRun
from sim.mp155.report import COMPONENTS

DAYS = 120


@pytest.fixture(scope="module")
def runs() -> list[StockRun]:
    s = study(days=DAYS)
    return [StockRun(s, strategy).run() for strategy in s.strategies]


def _total(rows: list[dict], supplier: str) -> float:
    (row,) = [r for r in rows if r["supplier"] == supplier and r["price_basis"] in ("", "price point")]
    return row["total_gbp"]


def reflash_total_at(price: float, supplier: str) -> float:
    """A fresh re-flash run with ``price`` as its only price point: its total."""
    run = StockRun(study(days=DAYS, reflash__price_points_gbp=[price]), "reflash").run()
    return _total(cost_rows(run), supplier)


def test_totals_are_the_sum_of_their_parts(runs) -> None:
    for run in runs:
        for row in cost_rows(run):
            assert row["total_gbp"] == pytest.approx(sum(row[k] for k in COMPONENTS), abs=0.05)
            if run.strategy != "reflash":
                assert row["reflash_charge_gbp"] == 0
    hold = next(r for r in cost_rows(runs[0]) if r["supplier"] == ALL)
    assert hold["installed_old_firmware"] > 0 and hold["install_failure_gbp"] > 0 and hold["ota_gbp"] > 0


def test_breakeven_against_hold_is_where_fresh_runs_cross(runs) -> None:
    hold = _total(cost_rows(runs[0]), ALL)
    stated = next(r["breakeven_gbp_per_ch"] for r in breakeven_rows(runs)
                  if r["supplier"] == ALL and r["against"] == "hold")
    low, high = stated - 1.0, stated + 1.0  # a bracket the fresh runs must confirm
    assert reflash_total_at(low, ALL) < hold < reflash_total_at(high, ALL)
    while high - low > 0.04:
        middle = (low + high) / 2
        low, high = (middle, high) if reflash_total_at(middle, ALL) < hold else (low, middle)
    assert stated == pytest.approx((low + high) / 2, abs=0.03)


@pytest.mark.parametrize(("supplier", "against"), [(ALL, "writeoff"), ("Large supplier", "ota"),
                                                   ("Medium supplier", "hold")])
def test_breakeven_brackets_the_crossing_of_fresh_runs(runs, supplier, against) -> None:
    by = {run.strategy: run for run in runs}
    other = _total(cost_rows(by[against]), supplier)
    price = next(r["breakeven_gbp_per_ch"] for r in breakeven_rows(runs)
                 if r["supplier"] == supplier and r["against"] == against)
    assert 0.1 < price < 290
    assert reflash_total_at(price - 0.05, supplier) < other < reflash_total_at(price + 0.05, supplier)


def test_demand_falls_with_price_and_adds_up(runs) -> None:
    rows = demand_rows(runs)
    prices = sorted({r["price_gbp_per_ch"] for r in rows})
    assert prices == [12, 18, 25, 30]
    suppliers = [x.name for x in runs[0].s.suppliers]
    for supplier in suppliers:
        sent = [next(r["chs_sent"] for r in rows if r["supplier"] == supplier and r["price_gbp_per_ch"] == p)
                for p in prices]
        assert sent == sorted(sent, reverse=True)
    for price in prices:
        mine = [r for r in rows if r["price_gbp_per_ch"] == price]
        total = next(r for r in mine if r["supplier"] == ALL)
        assert total["chs_sent"] == sum(r["chs_sent"] for r in mine if r["supplier"] != ALL)
    assert any(r["chs_sent"] for r in rows if r["supplier"] != ALL)


def test_no_demand_above_every_breakeven_and_most_at_a_penny(runs) -> None:
    s = study(days=DAYS, reflash__price_points_gbp=[0.01, 12, 299])
    fresh = [StockRun(s, run.strategy).run() for run in runs]
    rows = demand_rows(fresh)
    top = max(r["breakeven_gbp_per_ch"] for r in breakeven_rows(fresh) if r["breakeven_gbp_per_ch"] != "")
    assert top < 299 and all(r["chs_sent"] == 0 for r in rows if r["price_gbp_per_ch"] == 299)
    reflashed = {x.name: sum(line.counters.reflashed for line in fresh[1].lines[x.name]) for x in s.suppliers}
    for supplier, total in reflashed.items():
        sent = {r["price_gbp_per_ch"]: r["chs_sent"] for r in rows if r["supplier"] == supplier}
        assert total >= sent[0.01] >= sent[12] >= sent[299]
    large = next(r for r in rows if r["supplier"] == "Large supplier" and r["price_gbp_per_ch"] == 0.01)
    assert large["chs_sent"] > 0


def test_volume_price_spreads_the_fixed_cost_over_the_volume(runs) -> None:
    reflash = next(run for run in runs if run.strategy == "reflash")
    rows = [r for r in cost_rows(reflash) if r["supplier"] == ALL]
    volume_row = next(r for r in rows if r["price_basis"] == "volume")
    s = reflash.s
    assert volume_row["price_gbp_per_ch"] == pytest.approx(s.variable_gbp + s.fixed_gbp / volume_row["reflashed"],
                                                           abs=0.005)
    demand = [r for r in demand_rows(runs) if r["supplier"] == ALL and r["chs_sent"]]
    for row in demand:
        assert row["dcc_cost_recovery_gbp_per_ch"] == pytest.approx(s.variable_gbp + s.fixed_gbp / row["chs_sent"],
                                                                     abs=0.005)
        assert row["price_covers_dcc_cost"] == (row["dcc_cost_recovery_gbp_per_ch"] <= row["price_gbp_per_ch"])
