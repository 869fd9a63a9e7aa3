"""``report.html`` for a backlog run: the figures, every headline figure per regime with its
95% interval, and every parameter with its value and source, in one page.

The tables are read from the run's ``summary.json`` as it is, walking whatever it holds:
a figure the model adds to the summary shows up here without a change to this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.resources import files

import yaml
from matplotlib.figure import Figure

from sim.html import inline_svg
from sim.html import render as render_page
from sim.plotting import pounds, thousands
from sim.population.figures import label, policy_figures

UNRECORDED = "source not recorded"


def sources() -> dict[str, str]:
    """Parameter (dotted ``--set`` name, ``policy.X`` for a policy's) -> where its default comes from."""
    return yaml.safe_load(files("sim.population").joinpath("sources.yaml").read_text(encoding="utf-8"))


def render(summary: Mapping, figures: Mapping[str, Figure], plot_format: str) -> str:
    labels = list(summary["policies"])
    metrics: dict[str, dict[str, str]] = {}
    for name, result in summary["policies"].items():
        for path, value in policy_figures(result):
            text = _estimate(value, path) if isinstance(value, Mapping) else _value(value, path)
            metrics.setdefault(label(path), {})[name] = text
    known = sources()
    params = [(key, _value(value), known.get(key, UNRECORDED)) for key, value in _flat(summary["params"], ())]
    policy_params = {label: [(key, _value(value), known.get(f"policy.{key}", UNRECORDED))
                             for key, value in _flat(result["policy"], ())]
                     for label, result in summary["policies"].items()}
    first = summary["policies"][labels[0]]
    return render_page(
        "backlog.html", title=f"hansim backlog: {', '.join(labels)}", summary=summary, labels=labels,
        replications=first.get("replications"), metrics=metrics, params=params, policy_params=policy_params,
        figures={name: inline_svg(fig, name.replace("_", " ")) for name, fig in figures.items()},
        plot_format=plot_format)


def _flat(tree: object, path: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    """Dotted keys and leaf values of a nested mapping (lists are leaves)."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from _flat(value, (*path, str(key)))
    else:
        yield ".".join(path), tree


def _estimate(e: Mapping, path: tuple[str, ...]) -> str:
    mean, lo, hi = (_value(e[k], path) for k in ("mean", "lo", "hi"))
    return mean if lo == hi == mean else f"{mean} [{lo}, {hi}]"


def _value(value: object, path: tuple[str, ...] = ()) -> str:
    """Numbers as a report prints them: thousands separators, £ for money, 3 significant
    figures below 100; None (an infinite or undefined figure) as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ", ".join(_value(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if any("gbp" in p or "cost" in p for p in path):
        return pounds(value)
    if abs(value) >= 100 or abs(value) < 1e-6 or float(value).is_integer():
        return thousands(round(value))
    return f"{value:.3g}"
