"""What each strategy costs, the break-even re-flash price, and demand at each price point.

A strategy's total is the sum of what it pays during the run (re-flash charges, write-off
charges, CHs scrapped after a failed re-flash) and what installing old firmware costs in
the field (install and interoperability failures, over-the-air upgrades and their failures,
days on old firmware, CHs with no upgrade path replaced), plus installs missed for lack of
stock. Superseded CHs still in stock at the end are valued at the write-off charge for
their band (the residual), so a strategy cannot look cheap by leaving the problem for later.

Everything but the re-flash charge is fixed by the run, so the re-flash total is a line in
the price: the break-even price against an alternative is where that line meets the
alternative's total.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from sim.mp155.model import Counters, StockLine, StockRun

K = TypeVar("K", bound=Hashable)

ALL = "all suppliers"


@dataclass
class Ledger:
    """One group's counts and costs under one strategy (a supplier, a model, everyone)."""

    counters: Counters = field(default_factory=Counters)
    superseded_left: int = 0
    gbp: dict[str, float] = field(default_factory=dict)

    def total(self, price: float) -> float:
        """The total at a re-flash price per CH (every CH sent is charged, failed or not)."""
        return sum(self.gbp.values()) + price * self.counters.reflashed

    def add(self, other: Ledger) -> Ledger:
        self.counters.add(other.counters)
        self.superseded_left += other.superseded_left
        for name, value in other.gbp.items():
            self.gbp[name] = self.gbp.get(name, 0.0) + value
        return self


def _line_ledger(run: StockRun, line: StockLine) -> Ledger:
    s, c = run.s, line.counters
    band_name = run.models[line.model].band
    assert band_name is not None  # the scenario's check refuses a model with no HAN band
    band = s.writeoff_gbp[band_name]
    latest = run.latest(line.model, run.env.now)
    left = sum(len(q) for version, q in line.stock.items() if version != latest)
    return Ledger(Counters().add(c), left, {
        "writeoff_gbp": c.written_off * band,
        "reflash_scrapped_gbp": c.reflash_failed * band,
        "install_failure_gbp": c.install_failures * s.install_failure_gbp,
        "ota_gbp": (c.ota_hops * s.ota_per_hop_gbp + c.ota_failures * s.site_visit_gbp
                    + c.ota_unreachable * (s.site_visit_gbp + band)),
        "old_firmware_days_gbp": c.old_hub_days * s.hub_day_gbp,
        "shortfall_gbp": c.shortfalls * s.shortfall_gbp,
        "residual_writeoff_gbp": left * band,
    })


def ledgers(run: StockRun, key: Callable[[StockLine], K]) -> dict[K, Ledger]:
    """The run's ledgers grouped by ``key`` of each stock line."""
    out: dict[K, Ledger] = {}
    for line in run.all_lines():
        out.setdefault(key(line), Ledger()).add(_line_ledger(run, line))
    return out


def by_supplier(run: StockRun) -> dict[str, Ledger]:
    """Per supplier, then everyone together under :data:`ALL`."""
    groups = ledgers(run, lambda line: line.supplier)
    groups[ALL] = ledgers(run, lambda line: ALL)[ALL]
    return groups


def cost_rows(run: StockRun) -> list[dict]:
    """One row per supplier (and all suppliers) for the strategy; ``reflash``: one per price
    point, and one at the DCC's volume price for the volume this run sends."""
    rows = []
    groups = by_supplier(run)
    volume_price = run.s.volume_price(groups[ALL].counters.reflashed)
    for supplier, ledger in groups.items():
        c = ledger.counters
        prices: list[tuple[str, float | None]] = [("price point", p) for p in run.s.price_points]
        if c.reflashed and volume_price != float("inf"):
            prices.append(("volume", round(volume_price, 2)))
        for basis, price in (prices if run.strategy == "reflash" else [("", None)]):
            charge = (price or 0.0) * c.reflashed
            rows.append({
                "strategy": run.strategy, "supplier": supplier, "price_basis": basis,
                "price_gbp_per_ch": "" if price is None else price,
                "installed_old_firmware": c.installed_old, "install_failures": c.install_failures,
                "ota_hops": c.ota_hops, "ota_failures": c.ota_failures, "ota_unreachable": c.ota_unreachable,
                "old_firmware_hub_days": round(c.old_hub_days, 1), "work_orders": c.work_orders,
                "reflashed": c.reflashed, "reflash_failed": c.reflash_failed, "written_off": c.written_off,
                "shortfalls": c.shortfalls, "superseded_in_stock_at_end": ledger.superseded_left,
                "reflash_charge_gbp": round(charge, 2),
                **{name: round(value, 2) for name, value in ledger.gbp.items()},
                "total_gbp": round(ledger.total(price or 0.0), 2),
            })
    return rows


