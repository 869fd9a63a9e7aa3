"""A sensitivity study's files: sensitivity.json, sensitivity.csv, the tornado plot and report.html."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.html import inline_svg
from sim.html import render as render_page
from sim.output import atomic_write
from sim.plotting import figure_bytes, new_figure, pounds, thousands
from sim.population.calibration_report import csv_text
from sim.population.sensitivity import importance


def write(out: Path, result: Mapping, plot_format: str = "png") -> None:
    figure = tornado(result)
    rows = [{"policy": policy, "answer": answer, "parameter": name} | indices
            for policy, by_answer in result["results"].items()
            for answer, by_param in by_answer.items()
            for name, indices in sorted(by_param.items(), key=lambda kv: -importance(result["method"], kv[1]))]
    atomic_write(out / "sensitivity.json", json.dumps(result, indent=2, sort_keys=True) + "\n")
    atomic_write(out / "sensitivity.csv", csv_text(rows))
    atomic_write(out / f"tornado.{plot_format}", figure_bytes(figure, plot_format))
    key = "mu_star" if result["method"] == "morris" else "ST"
    atomic_write(out / "report.html", render_page(
        "sensitivity.html", title=f"hansim sensitivity ({result['method']})", result=result, rows=rows, key=key,
        plot_format=plot_format, figure=inline_svg(figure, "tornado: parameters by influence")))


def tornado(result: Mapping) -> Figure:
    """One panel per answer (rows) and regime (columns): the parameters as horizontal bars,
    most influential on top. Morris: mu* with its 95% interval, blue where raising the
    parameter raises the answer on average (mu > 0), orange where it lowers it. Sobol:
    total-order ST (light) over first-order S1 (dark), with ST's 95% interval."""
    method, policies, answers = result["method"], result["policies"], result["answers"]
    dims = len(result["parameters"])
    figure = new_figure(4.2 * len(policies) + 1.5, (0.18 * dims + 1.2) * len(answers))
    axes = figure.subplots(len(answers), len(policies), squeeze=False)
    for col, policy in enumerate(policies):
        for row, answer in enumerate(answers):
            ax = axes[row][col]
            by_param = result["results"][policy][answer]
            names = sorted(by_param, key=lambda n: importance(method, by_param[n]))
            y = np.arange(len(names))
            if method == "morris":
                values = [by_param[n]["mu_star"] or 0.0 for n in names]
                err = [by_param[n]["mu_star_conf"] or 0.0 for n in names]
                colours = ["#2c7fb8" if (by_param[n]["mu"] or 0) >= 0 else "#e6550d" for n in names]
                ax.barh(y, values, xerr=err, color=colours, capsize=2, error_kw={"linewidth": 0.6})
                ax.xaxis.set_major_formatter(pounds if "gbp" in answer else thousands)
                ax.set_xlabel("mu* (mean |elementary effect| over the range)", fontsize=7)
            else:
                st = [by_param[n]["ST"] or 0.0 for n in names]
                ax.barh(y, st, xerr=[by_param[n]["ST_conf"] or 0.0 for n in names], color="#9ecae1",
                        capsize=2, error_kw={"linewidth": 0.6}, label="ST (total)")
                ax.barh(y, [by_param[n]["S1"] or 0.0 for n in names], height=0.45, color="#08519c",
                        label="S1 (first order)")
                ax.set_xlabel("share of the answer's variance", fontsize=7)
                if row == col == 0:
                    ax.legend(fontsize=6, loc="lower right")
            ax.set_yticks(y, names, fontsize=6)
            ax.tick_params(axis="x", labelsize=6)
            ax.set_title(f"{answer.replace('_', ' ')}\n{policy}", fontsize=8)
            ax.grid(axis="x", color="#e5e5e5")
    figure.suptitle(f"Sensitivity ({method}, {result['points']:,} points, {result['runs']:,} runs, "
                    f"{result['study']['sites']:,} sites): which assumed parameters move the answers", fontsize=10)
    return figure
