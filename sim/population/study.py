"""Many population runs at chosen parameter points: what calibration and sensitivity share.

A study is a base :class:`PopulationParams`, the regimes, a replication count and a seed.
A *point* is a set of dotted overrides (``install_and_leave_fraction``, ``rules.p_replace``,
``policy.reply_mean_wd`` ...). Every point runs with the same replication seeds (common
random numbers), so two points differ by their parameters, not by their luck, and the
same study gives the same figures bit for bit on one machine or on a Dask cluster (the
runner returns results in task order).

Each replication is reduced at once to a few named :data:`FIGURES` and appended, one
line each, to the study's ``evaluations.jsonl``: a killed study resumes from what that
file holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import yaml

from sim.api import regimes, split_overrides
from sim.output import OutputError, append, atomic_write, describe
from sim.policies import POLICIES, ParameterError, Policy
from sim.population.digest import Digest, digest_of
from sim.population.memory import check_sites
from sim.population.model import Replication
from sim.population.params import PopulationParams, as_dict, with_overrides
from sim.population.report import costs_of, gain_share
from sim.population.runner import Task, each_result, replication_seeds

Figure = Callable[[PopulationParams, Policy, Digest], float]


def _backlog_growth(p: PopulationParams, policy: Policy, r: Digest) -> float:
    start = float(r.backlog[:, 0].sum())
    return (float(r.backlog[:, -1].sum()) - start) / max(start, 1.0)


#: Scalars one replication is reduced to (GB-scaled): targets and sensitivity answers name them.
FIGURES: dict[str, Figure] = {
    "backlog_at_epoch": lambda p, policy, r: float(r.backlog[:, 0].sum()) * p.gb_factor,
    "uncommissioned_gain_share_y1": lambda p, policy, r: gain_share(p, r, 1),
    "backlog_growth": _backlog_growth,
    "uncommissioned_gains_per_large_supplier_y1":
        lambda p, policy, r: r.gains_by_year[0] * p.gb_factor * p.market.large.share,
    "backlog_end": lambda p, policy, r: float(r.backlog[:, -1].sum()) * p.gb_factor,
    "consumer_days_without_smart_service": lambda p, policy, r: float(r.site_days[:, -1].sum()) * p.gb_factor,
    "replacements": lambda p, policy, r: r.replaced * p.gb_factor,
    "total_cost_gbp": lambda p, policy, r: costs_of(p, policy, r)["total"],
}
FIGURE_NAMES = tuple(FIGURES)

#: The most runs one study (calibration or sensitivity) may plan, refused up front rather
#: than run for days.
MAX_RUNS = 1_000_000


class StudyError(ValueError):
    """A study that cannot run as asked: one line naming what and why."""


@dataclass(frozen=True)
class Range:
    """The interval an assumed parameter may take in a study."""

    key: str
    low: float
    high: float
    whole: bool = False

    def value(self, x: float) -> float | int:
        """``x`` as the parameter takes it (whole numbers rounded)."""
        return int(round(x)) if self.whole else float(x)


@cache
def assumed() -> dict[str, dict]:
    """``assumed.yaml``: every assumed parameter's range and whether it is fitted by default."""
    return yaml.safe_load(files("sim.population").joinpath("assumed.yaml").read_text(encoding="utf-8"))


def parse_ranges(specs: Sequence[str], default: Callable[[str, dict], bool]) -> list[Range]:
    """``NAME`` (its range from assumed.yaml) or ``NAME=LOW:HIGH``; none given: every
    assumed parameter ``default`` picks."""
    table = assumed()
    if not specs:
        specs = [key for key, entry in table.items() if default(key, entry)]
    ranges: list[Range] = []
    for spec in specs:
        key, sep, text = spec.partition("=")
        key = key.strip()
        entry = table.get(key, {})
        if sep:
            low_text, colon, high_text = text.partition(":")
            try:
                low, high = float(low_text), float(high_text)
            except ValueError:
                raise StudyError(f"--param {spec!r}: the range is not LOW:HIGH numbers") from None
            if not colon:
                raise StudyError(f"--param {spec!r}: the range is not LOW:HIGH")
        elif key in table:
            low, high = float(entry["low"]), float(entry["high"])
        else:
            raise StudyError(f"--param {key!r} is not an assumed parameter with a known range "
                             f"(give NAME=LOW:HIGH, or one of: {', '.join(table)})")
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise StudyError(f"--param {key}: range {low:g}:{high:g} is empty or not finite "
                             "(allowed: LOW < HIGH)")
        if key in (r.key for r in ranges):
            raise StudyError(f"--param {key} is given twice")
        ranges.append(Range(key, low, high, bool(entry.get("whole", False))))
    if not ranges:
        raise StudyError("no parameters to vary (give --param NAME or NAME=LOW:HIGH)")
    return ranges


