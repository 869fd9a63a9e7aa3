"""Write a re-flash run's outputs: CSV tables and PNG plots, each file whole or not at all."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

from sim.mp155.costs import cost_rows  # noqa: E402
from sim.mp155.model import StockRun  # noqa: E402
from sim.output import OutputDir  # noqa: E402

FILES = ("stock.csv", "firmware_mix.csv", "costs.csv", "stock_age.png", "firmware_mix.png",
         "costs.png")


def _csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _png(path: Path, figure) -> None:
    figure.savefig(path, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)


def write(runs: list[StockRun], out: Path, overwrite: bool = False) -> list[Path]:
    """Write every output file into ``out``, all of them or (on any error) none."""
    columns = list(runs[0].snapshots[0])
    costs = [row for run in runs for row in cost_rows(run)]
    with OutputDir(out, overwrite) as staged:
        staged.write("stock.csv", _csv(["strategy", *columns], [
            [run.strategy, *snap.values()] for run in runs for snap in run.snapshots]))
        staged.write("firmware_mix.csv", _csv(
            ["strategy", "date", "model", "version", "chs_in_stock"],
            [[run.strategy, *row] for run in runs for row in run.mix]))
        staged.write("costs.csv", _csv(list(costs[0]), [list(row.values()) for row in costs]))
        for name, figure in figures(runs).items():
            _png(staged.path(f"{name}.png"), figure)
    return [out / name for name in FILES]


def figures(runs: list[StockRun]) -> dict[str, plt.Figure]:
    """The plots by file stem: stock age, firmware mix, costs."""
    return {"stock_age": _plot_age(runs), "firmware_mix": _plot_mix(runs),
            "costs": _plot_costs([row for run in runs for row in cost_rows(run)])}


def _plot_age(runs: list[StockRun]) -> plt.Figure:
    figure, (age, old) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for run in runs:
        days = range(len(run.snapshots))
        age.plot(days, [s["mean_stock_age_days"] for s in run.snapshots], label=run.strategy)
        old.plot(days, [s["stock_superseded"] for s in run.snapshots], label=run.strategy)
    age.set_ylabel("mean stock age (days)")
    old.set_ylabel("CHs in stock on\nsuperseded firmware")
    old.set_xlabel(f"day since {runs[0].s.start}")
    age.legend()
    age.set_title("Supplier Comms Hub stock")
    return figure


def _plot_mix(runs: list[StockRun]) -> plt.Figure:
    figure, axes = plt.subplots(len(runs), 1, figsize=(9, 2.6 * len(runs)), sharex=True,
                                squeeze=False)
    dates = [s["date"] for s in runs[0].snapshots]
    index = {d: i for i, d in enumerate(dates)}
    for ax, run in zip(axes[:, 0], runs):
        series: dict[str, list[int]] = {}
        for date, model, version, count in run.mix:
            series.setdefault(f"{model} {version}", [0] * len(dates))[index[date]] = count
        labels = sorted(series)
        ax.stackplot(range(len(dates)), [series[k] for k in labels], labels=labels)
        ax.set_ylabel(f"{run.strategy}\nCHs in stock")
    axes[0, 0].legend(fontsize=7, loc="upper right", ncol=2)
    axes[0, 0].set_title("Stock by model and firmware version")
    axes[-1, 0].set_xlabel(f"day since {runs[0].s.start}")
    return figure


def _plot_costs(costs: list[dict]) -> plt.Figure:
    figure, ax = plt.subplots(figsize=(9, 4))
    labels = [r["strategy"] + (f"\n£{r['price_gbp_per_ch']:g}/CH" if r["price_gbp_per_ch"] != "" else "")
              for r in costs]
    direct = [r["direct_cost_gbp"] for r in costs]
    ax.bar(labels, direct, label="direct")
    ax.bar(labels, [r["residual_writeoff_gbp"] for r in costs], bottom=direct,
           label="residual (superseded stock left, at write-off)")
    ax.set_ylabel("£")
    ax.legend()
    ax.set_title("Cost per strategy")
    return figure
