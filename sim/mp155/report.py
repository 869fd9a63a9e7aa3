"""Write an MP155 study's outputs: CSV tables, PNG plots and one self-contained HTML report
(plots embedded as base64), each file whole or not at all."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402  (after choosing the Agg backend)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sim.calendar import DAY  # noqa: E402
from sim.mp155.costs import ALL, breakeven_rows, cost_rows, csp_rows, demand_rows  # noqa: E402
from sim.mp155.model import StockRun, WorkOrder  # noqa: E402
from sim.output import OutputDir  # noqa: E402

CSV_FILES = ("stock.csv", "firmware_mix.csv", "costs.csv", "breakeven.csv", "demand.csv", "csp.csv",
             "csp_queue.csv", "work_orders.csv", "parameters.csv")
PLOTS = ("costs.png", "breakeven.png", "demand.png", "stock_age.png", "firmware_mix.png", "csp_queue.png")
FILES = (*CSV_FILES, *PLOTS, "report.html")
#: Cost components in the order they are stacked, with their legend names.
COMPONENTS = {"reflash_charge_gbp": "re-flash charge", "reflash_scrapped_gbp": "CHs scrapped (failed re-flash)",
              "writeoff_gbp": "write-off charge", "install_failure_gbp": "old-firmware install failures",
              "ota_gbp": "over-the-air upgrades", "old_firmware_days_gbp": "days on old firmware",
              "shortfall_gbp": "installs missed (no stock)", "residual_writeoff_gbp": "superseded stock left"}
GBP = FuncFormatter(lambda x, _pos: f"−£{-x:,.0f}" if x < 0 else f"£{x:,.0f}")
#: Plots over time show every this many days (the CSV files keep every day).
PLOT_EVERY_DAYS = 7


def gbp(value: float) -> str:
    """£ with thousands separators; whole pounds from £1,000 up; a minus before the £."""
    text = f"£{abs(value):,.0f}" if abs(value) >= 1000 else f"£{abs(value):,.2f}"
    return f"−{text}" if value < 0 else text


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _laid_out(figure: plt.Figure) -> plt.Figure:
    figure.tight_layout()
    return figure


def tables(runs: list[StockRun]) -> dict[str, list[dict]]:
    """Every CSV table of the study, by file name."""
    reflash = [run for run in runs if run.strategy == "reflash"]
    return {
        "stock.csv": [{"strategy": run.strategy, **snap} for run in runs for snap in run.snapshots],
        "firmware_mix.csv": [dict(zip(("strategy", "date", "supplier", "model", "version", "chs_in_stock"),
                                      (run.strategy, *row))) for run in runs for row in run.mix],
        "costs.csv": [row for run in runs for row in cost_rows(run)],
        "breakeven.csv": breakeven_rows(runs),
        "demand.csv": demand_rows(runs),
        "csp.csv": [row for run in reflash for row in csp_rows(run)],
        "csp_queue.csv": [dict(zip(("strategy", "date", "csp", "chs_waiting_end_of_day", "peak_chs_waiting",
                                    "lines_busy_end_of_day"), (run.strategy, *row)))
                          for run in reflash for row in run.queue_days],
        "work_orders.csv": [_work_order_row(run, wo) for run in reflash for wo in run.completed_work_orders],
        "parameters.csv": [dict(zip(("parameter", "value", "source"), row)) for row in runs[0].s.parameters()],
    }


def _work_order_row(run: StockRun, wo: WorkOrder) -> dict:
    """A completed work order: by then it has been at the CSP, re-flashed and returned."""
    assert wo.at_csp is not None and wo.reflashed is not None and wo.returned is not None
    return {"strategy": run.strategy, "work_order": wo.number, "supplier": wo.line.supplier,
            "csp": wo.line.region, "model": wo.line.model, "chs": len(wo.chs),
            "raised": run.calendar.date_at(wo.raised).isoformat(),
            "days_at_csp": round((wo.reflashed - wo.at_csp) / DAY, 3),
            "returned": run.calendar.date_at(wo.returned).isoformat()}


def _drawers(runs: list[StockRun], data: dict[str, list[dict]]) -> dict[str, Callable[[], plt.Figure]]:
    return {
        "costs": lambda: _plot_costs(data["costs.csv"]),
        "breakeven": lambda: _plot_breakeven(data["breakeven.csv"], runs[0].s.price_points),
        "demand": lambda: _plot_demand(data["demand.csv"]),
        "stock_age": lambda: _plot_age(runs),
        "firmware_mix": lambda: _plot_mix(runs),
        "csp_queue": lambda: _plot_queue(data["csp_queue.csv"], data["work_orders.csv"]),
    }


def figures(runs: list[StockRun]) -> dict[str, plt.Figure]:
    """The plots by file stem (as the ``.png`` files ``write`` makes)."""
    return {name: draw() for name, draw in _drawers(runs, tables(runs)).items()}


def write(runs: list[StockRun], out: Path, overwrite: bool = False,
          progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every output file into ``out``, all of them or (on any error) none;
    ``progress(name)`` is called as each plot is drawn (they take a few seconds)."""
    data = tables(runs)
    plots = {}
    for name, draw in _drawers(runs, data).items():
        plots[f"{name}.png"] = _png(draw())
        if progress:
            progress(name)
    with OutputDir(out, overwrite) as staged:
        for name in CSV_FILES:
            staged.write(name, _csv(data[name]))
        for name, png in plots.items():
            staged.write(name, png)
        staged.write("report.html", _html(runs, data, plots))
    return [out / name for name in FILES]


