"""Fitting the assumed parameters to the seeds' figures (``hansim calibrate``).

The fit is scipy's differential evolution (a global, derivative-free optimiser: the
model's figures are step functions of the parameters, so gradients say nothing) over
the parameters' ranges, minimising the sum of squared standardised misses of the
targets (``targets.yaml``: each seed figure with its source and tolerance). Simulation
noise is held still by common random numbers: every candidate runs with the same
replication seeds, so the objective is a fixed function of the parameters and the
optimiser (seeded too) follows the same path every time. That is also how a killed
calibration resumes: it replays the path, and every run already in
``evaluations.jsonl`` is read instead of run.

Intervals are acceptance ranges (ABC rejection on the optimiser's own evaluations):
for each parameter, the lowest and highest value among the evaluated candidates that met
*every* target. They say how tightly the seeds pin a parameter, not a sampling error.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path

import numpy as np
from scipy.optimize import differential_evolution

from sim.policies import POLICIES
from sim.population.pool import kept_workers
from sim.population.stats import estimate
from sim.population.study import FIGURE_NAMES, Evaluations, Range, Study, StudyError, evaluate
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

KINDS = ("about", "at_least", "at_most")
TARGET_KEYS = {"figure", "policy", "kind", "value", "tolerance", "source"}
DEFAULT_TARGETS = "targets.yaml"


@dataclass(frozen=True)
class Target:
    """One seed figure: ``figure`` under ``policy`` is ``about``/``at_least``/``at_most`` ``value``."""

    name: str
    figure: str
    policy: str
    kind: str
    value: float
    tolerance: float
    source: str

    def miss(self, x: float) -> float:
        """Standardised miss: 0 when an inequality holds, else the distance in tolerances."""
        gap = x - self.value
        if self.kind == "at_least":
            gap = min(gap, 0.0)
        elif self.kind == "at_most":
            gap = max(gap, 0.0)
        return gap / self.tolerance

    def met(self, x: float) -> bool:
        return abs(self.miss(x)) <= (1.0 if self.kind == "about" else 0.0)

    def bounds(self) -> tuple[float, float]:
        """The values of the figure that meet this target."""
        if self.kind == "about":
            return self.value - self.tolerance, self.value + self.tolerance
        return (self.value, math.inf) if self.kind == "at_least" else (-math.inf, self.value)


def load_targets(path: Path | None = None) -> list[Target]:
    """The targets of ``path`` (default: the bundled seeds' targets), checked whole."""
    if path is None:
        text = files("sim.population").joinpath(DEFAULT_TARGETS).read_text(encoding="utf-8")
        doc = load_yaml(DEFAULT_TARGETS, text)
    else:
        try:
            doc = load_yaml(path)
        except InputFileError as err:
            raise StudyError(str(err)) from None
    if not isinstance(doc.data, dict) or not doc.data:
        raise StudyError(f"{doc.file}: no targets (allowed: a mapping of target name: "
                         "{figure, policy, kind, value, tolerance, source})")
    targets = [_target(doc, str(name), entry) for name, entry in doc.data.items()]
    _consistent(targets)
    return targets


def _target(doc: YamlDocument, name: str, entry: object) -> Target:
    def fail(key: str | None, message: str) -> StudyError:
        return StudyError(str(doc.error((name,) if key is None else (name, key), message)))

    if not isinstance(entry, dict):
        raise fail(None, "must be a mapping with " + ", ".join(sorted(TARGET_KEYS)))
    missing = sorted(TARGET_KEYS - set(entry) - {"source"})
    if missing:
        raise fail(None, f"missing {missing[0]!r} (needs {', '.join(sorted(TARGET_KEYS))})")
    unknown = sorted(set(entry) - TARGET_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(TARGET_KEYS))})")
    for key, allowed in (("figure", FIGURE_NAMES), ("policy", tuple(POLICIES)), ("kind", KINDS)):
        if not isinstance(entry[key], str) or entry[key] not in allowed:  # a list or mapping is not a name
            raise fail(key, f"{entry[key]!r:.80} is not a {key} (allowed: {', '.join(allowed)})")
    for key in ("value", "tolerance"):
        v = entry[key]
        if (isinstance(v, bool) or not isinstance(v, (int, float))
                or not abs(v) <= sys.float_info.max):  # NaN, infinity, an integer with 400 digits
            raise fail(key, f"{v!r:.80} is not a finite number")
    if entry["tolerance"] <= 0:
        raise fail("tolerance", f"{entry['tolerance']!r} is not above 0 (allowed: > 0)")
    return Target(name, entry["figure"], entry["policy"], entry["kind"], float(entry["value"]),
                  float(entry["tolerance"]), str(entry.get("source", "")))


