"""Global sensitivity of the answers to every assumed parameter (``hansim sensitivity``), with SALib.

Two methods, both SALib's samplers and estimators:

- **Morris** (default): elementary effects along ``r`` one-at-a-time trajectories,
  ``r (D + 1)`` points. With the ~30 assumed parameters of this model and a run costing
  seconds, it ranks them (``mu_star``: mean absolute effect over the range, in the
  answer's unit; ``sigma``: interactions and non-linearity) for about a tenth of Sobol's
  cost: the screening question ("which assumptions move the answer?").
- **Sobol** (``--method sobol``): Saltelli/Sobol' sequences, ``N (D + 2)`` points, first-
  and total-order variance shares (``S1``, ``ST``) with bootstrap intervals: the
  quantitative question, once Morris has cut the list down.

Every point runs with the same replication seeds (common random numbers): the indices
measure the parameters, not the luck of the draws. The answers are read per regime:
consumer-days without smart service, replacements and total cost (GB).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.population.study import FIGURE_NAMES, Evaluations, Range, Study, StudyError, evaluate

METHODS = ("morris", "sobol")
ANSWERS = ("consumer_days_without_smart_service", "replacements", "total_cost_gbp")
LEVELS = 4  # Morris grid levels (SALib's default, Campolongo et al.'s choice)


def problem(ranges: Sequence[Range]) -> dict[str, Any]:
    """SALib's problem definition for ``ranges``."""
    return {"num_vars": len(ranges), "names": [r.key for r in ranges], "bounds": [[r.low, r.high] for r in ranges]}


def runs_needed(method: str, dims: int, samples: int) -> int:
    """Parameter points the method evaluates: r (D+1) for Morris, N (D+2) for Sobol."""
    return samples * (dims + 1) if method == "morris" else samples * (dims + 2)


def check(method: str, samples: int) -> None:
    """Refuse, before anything runs, a method or sample count the sampler cannot take."""
    if method not in METHODS:
        raise StudyError(f"method {method!r} is unknown (allowed: {', '.join(METHODS)})")
    if method == "sobol" and samples & (samples - 1):
        raise StudyError(f"--samples {samples} for sobol is not a power of 2 (Sobol' sequences "
                         "balance only at powers of 2: 8, 16, 32, ...)")


def sample(method: str, ranges: Sequence[Range], samples: int, seed: int) -> np.ndarray:
    """The points to run, one row each, in the parameters' own units."""
    check(method, samples)
    spec = problem(ranges)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(spec, N=samples, num_levels=LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(spec, N=samples, calc_second_order=False, scramble=True, seed=seed)


def analyse(method: str, ranges: Sequence[Range], x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, dict]:
    """Indices per parameter: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma`` (Morris) or
    ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (Sobol)."""
    spec = problem(ranges)
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(spec, x, y, num_levels=LEVELS, seed=seed, print_to_console=False)
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        from SALib.analyze import sobol

        res = sobol.analyze(spec, y, calc_second_order=False, seed=seed, print_to_console=False)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    return {r.key: {k: _number(res[k][i]) for k in keys} for i, r in enumerate(ranges)}


def _number(x: object) -> float | None:
    value = float(x)  # type: ignore[arg-type]
    return value if np.isfinite(value) else None


def points_of(ranges: Sequence[Range], x: np.ndarray) -> list[dict[str, float | int]]:
    return [{r.key: r.value(row[i]) for i, r in enumerate(ranges)} for row in x]


def run(study: Study, ranges: Sequence[Range], method: str, samples: int, store: Evaluations | None,
        workers: int | None = None, dask_address: str | None = None, progress: bool = False,
        report: Callable[[str], None] | None = None) -> dict[str, object]:
    """Sample, run every point, analyse each answer under each regime."""
    x = sample(method, ranges, samples, study.seed)
    if report:
        report(f"{method}: {len(x):,} parameter points x {len(study.policies)} regimes x "
               f"{study.replications} replications = {len(x) * len(study.policies) * study.replications:,} runs")
    figures = evaluate(study, points_of(ranges, x), store, workers, dask_address, progress).mean(axis=2)
    results: dict[str, dict[str, dict]] = {}
    for j, policy in enumerate(study.policies):
        results[policy] = {}
        for answer in ANSWERS:
            y = figures[:, j, FIGURE_NAMES.index(answer)]
            if np.ptp(y) == 0:  # nothing moved it: every index is 0, SALib would divide by 0
                zero = dict.fromkeys(("mu", "mu_star", "mu_star_conf", "sigma") if method == "morris"
                                     else ("S1", "S1_conf", "ST", "ST_conf"), 0.0)
                results[policy][answer] = {r.key: dict(zero) for r in ranges}
            else:
                results[policy][answer] = analyse(method, ranges, x, y, study.seed)
    return {"method": method, "samples": samples, "points": len(x),
            "runs": len(x) * len(study.policies) * study.replications,
            "parameters": [{"name": r.key, "low": r.low, "high": r.high, "whole": r.whole} for r in ranges],
            "answers": list(ANSWERS), "policies": list(study.policies), "results": results,
            "answer_range": {p: {a: [float(figures[:, j, FIGURE_NAMES.index(a)].min()),
                                     float(figures[:, j, FIGURE_NAMES.index(a)].max())] for a in ANSWERS}
                             for j, p in enumerate(study.policies)},
            "study": {"sites": study.base.sites, "years": study.base.years, "replications": study.replications,
                      "seed": study.seed, "fixed": dict(study.overrides)}}


def importance(method: str, indices: Mapping[str, float | None]) -> float:
    """The index a tornado sorts by: ``mu_star`` (Morris) or ``ST`` (Sobol)."""
    return float(indices["mu_star" if method == "morris" else "ST"] or 0.0)
