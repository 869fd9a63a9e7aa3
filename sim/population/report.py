"""Population results as files: backlog CSV, time-to-commission CSV, summary JSON, PNG plots.

A run's files are staged and moved into the output folder together
(:class:`sim.output.OutputDir`): a failed or killed run leaves nothing half written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.lifecycle import BACKLOG_STATES, STRANDED
from sim.output import OutputDir
from sim.plotting import figure_bytes, new_figure, thousands
from sim.policies import Policy
from sim.population.digest import WITHIN_DAYS, Digest, run_years, year_end
from sim.population.params import PopulationParams, as_dict
from sim.population.stats import (
    CURVE_QUANTILES,
    QUANTILES,
    TABLE_QUANTILES,
    Estimate,
    confidence,
    estimate,
    steady_backlog,
)

STATE_NAMES = [s.name.lower() for s in BACKLOG_STATES]


def summarise(params: PopulationParams, policy: Policy, reps: list[Digest]) -> dict[str, object]:
    """Headline figures for one policy, GB-scaled, each ``{mean, lo, hi}`` across replications."""
    gb = params.gb_factor
    days = params.days
    rules = params.rules

    def est(values: list[float] | np.ndarray) -> dict[str, float | None]:
        return estimate(np.asarray(values, float)).as_dict()

    costs = {name: est([c[name] for c in (costs_of(params, policy, r) for r in reps)]) for name in COST_SOURCES}
    little = [littles_law(params, r) for r in reps]
    ttc = np.array([r.ttc_at(QUANTILES) for r in reps])
    return {
        "label": policy.label(),
        "policy": policy.params(),
        "replications": len(reps),
        "by_year": [{"year": year,
                     "uncommissioned_gain_share": est([gain_share(params, r, year) for r in reps]),
                     "backlog_end": est([r.backlog[:, year_end(params, year)].sum() * gb for r in reps]),
                     "replacements": est([r.replaced_by_year[year - 1] * gb for r in reps])}
                    for year in range(1, run_years(params) + 1)],
        "backlog_start": est([r.backlog[:, 0].sum() * gb for r in reps]),
        "end_backlog": {name: est([r.backlog[i, -1] * gb for r in reps]) for i, name in enumerate(STATE_NAMES)},
        "time_to_commission_days": {f"p{round(q * 100)}": est(per_rep)
                                    for q, per_rep in zip(QUANTILES, ttc.T, strict=True)}
        | {f"within_{WITHIN_DAYS}_days": est([r.within_days for r in reps]),
           "mean_all_commissioned": est([r.mean_days_to_commission for r in reps])},
        "littles_law": {key: est([d[key] for d in little]) for key in little[0]},
        "replacements": est([r.replaced * gb for r in reps]),
        "install_code_messages": est([r.requests * gb for r in reps]),
        "escalations": est([r.escalations * gb for r in reps]),
        "consumer_days_without_smart_service": est([r.site_days[:, -1].sum() * gb for r in reps]),
        "stranded_meter_years": est([r.site_days[STRANDED, -1] * gb / 365.25 for r in reps]),
        "costs_gbp": costs,
        "commissioned": est([r.commissioned * gb for r in reps]),
        "events": int(sum(r.events for r in reps)),
        "days": days,
        "cost_of_consumer_days_per_day": rules.day_without_smart_cost,
    }


#: Each cost line and where its price comes from (docs/reference/backlog.md has ranges).
COST_SOURCES = {
    "replacement_visits": "rules.visit_cost per replaced meter (assumed £250, range £150-£400)",
    "scrapped_meters": "rules.scrap_cost per replaced meter (Comms Hub returns £30.87-£58.75, M)",
    "install_code_handling": "policy.request_cost per message (assumed £10, range £5-£25)",
    "build": "policy.fixed_cost once (SSI £150k-£350k, DCC preliminary assessment, H; SMI codes assumed)",
    "stranded_meters": "rules.stranded_cost_per_year per stranded meter-year (assumed £20, range £5-£50)",
    "consumer_days": "rules.day_without_smart_cost per meter-day uncommissioned (assumed £0.10)",
    "total": "the sum of the lines above",
}


def costs_of(params: PopulationParams, policy: Policy, rep: Digest) -> dict[str, float]:
    """One replication's costs, GB, in GBP."""
    gb, rules = params.gb_factor, params.rules
    lines = {
        "replacement_visits": rep.replaced * gb * rules.visit_cost,
        "scrapped_meters": rep.replaced * gb * rules.scrap_cost,
        "install_code_handling": rep.requests * gb * policy.request_cost,
        "build": policy.fixed_cost,
        "stranded_meters": rep.site_days[STRANDED, -1] * gb / 365.25 * rules.stranded_cost_per_year,
        "consumer_days": rep.site_days[:, -1].sum() * gb * rules.day_without_smart_cost,
    }
    return lines | {"total": sum(lines.values())}