@dataclass(frozen=True)
class Study:
    """The fixed part of a study: every point runs these regimes, replications and seed."""

    base: PopulationParams
    policies: tuple[str, ...]
    replications: int
    seed: int
    overrides: Mapping[str, object] = field(default_factory=dict)  # fixed --set values

    def at(self, point: Mapping[str, object]) -> tuple[PopulationParams, list[Policy]]:
        """The parameters and regimes at ``point`` (a :class:`ParameterError` if not allowed)."""
        model, policy = split_overrides({**self.overrides, **point})
        return with_overrides(self.base, model), regimes(self.policies, policy)

    def check(self, ranges: Sequence[Range]) -> None:
        """Every range's ends (and the middle) must be values the model accepts."""
        for r in ranges:
            for x in (r.low, r.high):
                try:
                    self.at({r.key: r.value(x)})
                except (ParameterError, TypeError, ValueError) as err:
                    raise StudyError(f"--param {r.key}={r.low:g}:{r.high:g}: {err}") from None

    def spec(self) -> dict[str, object]:
        """What decides every figure: two studies with the same spec share evaluations."""
        return {"base": as_dict(self.base), "policies": list(self.policies), "replications": self.replications,
                "seed": self.seed, "overrides": dict(self.overrides), "figures": list(FIGURE_NAMES)}

    def check_runs(self, points: int, fewer: str) -> None:
        """Refuse, before anything runs, a study of more than :data:`MAX_RUNS` runs
        (``points`` parameter points at most, each under every regime and replication)."""
        runs = points * len(self.policies) * self.replications
        if runs > MAX_RUNS:
            raise StudyError(f"{runs:,} runs: more than the {MAX_RUNS:,} a study may hold ({fewer})")

    def check_memory(self, workers: int, dask: bool) -> None:
        """Refuse, before anything runs, runs in flight that would not fit in memory (on a
        cluster each worker holds one)."""
        check_sites(self.base.sites, "numba", 1 if dask else max(1, workers))


def point_key(point: Mapping[str, object]) -> str:
    """A point's exact identity (floats by ``repr``, which round-trips)."""
    return json.dumps({k: point[k] for k in sorted(point)}, separators=(",", ":"))


class Evaluations:
    """``evaluations.jsonl``: the first line is the study's spec, then one line per
    replication run (point, regime, replication, figures). Lines are appended and flushed
    as runs finish; a line cut by a kill is dropped when the file is read back."""

    def __init__(self, path: Path, study: Study) -> None:
        self.path = path
        self.header = {"study": study.spec(), "format": 1}
        self.done: dict[tuple[str, str, int], list[float]] = {}
        try:
            if path.exists():
                self._read()
            else:  # whole or not at all: a header cut by a full disk would block the resume
                atomic_write(path, self._line(self.header), parents=True)
        except OSError as err:
            raise describe(path, err) from None

    def _read(self) -> None:
        lines = self.path.read_bytes().split(b"\n")
        try:
            header = json.loads(lines[0])
        except ValueError:
            header = None
        if header != json.loads(json.dumps(self.header, default=list)):
            raise OutputError(self.path, "it holds another study's evaluations (other targets, "
                              "parameters, regimes, seed or size); choose another --out or pass "
                              "--overwrite to start afresh")
        good = len(lines[0]) + 1
        for line in lines[1:]:
            try:
                record = json.loads(line)
                self.done[(record["point"], record["policy"], record["rep"])] = record["figures"]
            except (ValueError, KeyError, TypeError):
                break  # the tail a kill cut short: dropped, and run again
            good += len(line) + 1
        with open(self.path, "r+b") as handle:
            handle.truncate(min(good, self.path.stat().st_size))

    @staticmethod
    def _line(record: Mapping[str, object]) -> bytes:
        return json.dumps(record, separators=(",", ":"), default=list).encode() + b"\n"

    def add(self, point: str, policy: str, rep: int, figures: list[float]) -> None:
        self.done[(point, policy, rep)] = figures
        append(self.path, self._line({"point": point, "policy": policy, "rep": rep, "figures": figures}))

def evaluate(study: Study, points: Sequence[Mapping[str, object]], store: Evaluations | None = None,
             workers: int | None = None, dask_address: str | None = None,
             progress: bool = False) -> np.ndarray:
    """Figures at every point: an array (point, regime, replication, figure) in
    :data:`FIGURE_NAMES` order. Runs ``store`` already holds are not run again."""
    seeds = replication_seeds(study.seed, study.replications)
    out = np.empty((len(points), len(study.policies), study.replications, len(FIGURE_NAMES)))
    todo: dict[tuple[str, str, int], tuple[list[tuple[int, int, int]], Task]] = {}  # a run: where it goes, its task
    for i, point in enumerate(points):
        try:
            params, policies = study.at(point)
        except (ParameterError, TypeError, ValueError) as err:
            raise StudyError(f"parameter point {point_key(point)}: {err}") from None
        key = point_key(point)
        for j, policy in enumerate(policies):
            for k, seed in enumerate(seeds):
                run_id = (key, study.policies[j], k)
                saved = store.done.get(run_id) if store else None
                if saved is not None:
                    out[i, j, k] = saved
                elif run_id in todo:  # the same point twice in one batch: one run
                    todo[run_id][0].append((i, j, k))
                else:
                    todo[run_id] = ([(i, j, k)], Task(params, policy, seed))
    order = list(todo)

    def done(n: int, values: list[float]) -> None:
        run_id = order[n]
        for index in todo[run_id][0]:
            out[index] = values
        if store is not None:
            store.add(*run_id, values)

    each_result([todo[r][-1] for r in order], done, workers, dask_address, progress=progress, reduce=figures_of)
    return out


def figures_of(task: Task, rep: Replication) -> list[float]:
    """One replication's :data:`FIGURES`, in :data:`FIGURE_NAMES` order. The runner calls it
    where the replication ran, so a few numbers come back rather than the replication."""
    reduced = digest_of(task, rep)
    return [float(FIGURES[name](task.params, task.policy, reduced)) for name in FIGURE_NAMES]


def applies(policies: Sequence[str], key: str) -> bool:
    """A model parameter, or a ``policy.X`` that at least one of ``policies`` takes."""
    if not key.startswith("policy."):
        return True
    name = key.removeprefix("policy.")
    return any(name in cls().params() for cls, _ in (POLICIES[p] for p in policies if p in POLICIES))
