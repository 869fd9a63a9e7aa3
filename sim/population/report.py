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

from sim.lifecycle import BACKLOG_STATES
from sim.output import OutputDir
from sim.population.model import Replication
from sim.population.params import PopulationParams, as_dict
from sim.population.stats import QUANTILES, confidence, estimate, steady_backlog, ttc_quantile, within

STATE_NAMES = [s.name.lower() for s in BACKLOG_STATES]


def summarise(params: PopulationParams, policy_params: Mapping[str, object],
              reps: list[Replication]) -> dict[str, object]:
    """Headline figures for one policy: modelled sites and the same scaled to GB."""
    warm = params.warmup_days
    steady = np.array([steady_backlog(r, warm) for r in reps])
    gb = params.gb_factor

    def both(values: list[float] | np.ndarray) -> dict[str, object]:
        e = estimate(values)
        return {"modelled": e.as_dict(), "gb": estimate(np.asarray(values) * gb).as_dict()}

    return {
        "policy": dict(policy_params),
        "replications": len(reps),
        "steady_backlog_from_day": warm,
        "steady_backlog": {name: both(steady[:, i]) for i, name in enumerate(STATE_NAMES)}
        | {"total": both(steady.sum(axis=1))},
        "end_backlog": {name: both([r.backlog[i, -1] for r in reps]) for i, name in enumerate(STATE_NAMES)},
        "time_to_commission_days": {f"p{round(q * 100)}": estimate([ttc_quantile(r, q) for r in reps]).as_dict()
                                    for q in QUANTILES}
        | {"within_90_days": estimate([within(r, 90) for r in reps]).as_dict()},
        "replacements": both([r.replaced for r in reps]),
        "replacement_cost_gbp": both([r.replacement_cost for r in reps]),
        "consumer_days_without_smart_service": both([r.site_days[:, -1].sum() for r in reps]),
        "commissioned": both([r.commissioned for r in reps]),
        "events": int(sum(r.events for r in reps)),
    }


def write_outputs(out: Path, params: PopulationParams, seed: int,
                  results: Mapping[str, tuple[Mapping[str, object], list[Replication]]],
                  overwrite: bool = False) -> dict[str, object]:
    """``results``: policy label -> (its parameters, its replications). Returns the summary."""
    summary = {
        "seed": seed,
        "params": as_dict(params),
        "gb_factor": params.gb_factor,
        "modelled": {"sites": params.sites, "historic": params.historic_sites},
        "policies": {label: summarise(params, pp, reps) for label, (pp, reps) in results.items()},
    }
    with OutputDir(out, overwrite) as staged:
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
    axes[0].set_title(f"Install-and-leave backlog ({params.sites:,} modelled sites, 95% CI)")
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