def littles_law(params: PopulationParams, rep: Digest) -> dict[str, float]:
    """L = lambda W over the run, each side measured apart: L from the state intervals, W
    from install and commissioning times (historic meters from day 0, open ones to the end)."""
    days, gb = params.days, params.gb_factor
    return {"mean_backlog": rep.site_days[:, -1].sum() / days * gb,
            "arrivals_per_day": rep.entered_backlog / days * gb,
            "mean_days_in_backlog": rep.mean_days_in_backlog}


def gain_share(params: PopulationParams, rep: Digest, year: int) -> float:
    """Uncommissioned gains that year over all GB SMETS2 gains that year."""
    span = (year_end(params, year) - year_end(params, year - 1)) / 365.25
    return rep.gains_by_year[year - 1] * params.gb_factor / params.gb_gains(year, span)


def paired(params: PopulationParams, results: Mapping[str, tuple[Policy, list[Digest]]]) -> list[dict]:
    """Each pair of regimes, b minus a, per replication (common random numbers), with 95% CIs."""
    labels = list(results)
    figures = {
        "consumer_days_without_smart_service": lambda p, r: r.site_days[:, -1].sum() * params.gb_factor,
        "replacements": lambda p, r: r.replaced * params.gb_factor,
        "backlog_end": lambda p, r: r.backlog[:, -1].sum() * params.gb_factor,
        "total_cost_gbp": lambda p, r: costs_of(params, p, r)["total"],
    }
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            (pa, ra), (pb, rb) = results[a], results[b]
            out.append({"a": a, "b": b} | {
                name: est_diff([f(pb, y) - f(pa, x) for x, y in zip(ra, rb)]) for name, f in figures.items()})
    return out


def est_diff(values: list[float]) -> dict[str, float | None]:
    return estimate(np.asarray(values, float)).as_dict()


def run_summary(params: PopulationParams, seed: int,
                results: Mapping[str, tuple[Policy, list[Digest]]]) -> dict[str, Any]:
    """What ``summary.json`` holds: the inputs, every regime's figures, the paired differences."""
    return {
        "seed": seed,
        "params": as_dict(params),
        "gb_factor": params.gb_factor,
        "modelled": {"meters": params.sites, "history_run_meters": params.historic_sites},
        "policies": {label: summarise(params, policy, reps) for label, (policy, reps) in results.items()},
        "paired_differences": paired(params, results),
        "cost_sources": COST_SOURCES,
    }

#: The steps of :func:`write_outputs`, each reported to its ``progress`` as it ends.
OUTPUT_STEPS = ("tables", "backlog plot", "time-to-commission plot", "report.html")


