"""A calibration's files: calibration.json, parameters.csv, targets.csv, candidates.csv, the
plot and report.html (written beside the study's evaluations.jsonl)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.html import inline_svg
from sim.html import render as render_page
from sim.output import atomic_write
from sim.plotting import figure_bytes, new_figure, thousands
from sim.population.calibration import Calibration, point_rows, summary
from sim.population.study import Study


def write(out: Path, cal: Calibration, study: Study, plot_format: str = "png") -> dict[str, object]:
    """Every file of a finished calibration, each written whole; returns the summary."""
    result = summary(cal, study)
    figure = plot(cal, result)
    atomic_write(out / "calibration.json", json.dumps(result, indent=2, sort_keys=True) + "\n")
    atomic_write(out / "parameters.csv", csv_text(
        [{k: p[k] for k in ("name", "default", "fitted")}
         | {"interval_low": (p["interval"] or [None, None])[0], "interval_high": (p["interval"] or [None, None])[1],
            "range_low": p["range"][0], "range_high": p["range"][1], "source": p["source"]}
         for p in result["parameters"]]))  # type: ignore[attr-defined]
    atomic_write(out / "targets.csv", csv_text(
        [{k: t[k] for k in ("name", "figure", "policy", "kind", "value", "tolerance")}
         | {"fitted_mean": t["fitted"]["mean"], "fitted_lo95": t["fitted"]["lo"], "fitted_hi95": t["fitted"]["hi"],
            "met_fitted": t["met_fitted"], "fresh_seeds_mean": t["fitted_fresh_seeds"]["mean"],
            "fresh_seeds_lo95": t["fitted_fresh_seeds"]["lo"], "fresh_seeds_hi95": t["fitted_fresh_seeds"]["hi"],
            "default_mean": t["default"]["mean"], "met_default": t["met_default"],
            "source": t["source"]}
         for t in result["targets"]]))  # type: ignore[attr-defined]
    atomic_write(out / "candidates.csv", csv_text(point_rows(cal)))
    atomic_write(out / f"calibration.{plot_format}", figure_bytes(figure, plot_format))
    atomic_write(out / "report.html", render_page(
        "calibration.html", title="hansim calibrate", result=result, plot_format=plot_format,
        figure=inline_svg(figure, "calibration: targets and parameters")))
    return result


def csv_text(rows: Sequence[Mapping[str, object]]) -> str:
    buf = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def plot(cal: Calibration, result: Mapping) -> Figure:
    """Top: each target's band and the figure at the defaults and the fit (95% CI across
    replications). Bottom: each parameter's evaluated values against the objective, the
    candidates meeting every target in green, the fit starred, the acceptance range shaded."""
    targets, params = result["targets"], result["parameters"]
    cols = max(len(targets), len(params))
    figure = new_figure(3.2 * cols, 6.4)
    axes = figure.subplots(2, cols, squeeze=False)
    for ax, t in zip(axes[0], targets):
        lo, hi = (t["value"] - t["tolerance"], t["value"] + t["tolerance"]) if t["kind"] == "about" else \
            ((t["value"], None) if t["kind"] == "at_least" else (None, t["value"]))
        shown = (("default", t["default"]), ("fitted", t["fitted"]), ("fresh", t["fitted_fresh_seeds"]))
        for y, (name, e) in enumerate(shown):
            colour = {"default": "#999999", "fitted": "#2c7fb8", "fresh": "#7fcdbb"}[name]
            ax.errorbar([e["mean"]], [y], xerr=[[e["mean"] - e["lo"]], [e["hi"] - e["mean"]]], fmt="o",
                        color=colour, capsize=3)
        ax.axvline(t["value"], color="#cb181d", linewidth=1)
        left, right = ax.get_xlim()
        ax.axvspan(lo if lo is not None else left, hi if hi is not None else right, color="#fcbba1", alpha=0.5,
                   zorder=0)
        ax.set_yticks([0, 1, 2], ["defaults", "fitted", "fitted,\nfresh seeds"])
        ax.set_ylim(-0.7, 2.7)
        ax.set_title(f"{t['name'].replace('_', ' ')}\n{t['kind'].replace('_', ' ')} {t['value']:,.4g} "
                     f"({t['policy']})", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if abs(t["value"]) >= 10:
            ax.xaxis.set_major_formatter(thousands)
        ax.tick_params(labelsize=7)
    objective = np.array([c.objective for c in cal.candidates])
    met = np.array([c.met for c in cal.candidates])
    for ax, p in zip(axes[1], params):
        x = np.array([c.values[p["name"]] for c in cal.candidates], float)
        ax.scatter(x[~met], objective[~met] + 1e-3, s=8, color="#999999", label="misses a target")
        ax.scatter(x[met], objective[met] + 1e-3, s=10, color="#31a354", label="meets every target")
        ax.scatter([p["fitted"]], [cal.best.objective + 1e-3], marker="*", s=120, color="#2c7fb8", label="fit")
        if p["interval"]:
            ax.axvspan(*p["interval"], color="#c7e9c0", alpha=0.5, zorder=0)
        ax.axvline(p["default"], color="#636363", linestyle="--", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xlim(*p["range"])
        ax.set_xlabel(p["name"], fontsize=8)
        ax.tick_params(labelsize=7)
    axes[1][0].set_ylabel("objective (sum of squared misses) + 0.001", fontsize=8)
    axes[1][0].legend(fontsize=6)
    for row, used in ((axes[0], len(targets)), (axes[1], len(params))):
        for ax in row[used:]:
            ax.set_visible(False)
    verdict = "every target met" if result["sound"] else "NOT every target met"
    figure.suptitle(f"Calibration to the seeds' figures: {verdict} at the fit; "
                    f"{result['accepted']} of {result['candidates']} candidates meet every target", fontsize=10)
    return figure