# -- plots ------------------------------------------------------------------------------------
def strategy_label(row: dict) -> str:
    if row["price_basis"] == "volume":
        return f"reflash at volume price (£{row['price_gbp_per_ch']:.2f}/CH)"
    if row["price_basis"]:
        return f"reflash at £{row['price_gbp_per_ch']:g}/CH"
    return row["strategy"]


def _plot_costs(costs: list[dict]):
    rows = [r for r in costs if r["supplier"] == ALL]
    figure, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 2.2))
    labels = [strategy_label(r) for r in rows][::-1]
    left = [0.0] * len(rows)
    for key, name in COMPONENTS.items():
        values = [r[key] for r in rows][::-1]
        if any(values):
            ax.barh(labels, values, left=left, label=name)
            left = [a + b for a, b in zip(left, values)]
    bars = ax.barh(labels, [0.0] * len(rows), left=left)
    ax.bar_label(bars, labels=[gbp(r["total_gbp"]) for r in rows][::-1], padding=4)
    ax.xaxis.set_major_formatter(GBP)
    ax.set_xlim(0, max(left) * 1.15 if max(left) > 0 else 1)
    ax.set_xlabel("total cost over the study, all suppliers (£)")
    ax.set_title("Cost per strategy, by component")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    return _laid_out(figure)


def _grouped(ax, groups: list[str], series: dict[str, list[float]], fmt) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, [0.0 if v == "" else v for v in values], width, label=name)
        ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(groups)), groups)


def _not_available(ax) -> None:
    ax.text(0.5, 0.5, "Not available: run the reflash strategy and at least one other",
            ha="center", va="center", transform=ax.transAxes)


def _plot_breakeven(rows: list[dict], price_points: tuple[float, ...]):
    figure, ax = plt.subplots(figsize=(11, 5.5))
    if not rows:
        _not_available(ax)
        return _laid_out(figure)
    suppliers = list(dict.fromkeys(r["supplier"] for r in rows))
    against = list(dict.fromkeys(r["against"] for r in rows))
    series = {f"against {a}": [next(r["breakeven_gbp_per_ch"] for r in rows if r["supplier"] == s and r["against"] == a)
                               for s in suppliers] for a in against}
    _grouped(ax, suppliers, series, lambda v: "n/a (none sent)" if v == "" else gbp(v))
    for price in price_points:
        ax.axhline(price, color="grey", linestyle="--", linewidth=0.8)
        ax.annotate(f"£{price:g}", (1.0, price), xycoords=("axes fraction", "data"), fontsize=8,
                    xytext=(3, 0), textcoords="offset points", va="center")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(GBP)
    ax.set_ylabel("break-even re-flash price (£ per CH)")
    ax.set_title("Re-flash pays below these prices (dashed: MP155 price points)")
    ax.legend(fontsize=8)
    return _laid_out(figure)


def _plot_demand(rows: list[dict]):
    figure, ax = plt.subplots(figsize=(11, 4.5))
    if not rows:
        _not_available(ax)
        return _laid_out(figure)
    prices = list(dict.fromkeys(r["price_gbp_per_ch"] for r in rows))
    suppliers = [s for s in dict.fromkeys(r["supplier"] for r in rows) if s != ALL]
    series = {s: [next(r["chs_sent"] for r in rows if r["supplier"] == s and r["price_gbp_per_ch"] == p)
                  for p in prices] for s in suppliers}
    _grouped(ax, [f"£{p:g} per CH" for p in prices], series, lambda v: f"{v:,.0f}")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
    ax.set_ylabel("CHs sent for re-flash (over the study)")
    ax.set_title("Demand at each MP155 price point, by supplier")
    ax.legend(fontsize=8)
    return _laid_out(figure)