def write_outputs(out: Path, params: PopulationParams, seed: int,
                  results: Mapping[str, tuple[Policy, list[Digest]]],
                  overwrite: bool = False, plot_format: str = "png",
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``results``: policy label -> (the policy run, its replications). Returns the summary.

    ``progress(step)`` is called as each of :data:`OUTPUT_STEPS` ends (drawing the plots
    takes seconds)."""
    from sim.population.html_report import render  # the page reads the files written here

    done = progress or (lambda _step: None)
    summary = run_summary(params, seed, results)
    with OutputDir(out, overwrite) as staged:
        staged.write("backlog.csv", _backlog_csv(params, results))
        staged.write("time_to_commission.csv", _ttc_csv(results))
        staged.write("summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
        done("tables")
        figures = {"backlog": backlog_figure(params, results), "time_to_commission": ttc_figure(results)}
        for (name, figure), step in zip(figures.items(), OUTPUT_STEPS[1:3]):
            staged.write(f"{name}.{plot_format}", figure_bytes(figure, plot_format))
            done(step)
        staged.write("report.html", render(summary, figures, plot_format))
        done("report.html")
    return summary


def _backlog_csv(params: PopulationParams, results: Mapping[str, tuple[object, list[Digest]]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["policy", "day", "state", "mean", "lo95", "hi95"])
    for label, (_, reps) in results.items():
        mean, lo, hi = confidence(np.array([r.backlog for r in reps]))
        for day in range(mean.shape[1]):
            for i, name in enumerate(STATE_NAMES):
                w.writerow([label, day, name, f"{mean[i, day]:.3f}", f"{lo[i, day]:.3f}", f"{hi[i, day]:.3f}"])
    return buf.getvalue()


def _ttc_csv(results: Mapping[str, tuple[object, list[Digest]]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["policy", "quantile", "days_mean", "days_lo95", "days_hi95"])
    for label, (_, reps) in results.items():
        per_rep = np.array([r.ttc_at(TABLE_QUANTILES) for r in reps])
        for q, values in zip(TABLE_QUANTILES, per_rep.T, strict=True):
            e = estimate(values)
            w.writerow([label, q, *(f"{v:.3f}" for v in (e.mean, e.lo, e.hi))])
    return buf.getvalue()


def backlog_figure(params: PopulationParams, results: Mapping[str, tuple[object, list[Digest]]]) -> Figure:
    """GB sites in each backlog state over the calendar (the terminal's GB figures), 95% bands,
    and a panel comparing the policies' steady-state backlog.

    The historic backlog clears in the first months in a wave that dwarfs what follows; the
    y axes are scaled to the steady part (after the warm-up, shaded) so that the regimes can
    be told apart, and the wave's peak, when cut, is written on the panel."""
    gb = params.gb_factor
    start = np.datetime64(dt.date.fromisoformat(params.epoch))
    dates = start + np.arange(params.days + 1).astype("timedelta64[D]")
    warm = 0  # the historic backlog comes from the lifecycle's own history: no wave to skip
    names = STATE_NAMES + ["total"]
    figure = new_figure(11, 18)
    # The six states two by two; the total and the regime comparison across the whole width.
    axes = figure.subplot_mosaic([[names[0], names[1]], [names[2], names[3]], [names[4], names[5]],
                                  [names[6], names[6]], ["steady", "steady"]],
                                 height_ratios=[1, 1, 1, 1.1, 1.25])
    steady: dict[str, list[Estimate]] = {}
    for label, (_, reps) in results.items():
        stack = np.array([r.backlog for r in reps], float) * gb
        series = list(stack.transpose(1, 0, 2)) + [stack.sum(axis=1)]
        colour = None
        for name, values in zip(names, series):
            ax = axes[name]
            mean, lo, hi = confidence(values)
            (line,) = ax.plot(dates, mean, label=label, linewidth=1.2, color=colour)
            colour = line.get_color()
            ax.fill_between(dates, lo, hi, color=colour, alpha=0.3, linewidth=0)
        per_rep = np.array([steady_backlog(r.site_days, warm) for r in reps]) * gb
        steady[label] = [estimate(per_rep[:, i]) for i in range(len(STATE_NAMES))] + [estimate(per_rep.sum(axis=1))]
    for name in names:
        ax = axes[name]
        _focus_on_steady_part(ax, warm, dates)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_ylabel("GB meters")
        ax.yaxis.set_major_formatter(thousands)
        ax.grid(color="#e5e5e5")
    # Placed, not "best": the first panel (waiting for WAN) has its lower half empty, and
    # matplotlib's search for the emptiest corner over years of daily points took over a
    # second on a busy 2-core machine (and warned of it).
    axes[names[0]].legend(title="MP121 regime (95% CI)", fontsize=8, title_fontsize=8, loc="lower right")
    _steady_panel(axes["steady"], steady, names, warm, params)
    figure.suptitle(f"Install-and-leave backlog in GB ({params.sites:,} modelled sites x {gb:,.1f}, "
                    f"{len(next(iter(results.values()))[1])} replications)", fontsize=12)
    return figure


def _focus_on_steady_part(ax: Axes, warm: int, dates: np.ndarray) -> None:
    """Shade the warm-up; scale y to the data after it; say how high the cut wave went."""
    ax.axvspan(dates[0], dates[min(warm, len(dates) - 1)], color="#f0f0f0", zorder=0, linewidth=0)
    peak, later = 0.0, 0.0
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), float)
        peak, later = max(peak, float(y.max())), max(later, float(y[warm:].max()) if y[warm:].size else 0.0)
    for band in ax.collections[1:]:  # the bands' upper edges after the warm-up
        for path in band.get_paths():
            xy = np.asarray(path.vertices, float)
            after_warmup = xy[:, 0] >= mdates.date2num(dates[min(warm, len(dates) - 1)])
            later = max(later, float(xy[after_warmup, 1].max(initial=0)))
    top = max(later * 1.25, 1.0)
    ax.set_ylim(0, top)
    if peak > top:
        ax.text(0.02, 0.95, f"early wave cut: peak {peak:,.0f}", transform=ax.transAxes, fontsize=7,
                va="top", color="#555555")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def _steady_panel(ax: Axes, steady: Mapping[str, list[Estimate]], names: list[str], warm: int,
                  params: PopulationParams) -> None:
    """Time-average GB backlog per state after the warm-up, one bar per regime, 95% CI whiskers."""
    width = 0.8 / max(len(steady), 1)
    x = np.arange(len(names))
    for k, (label, values) in enumerate(steady.items()):
        means = np.array([e.mean for e in values])
        err = np.array([[e.mean - e.lo for e in values], [e.hi - e.mean for e in values]])
        bars = ax.bar(x + (k - (len(steady) - 1) / 2) * width, means, width, yerr=err, capsize=3, label=label)
        ax.bar_label(bars, labels=[f"{m:,.0f}" for m in means], fontsize=6, padding=2, rotation=90)
    ax.set_xticks(x, ["\n".join(textwrap.wrap(n.replace("_", " "), 14)) for n in names])
    ax.set_ylabel("GB sites (time average)")
    ax.yaxis.set_major_formatter(thousands)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.2)
    start = dt.date.fromisoformat(params.epoch) + dt.timedelta(days=warm)
    ax.set_title(f"Mean backlog by regime, {start:%d %b %Y} to the end (95% CI)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", color="#e5e5e5")