def breakeven(reflash: Ledger, alternative: Ledger) -> float | None:
    """The re-flash price per CH at which re-flashing costs what ``alternative`` costs
    (None when nothing was re-flashed). Below it, re-flashing is cheaper."""
    if not reflash.counters.reflashed:
        return None
    return (alternative.total(0.0) - reflash.total(0.0)) / reflash.counters.reflashed


def breakeven_rows(runs: list[StockRun]) -> list[dict]:
    """The break-even price per supplier (and all) against each other strategy run."""
    by = {run.strategy: run for run in runs}
    if "reflash" not in by:
        return []
    reflash = by_supplier(by["reflash"])
    rows = []
    for supplier, ledger in reflash.items():
        for strategy, run in by.items():
            if strategy == "reflash":
                continue
            price = breakeven(ledger, by_supplier(run)[supplier])
            rows.append({"supplier": supplier, "against": strategy, "reflashed": ledger.counters.reflashed,
                         "breakeven_gbp_per_ch": "" if price is None else round(price, 2)})
    return rows


def demand_rows(runs: list[StockRun]) -> list[dict]:
    """How many CHs each supplier would send at each price point.

    A supplier sends a model's CHs when, at that price, re-flashing them costs no more than
    its cheapest alternative for that model (the strategies run beside ``reflash``). The
    volume across suppliers sets the DCC's cost-recovery price; a price point is
    self-consistent when that is at or below it."""
    by = {run.strategy: run for run in runs}
    if "reflash" not in by or len(by) < 2:
        return []
    key = lambda line: (line.supplier, line.model)  # noqa: E731
    reflash = ledgers(by["reflash"], key)
    others = [ledgers(run, key) for strategy, run in by.items() if strategy != "reflash"]
    suppliers = [x.name for x in by["reflash"].s.suppliers]
    rows = []
    for price in by["reflash"].s.price_points:
        sent = {x: 0 for x in suppliers}
        for (supplier, _model), ledger in reflash.items():
            best = min(other[supplier, _model].total(0.0) for other in others)
            if ledger.counters.reflashed and ledger.total(price) <= best:
                sent[supplier] += ledger.counters.reflashed
        total = sum(sent.values())
        recovery = by["reflash"].s.volume_price(total)
        for supplier in [*suppliers, ALL]:
            rows.append({"price_gbp_per_ch": price, "supplier": supplier,
                         "chs_sent": total if supplier == ALL else sent[supplier],
                         "dcc_cost_recovery_gbp_per_ch": "" if supplier != ALL or not total else round(recovery, 2),
                         "price_covers_dcc_cost": "" if supplier != ALL else bool(total) and recovery <= price})
    return rows


def csp_rows(run: StockRun) -> list[dict]:
    """Each CSP's queue over the run, with Little's law beside it (L against lambda x W)."""
    rows = []
    for region, csp in sorted(run.csps.items()):
        q = csp.stats()
        rows.append({"strategy": run.strategy, "csp": region, "lines": csp.params.lines,
                     "chs_per_line_per_day": csp.params.chs_per_line_per_day,
                     "chs_arrived": q.arrivals, "chs_done": q.completed, "reflash_failed": q.failed,
                     "mean_wait_days": round(q.mean_wait_days, 3), "max_chs_waiting": q.max_waiting,
                     "utilisation": round(q.utilisation, 4), "mean_chs_in_system": round(q.mean_in_system, 3),
                     "arrival_rate_per_day": round(q.arrival_rate_per_day, 3),
                     "mean_days_in_system": round(q.mean_sojourn_days, 3),
                     "littles_law_lambda_w": round(q.arrival_rate_per_day * q.mean_sojourn_days, 3)})
    return rows
