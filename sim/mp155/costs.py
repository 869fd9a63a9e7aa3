"""What each strategy costs, at the scenario's price points.

Direct cost is what the strategy pays during the run. Superseded CHs still in stock at
the end have not been dealt with; they are valued at the write-off charge for their band
(the residual), so a strategy cannot look cheap by leaving the problem for later.
"""

from __future__ import annotations

from sim.mp155.model import StockRun


def _residual(run: StockRun) -> tuple[int, float]:
    count, value = 0, 0.0
    for model, buckets in run.stock.items():
        latest = run.latest(model, run.env.now)
        stranded = sum(len(q) for version, q in buckets.items() if version != latest)
        count += stranded
        value += stranded * run.s.writeoff_gbp[run.models[model].band]
    return count, value


def cost_rows(run: StockRun) -> list[dict]:
    """One row per strategy, or per price point for ``reflash``."""
    s, c = run.s, run.counters
    stranded, residual = _residual(run)

    def row(price: float | None, acted_on: int, direct: float) -> dict:
        return {"strategy": run.strategy, "price_gbp_per_ch": "" if price is None else price,
                "chs_acted_on": acted_on, "direct_cost_gbp": round(direct, 2),
                "superseded_in_stock_at_end": stranded, "residual_writeoff_gbp": round(residual, 2),
                "total_gbp": round(direct + residual, 2)}

    if run.strategy == "reflash":
        return [row(price, c.reflashed, price * c.reflashed) for price in s.reflash_prices]
    if run.strategy == "writeoff":
        direct = sum(n * s.writeoff_gbp[band] for band, n in c.written_off.items())
        return [row(None, sum(c.written_off.values()), direct)]
    if run.strategy == "ota":
        per_hop = s.ota_per_hop_gbp + s.ota_failure_probability * s.site_visit_gbp
        unreachable = sum(n * (s.site_visit_gbp + s.writeoff_gbp[band])
                          for band, n in c.ota_unreachable.items())
        return [row(None, c.installed_superseded, c.ota_hops * per_hop + unreachable)]
    return [row(None, 0, 0.0)]