def _weekly(rows: list[dict]) -> list[dict]:
    """Every PLOT_EVERY_DAYS-th day of per-day rows (one group's rows, in date order)."""
    return rows[::PLOT_EVERY_DAYS]


def _dates(snaps: list[dict]) -> list[dt.date]:
    return [dt.date.fromisoformat(s["date"]) for s in snaps]


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))


def _plot_age(runs: list[StockRun]):
    suppliers = [x.name for x in runs[0].s.suppliers]
    figure, axes = plt.subplots(len(suppliers), 2, figsize=(12, 2.8 * len(suppliers)), sharex=True, squeeze=False)
    for row, supplier in zip(axes, suppliers):
        for run in runs:
            snaps = _weekly([s for s in run.snapshots if s["supplier"] == supplier])
            row[0].plot(_dates(snaps), [s["mean_stock_age_days"] for s in snaps], label=run.strategy)
            row[1].plot(_dates(snaps), [s["stock_superseded"] for s in snaps], label=run.strategy)
        row[0].set_ylabel(f"{supplier}\nmean stock age (days)")
        row[1].set_ylabel("CHs on superseded\nfirmware in stock")
        row[1].yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
        for ax in row:
            _date_axis(ax)
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_title("Stock age by supplier")
    axes[0, 1].set_title("Old-firmware stock by supplier")
    return _laid_out(figure)


def _plot_mix(runs: list[StockRun]):
    suppliers = [x.name for x in runs[0].s.suppliers]
    dates = sorted({s["date"] for s in runs[0].snapshots})[::PLOT_EVERY_DAYS]
    index = {d: i for i, d in enumerate(dates)}
    days = [dt.date.fromisoformat(d) for d in dates]
    figure, axes = plt.subplots(len(suppliers), len(runs), figsize=(4 * len(runs), 2.8 * len(suppliers)),
                                sharex=True, sharey="row", squeeze=False)
    labels = sorted({f"{model} {version}" for run in runs for _d, _s, model, version, _n in run.mix})
    colours = {label: plt.cm.tab20(i % 20) for i, label in enumerate(labels)}
    for j, run in enumerate(runs):
        for i, supplier in enumerate(suppliers):
            series = {label: [0] * len(dates) for label in labels}
            for date, who, model, version, count in run.mix:
                if who == supplier and date in index:
                    series[f"{model} {version}"][index[date]] = count
            ax = axes[i, j]
            ax.stackplot(days, [series[k] for k in labels], labels=labels, colors=[colours[k] for k in labels])
            ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
            ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
            if i == 0:
                ax.set_title(run.strategy)
            if j == 0:
                ax.set_ylabel(f"{supplier}\nCHs in stock")
    figure.suptitle("Stock by CH model and firmware version")
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    figure.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=min(len(labels), 5),
                  fontsize=8, bbox_to_anchor=(0.5, 0.955))
    return figure


def _plot_queue(rows: list[dict], work_orders: list[dict]):
    figure, (peak, stay) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    for csp in sorted({r["csp"] for r in rows}):
        mine = [r for r in rows if r["csp"] == csp]
        peak.plot(_dates(mine), [r["peak_chs_waiting"] for r in mine], label=f"CSP {csp}", linewidth=0.9)
        orders = [w for w in work_orders if w["csp"] == csp]
        stay.scatter([dt.date.fromisoformat(w["raised"]) for w in orders], [w["days_at_csp"] for w in orders],
                     s=12, label=f"CSP {csp}")
    peak.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
    peak.set_ylabel("most CHs waiting\nin the day")
    stay.set_ylabel("days at the CSP\n(queue + re-flash)")
    stay.set_xlabel("date the Work Order was raised")
    _date_axis(stay)
    peak.set_title("CSP re-flash queues under reflash" if rows else "No reflash run: no CSP queue")
    if rows:
        peak.legend(fontsize=8)
    return _laid_out(figure)


# -- HTML -------------------------------------------------------------------------------------
def _table(rows: list[dict], columns: dict[str, str], money: tuple[str, ...] = ()) -> str:
    if not rows:
        return "<p><em>Not available: run the reflash strategy and at least one other.</em></p>"
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for row in rows:
        cells = []
        for key in columns:
            value = row[key]
            if key in money and value != "":
                text = gbp(float(value))
            elif isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, float):
                text = f"{value:,.3f}".rstrip("0").rstrip(".")
            elif isinstance(value, int) and not isinstance(value, bool):
                text = f"{value:,}"
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


_STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #bbb;padding:.25em .6em}
td{text-align:right}td:first-child{text-align:left}th{background:#eee}img{max-width:100%}
.note{color:#555;font-size:.9em}"""


def _html(runs: list[StockRun], data: dict[str, list[dict]], plots: dict[str, bytes]) -> str:
    s = runs[0].s
    costs = [{**r, "label": strategy_label(r)} for r in data["costs.csv"] if r["supplier"] == ALL]
    old = [r for r in data["costs.csv"] if r["price_basis"] == ""  # counts do not depend on the price
           or (r["price_basis"] == "price point" and r["price_gbp_per_ch"] == s.price_points[0])]
    sections = [
        f"<h1>MP155 Comms Hub re-flash study</h1><p>{len(s.suppliers)} suppliers, CSPs "
        f"{', '.join(sorted(s.csps))}; {s.days} days from {s.start}; seed {s.seed}; strategies "
        f"{', '.join(r.strategy for r in runs)}. Same study and seed give the same report.</p>",
        "<h2>Cost per strategy (all suppliers)</h2>", _img(plots["costs.png"], "cost per strategy"),
        _table(costs, {"label": "strategy", "reflashed": "CHs re-flashed", "written_off": "written off",
                       "installed_old_firmware": "old-firmware installs", "reflash_charge_gbp": "re-flash charge",
                       "install_failure_gbp": "install failures", "ota_gbp": "OTA upgrades",
                       "residual_writeoff_gbp": "superseded left", "total_gbp": "total"},
               money=("reflash_charge_gbp", "install_failure_gbp", "ota_gbp", "residual_writeoff_gbp", "total_gbp")),
        "<h2>Break-even re-flash price per CH</h2><p>Re-flashing costs less than the alternative below "
        "this price. The alternative is priced with its old-firmware installs (failures, over-the-air "
        "upgrades after the WAN arrives) and the superseded stock it leaves.</p>",
        _img(plots["breakeven.png"], "break-even price"),
        _table(data["breakeven.csv"], {"supplier": "supplier", "against": "against", "reflashed": "CHs re-flashed",
                                       "breakeven_gbp_per_ch": "break-even £/CH"}, money=("breakeven_gbp_per_ch",)),
        "<h2>Demand at each price point</h2><p>A supplier sends a model's CHs when re-flashing them at the "
        "price costs no more than its cheapest alternative. The DCC's cost-recovery price is its variable "
        f"cost (£{s.variable_gbp:g}/CH) plus its fixed cost (£{s.fixed_gbp:,.0f}) spread over that volume.</p>",
        _img(plots["demand.png"], "demand by price point"),
        _table(data["demand.csv"], {"price_gbp_per_ch": "price £/CH", "supplier": "supplier", "chs_sent": "CHs sent",
                                    "dcc_cost_recovery_gbp_per_ch": "DCC cost-recovery £/CH",
                                    "price_covers_dcc_cost": "price covers DCC cost"},
               money=("price_gbp_per_ch", "dcc_cost_recovery_gbp_per_ch")),
        "<h2>Old-firmware installs, by supplier</h2>",
        _table(old, {"strategy": "strategy", "supplier": "supplier", "installed_old_firmware": "old-firmware installs",
                     "install_failures": "install failures", "ota_hops": "OTA upgrade steps",
                     "old_firmware_hub_days": "hub-days on old firmware", "shortfalls": "installs missed",
                     "superseded_in_stock_at_end": "superseded left in stock"}),
        "<h2>CSP re-flash queues</h2><p>Little's law: the mean number of CHs at a CSP equals the "
        "arrival rate times the mean time there.</p>", _img(plots["csp_queue.png"], "CSP queues"),
        _table(data["csp.csv"], {"csp": "CSP", "lines": "lines", "chs_arrived": "CHs arrived",
                                 "reflash_failed": "failed", "mean_wait_days": "mean wait (days)",
                                 "max_chs_waiting": "most waiting", "utilisation": "utilisation",
                                 "mean_chs_in_system": "L (CHs)", "littles_law_lambda_w": "λ·W (CHs)"}),
        "<h2>Stock age and firmware mix, by supplier</h2>", _img(plots["stock_age.png"], "stock age"),
        _img(plots["firmware_mix.png"], "firmware mix"),
        "<h2>Parameters and their sources</h2><p class='note'>H primary source, M secondary source, "
        "assumed: a range to vary.</p>",
        _table(data["parameters.csv"], {"parameter": "parameter", "value": "value", "source": "source"}),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>MP155 re-flash study</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n")