def ttc_figure(results: Mapping[str, tuple[object, list[Digest]]]) -> Figure:
    """Share of the first-half install cohort commissioned within x days, per regime, 95% bands."""
    figure = new_figure(9, 4.8)
    ax = figure.add_subplot()
    qs = CURVE_QUANTILES
    for label, (_, reps) in results.items():
        per_rep = np.array([r.ttc_at(qs) for r in reps])
        mean, lo, hi = confidence(per_rep)
        (line,) = ax.plot(mean, qs * 100, label=label, linewidth=1.4)
        ax.fill_betweenx(qs * 100, lo, hi, color=line.get_color(), alpha=0.3, linewidth=0)
    for days in (90, 365):
        ax.axvline(days, color="#999999", linewidth=0.8, linestyle="--")
        ax.text(days, 2, f" {days} days", fontsize=7, color="#555555")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(thousands)
    ax.set_xlabel("days from installation to commissioning (log scale beyond 10 days)")
    ax.set_ylabel("% of the cohort commissioned")
    ax.set_ylim(0, 100)
    ax.grid(color="#e5e5e5")
    ax.legend(title="MP121 regime (95% CI)", fontsize=8, title_fontsize=8, loc="upper left")
    ax.set_title("Time to commission: sites installed in the run's first half", fontsize=10)
    return figure