def _consistent(targets: Sequence[Target]) -> None:
    """Targets on the same figure and regime must leave some value that meets them all."""
    for i, a in enumerate(targets):
        for b in targets[i + 1:]:
            if (a.figure, a.policy) != (b.figure, b.policy):
                continue
            (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
            if max(alo, blo) > min(ahi, bhi):
                raise StudyError(f"targets {a.name!r} and {b.name!r} cannot both hold: {a.figure} under "
                                 f"{a.policy} {a.kind} {a.value:g} and {b.kind} {b.value:g}")


@dataclass
class Candidate:
    """One evaluated parameter point: values, objective and each target's mean figure."""

    values: dict[str, float | int]
    objective: float
    figures: list[float]
    met: bool


@dataclass
class Calibration:
    """What a calibration found (see :func:`summary` for its JSON form)."""

    ranges: list[Range]
    targets: list[Target]
    defaults: dict[str, float | int]
    best: Candidate
    at_default: np.ndarray  # (regime, replication, figure) at the defaults
    at_best: np.ndarray
    at_best_fresh: np.ndarray  # at the fit, with replication seeds the fit never saw
    candidates: list[Candidate]
    generations: int
    converged: bool

    def interval(self, r: Range) -> tuple[float, float] | None:
        accepted = [c.values[r.key] for c in self.candidates if c.met]
        return (min(accepted), max(accepted)) if accepted else None

    @property
    def accepted(self) -> int:
        return sum(c.met for c in self.candidates)

    def fresh_ok(self, study: Study) -> bool:
        """Every target's 95% interval with fresh seeds reaches the values that meet it."""
        for t in self.targets:
            e = estimate(self.at_best_fresh[study.policies.index(t.policy), :, FIGURE_NAMES.index(t.figure)])
            low, high = t.bounds()
            if e.hi < low or e.lo > high:
                return False
        return True


def default_values(study: Study, ranges: Sequence[Range]) -> dict[str, float | int]:
    """Each parameter's value in the study's base (with its fixed overrides)."""
    params, policies = study.at({})
    values: dict[str, float | int] = {}
    for r in ranges:
        group, _, name = r.key.partition(".")
        if group == "policy":
            taken = [p.params()[name] for p in policies if name in p.params()]
            values[r.key] = r.value(float(taken[0]))  # type: ignore[arg-type]
            continue
        node: object = params
        for part in r.key.split("."):
            node = getattr(node, part)
        values[r.key] = node  # type: ignore[assignment]
    return values


def calibrate(study: Study, ranges: Sequence[Range], targets: Sequence[Target], store: Evaluations | None,
              generations: int = 10, popsize: int = 5, workers: int | None = None,
              dask_address: str | None = None, progress: bool = False,
              report: Callable[[str], None] | None = None) -> Calibration:
    """Fit ``ranges``' parameters to ``targets`` by differential evolution (seeded, CRN)."""
    index = {(t.figure, t.policy): (study.policies.index(t.policy), FIGURE_NAMES.index(t.figure))
             for t in targets}
    candidates: list[Candidate] = []

    def score(runs: np.ndarray) -> tuple[float, list[float], bool]:
        means = [float(runs[index[t.figure, t.policy][0], :, index[t.figure, t.policy][1]].mean())
                 for t in targets]
        objective = float(sum(t.miss(x) ** 2 for t, x in zip(targets, means)))
        return objective, means, all(t.met(x) for t, x in zip(targets, means))

    def objective(x: np.ndarray) -> np.ndarray:
        x = x.reshape(len(ranges), -1)
        points = [{r.key: r.value(x[i, s]) for i, r in enumerate(ranges)} for s in range(x.shape[1])]
        figures = evaluate(study, points, store, workers, dask_address, progress)
        out = np.empty(len(points))
        for s, point in enumerate(points):
            out[s], means, met = score(figures[s])
            candidates.append(Candidate(point, out[s], means, met))
        return out

    generation = 0

    def step(intermediate_result: object) -> None:
        nonlocal generation
        generation += 1
        if report:
            best = min(candidates, key=lambda c: c.objective)
            report(f"generation {generation}/{generations}: best objective {best.objective:.4g} "
                   f"({sum(c.met for c in candidates)} of {len(candidates)} candidates meet every target)")

    with kept_workers():  # one set of warm workers for every generation
        result = differential_evolution(
            objective, [(r.low, r.high) for r in ranges], maxiter=generations, popsize=popsize,
            seed=study.seed, init="latinhypercube", polish=False, vectorized=True, updating="deferred",
            integrality=[r.whole for r in ranges], callback=step, tol=0.0, atol=1e-6)
        best = min(candidates, key=lambda c: c.objective)
        at_default, at_best = evaluate(study, [{}, best.values], store, workers, dask_address, progress)
        fresh = replace(study, seed=study.seed + 1)  # out of sample: has the fit learnt the seeds' luck?
        (at_best_fresh,) = evaluate(fresh, [best.values], None, workers, dask_address, progress)
    defaults = default_values(study, ranges)
    return Calibration(list(ranges), list(targets), defaults, best, at_default, at_best, at_best_fresh,
                       candidates, generation, bool(result.success))


def summary(cal: Calibration, study: Study) -> dict[str, object]:
    """``calibration.json``: fitted values with acceptance ranges, and the fit to each target."""
    from sim.population.html_report import sources

    known = sources()
    params = []
    for r in cal.ranges:
        interval = cal.interval(r)
        params.append({"name": r.key, "default": cal.defaults[r.key], "fitted": cal.best.values[r.key],
                       "interval": list(interval) if interval else None, "range": [r.low, r.high],
                       "whole": r.whole, "source": known.get(r.key, "")})
    rows = []
    for t in cal.targets:
        j, f = study.policies.index(t.policy), FIGURE_NAMES.index(t.figure)
        fitted = estimate(cal.at_best[j, :, f])
        default = estimate(cal.at_default[j, :, f])
        fresh = estimate(cal.at_best_fresh[j, :, f])
        rows.append({"name": t.name, "figure": t.figure, "policy": t.policy, "kind": t.kind, "value": t.value,
                     "tolerance": t.tolerance, "source": t.source, "fitted": fitted.as_dict(),
                     "default": default.as_dict(), "fitted_fresh_seeds": fresh.as_dict(),
                     "miss_fitted": t.miss(fitted.mean),
                     "miss_default": t.miss(default.mean), "met_fitted": t.met(fitted.mean),
                     "met_default": t.met(default.mean)})
    return {"parameters": params, "targets": rows, "objective": cal.best.objective,
            "objective_at_default": float(sum(r["miss_default"] ** 2 for r in rows)),  # type: ignore[operator]
            "sound": cal.best.met and cal.fresh_ok(study), "met_at_fit": cal.best.met,
            "fresh_seeds_agree": cal.fresh_ok(study), "candidates": len(cal.candidates), "accepted": cal.accepted,
            "generations": cal.generations, "converged": cal.converged,
            "study": {"sites": study.base.sites, "years": study.base.years, "replications": study.replications,
                      "seed": study.seed, "policies": list(study.policies), "fixed": dict(study.overrides)},
            "method": "scipy.optimize.differential_evolution (latin hypercube start, seeded, common "
                      "random numbers); intervals: acceptance ranges over the evaluated candidates "
                      "that met every target; sound: every target met at the fit, and every target's "
                      "95% interval at the fit with fresh seeds (seed + 1) reaching its band"}


def point_rows(cal: Calibration) -> list[Mapping[str, object]]:
    """Every evaluated candidate, for the CSV and the plot."""
    return [c.values | {"objective": c.objective, "meets_every_target": c.met}
            | {t.name: x for t, x in zip(cal.targets, c.figures)} for c in cal.candidates]
