"""Population results as files: backlog CSV, time-to-commission CSV, summary JSON, PNG plots.

A run's files are staged and moved into the output folder together
(:class:`sim.output.OutputDir`): a failed or killed run leaves nothing half written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sim.lifecycle import BACKLOG_STATES, STRANDED
from sim.output import OutputDir
from sim.population.model import Replication
from sim.population.params import PopulationParams, as_dict
from sim.policies import Policy
from sim.population.stats import QUANTILES, confidence, estimate, ttc_quantile, within

STATE_NAMES = [s.name.lower() for s in BACKLOG_STATES]


def summarise(params: PopulationParams, policy: Policy, reps: list[Replication]) -> dict[str, object]:
    """Headline figures for one policy, GB-scaled, each ``{mean, lo, hi}`` across replications."""
    gb = params.gb_factor
    days = params.days
    rules = params.rules

    def est(values: list[float] | np.ndarray) -> dict[str, float | None]:
        return estimate(np.asarray(values, float)).as_dict()

    costs = {name: est([c[name] for c in (costs_of(params, policy, r) for r in reps)]) for name in COST_SOURCES}
    little = [littles_law(params, r) for r in reps]
    done_ttc = [np.mean(r.done_days - r.done_installed_days) if r.done_days.size else np.nan for r in reps]
    return {
        "label": policy.label(),
        "policy": policy.params(),
        "replications": len(reps),
        "by_year": [{"year": year,
                     "uncommissioned_gain_share": est([gain_share(params, r, year) for r in reps]),
                     "backlog_end": est([r.backlog[:, year_end(params, year)].sum() * gb for r in reps]),
                     "replacements": est([count_in_year(r.replaced_days, params, year) * gb for r in reps])}
                    for year in range(1, run_years(params) + 1)],
        "backlog_start": est([r.backlog[:, 0].sum() * gb for r in reps]),
        "end_backlog": {name: est([r.backlog[i, -1] * gb for r in reps]) for i, name in enumerate(STATE_NAMES)},
        "time_to_commission_days": {f"p{round(q * 100)}": est([ttc_quantile(r, q) for r in reps])
                                    for q in QUANTILES}
        | {"within_90_days": est([within(r, 90) for r in reps]),
           "mean_all_commissioned": est(done_ttc)},
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


def costs_of(params: PopulationParams, policy: Policy, rep: Replication) -> dict[str, float]:
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


def littles_law(params: PopulationParams, rep: Replication) -> dict[str, float]:
    """L = lambda W over the run, each side measured apart: L from the state intervals, W
    from install and commissioning times (historic meters from day 0, open ones to the end)."""
    days, gb = params.days, params.gb_factor
    entered = rep.in_backlog_days.size
    return {"mean_backlog": rep.site_days[:, -1].sum() / days * gb,
            "arrivals_per_day": entered / days * gb,
            "mean_days_in_backlog": float(rep.in_backlog_days.mean()) if entered else 0.0}


def run_years(params: PopulationParams) -> int:
    return int(np.ceil(params.days / 365.25 - 1e-9))


def year_end(params: PopulationParams, year: int) -> int:
    return min(params.days, int(round(year * 365.25)))


def count_in_year(days: np.ndarray, params: PopulationParams, year: int) -> int:
    return int(np.count_nonzero((days >= year_end(params, year - 1)) & (days < year_end(params, year))))


def gain_share(params: PopulationParams, rep: Replication, year: int) -> float:
    """Uncommissioned gains that year over all GB SMETS2 gains that year."""
    span = (year_end(params, year) - year_end(params, year - 1)) / 365.25
    return count_in_year(rep.gain_days, params, year) * params.gb_factor / params.gb_gains(year, span)


def paired(params: PopulationParams, results: Mapping[str, tuple[Policy, list[Replication]]]) -> list[dict]:
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


def write_outputs(out: Path, params: PopulationParams, seed: int,
                  results: Mapping[str, tuple[Policy, list[Replication]]]) -> dict[str, object]:
    """``results``: policy label -> (the policy run, its replications). Returns the summary."""
    summary = {
        "seed": seed,
        "params": as_dict(params),
        "gb_factor": params.gb_factor,
        "modelled": {"meters": params.sites, "history_run_meters": params.historic_sites},
        "policies": {label: summarise(params, policy, reps) for label, (policy, reps) in results.items()},
        "paired_differences": paired(params, results),
        "cost_sources": COST_SOURCES,
    }
    with OutputDir(out) as staged:
        staged.write("backlog.csv", _backlog_csv(params, results))
        staged.write("time_to_commission.csv", _ttc_csv(results))
        staged.write("summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
        _plots(staged, params, results)
    return summary


def _backlog_csv(params: PopulationParams, results: Mapping[str, tuple[object, list[Replication]]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["policy", "day", "state", "mean", "lo95", "hi95"])
    for label, (_, reps) in results.items():
        mean, lo, hi = confidence(np.array([r.backlog for r in reps]))
        for day in range(mean.shape[1]):
            for i, name in enumerate(STATE_NAMES):
                w.writerow([label, day, name, f"{mean[i, day]:.3f}", f"{lo[i, day]:.3f}", f"{hi[i, day]:.3f}"])
    return buf.getvalue()


def _ttc_csv(results: Mapping[str, tuple[object, list[Replication]]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["policy", "quantile", "days_mean", "days_lo95", "days_hi95"])
    for label, (_, reps) in results.items():
        for q in np.round(np.arange(0.05, 1.0, 0.05), 2).tolist() + [0.99]:
            e = estimate([ttc_quantile(r, q) for r in reps])
            w.writerow([label, q, *(f"{v:.3f}" for v in (e.mean, e.lo, e.hi))])
    return buf.getvalue()


def _plots(out: OutputDir, params: PopulationParams, results: Mapping[str, tuple[object, list[Replication]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = np.arange(params.days + 1) / 365.25
    fig, axes = plt.subplots(len(STATE_NAMES) + 1, 1, figsize=(8, 12), sharex=True)
    for label, (_, reps) in results.items():
        stack = np.array([r.backlog for r in reps], float)
        series = list(stack.transpose(1, 0, 2)) + [stack.sum(axis=1)]
        for ax, name, values in zip(axes, STATE_NAMES + ["total"], series):
            mean, lo, hi = confidence(values)
            (line,) = ax.plot(years, mean, label=label, linewidth=1)
            ax.fill_between(years, lo, hi, color=line.get_color(), alpha=0.25, linewidth=0)
            ax.set_ylabel(name.replace("_", " "), fontsize=8)
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"Install-and-leave backlog ({params.sites:,} modelled meters, 95% CI)")
    axes[-1].set_xlabel("years")
    _save(fig, out, "backlog.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    qs = np.linspace(0.01, 0.99, 99)
    for label, (_, reps) in results.items():
        per_rep = np.array([[ttc_quantile(r, q) for q in qs] for r in reps])
        mean, lo, hi = confidence(per_rep)
        (line,) = ax.plot(mean, qs, label=label)
        ax.fill_betweenx(qs, lo, hi, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("days from installation to commissioning")
    ax.set_ylabel("share commissioned")
    ax.legend(fontsize=8)
    ax.set_title("Time to commission (first-half install cohort, 95% CI)")
    _save(fig, out, "time_to_commission.png")


def _save(fig: object, out: OutputDir, name: str) -> None:
    import matplotlib.pyplot as plt

    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    out.write(name, png.getvalue())
