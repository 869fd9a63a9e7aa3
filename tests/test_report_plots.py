"""Report-grade plots: GB figures as the terminal prints them, a legend entry for every
marker and colour drawn, markers on their own site's row, SVG on request, byte for byte."""

from __future__ import annotations

import numpy as np
from _population_support import replications, small
from matplotlib.collections import PathCollection

from sim.plotting import figure_bytes, pounds
from sim.policies import make_policy
from sim.population.digest import digest
from sim.population.report import backlog_figure, summarise, ttc_figure
from sim.replay import report
from sim.replay.scenario import bundled, load_scenario
from sim.replay.story import replay


def _scenario(name: str):
    return load_scenario(next(p for p in bundled() if p.stem == name))


def test_backlog_plot_is_gb_scaled_and_its_comparison_panel_matches_the_summary() -> None:
    params = small(cos_hazard=0.3, sites=1500)
    assert params.gb_factor > 10  # GB figures differ from modelled ones
    results = {name: (make_policy(name), [digest(params, r) for r in replications(params, name, reps=3)])
               for name in ("none", "email-10wd")}
    figure = backlog_figure(params, results)
    steady = next(ax for ax in figure.axes if ax.get_title().startswith("Mean backlog"))
    bars = [p.get_height() for p in steady.patches]
    for k, label in enumerate(results):
        summary = summarise(params, results[label][0], results[label][1])
        mean = summary["littles_law"]["mean_backlog"]["mean"]  # the run's time-average, GB
        assert np.isclose(bars[(k + 1) * 7 - 1], mean)  # the "total" bar
    total = next(ax for ax in figure.axes if ax.get_title() == "total")
    assert total.get_ylabel() == "GB meters" and len(total.collections) >= 2  # a band per regime
    assert all(c.get_alpha() >= 0.3 for c in total.collections[1:])  # visible, not a hint
    legend_texts = {t.get_text() for ax in figure.axes if ax.get_legend() for t in ax.get_legend().get_texts()}
    assert {"none", "email-10wd"} <= legend_texts
    assert "days" in ttc_figure(results).axes[0].get_xlabel()
    figure.canvas.draw()  # the state names under the comparison panel do not run into each other
    boxes = [t.get_window_extent() for t in steady.get_xticklabels()]
    assert len(boxes) == 7 and all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))


def test_replay_timeline_legends_every_marker_and_puts_it_on_its_site_row() -> None:
    result = replay(_scenario("igt-gas-new-build"))  # two sites: the GSME's, then the ESME's
    figure = report.timeline_figure(result)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["site 1", "site 2"]
    assert "date" in ax.get_xlabel()
    labels = {t.get_text() for t in figure.legends[0].get_texts()}
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(markers) == len([m for m in report.MARKS if m.label in labels]) >= 2
    joined = next(m for m in report.MARKS if m.match == ("8F49",))
    offsets = [c for c, m in zip(markers, [m for m in report.MARKS if m.label in labels]) if m is joined][0]
    rows = sorted(round(y) for _, y in offsets.get_offsets())
    assert rows == [0, 1]  # one 0x8F49 on each site's row: each join on its own site


def test_svg_on_request_is_byte_identical_for_the_same_replay() -> None:
    result = replay(_scenario("reactive-wan"))
    first, second = (report.files(result, [], "svg") for _ in range(2))
    assert first["timeline.svg"] == second["timeline.svg"] and first["timeline.svg"].lstrip().startswith(b"<?xml")
    assert "timeline.png" not in first
    assert first["report.html"] == second["report.html"]
    assert figure_bytes(report.timeline_figure(result)).startswith(b"\x89PNG")


def test_pounds_are_formatted_as_a_report_writes_them() -> None:
    assert [pounds(v) for v in (250, 12_500, 300_000, 1_234_567, 2.5e9)] == \
        ["£250", "£12.5k", "£300k", "£1.23m", "£2.5bn"]
