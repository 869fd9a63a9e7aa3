"""hansim from Python (a notebook, a script): a backlog comparison, a replay and a re-flash
study in one call each, results as objects with pandas DataFrames and matplotlib figures.

Each function runs the same code as its command (``hansim backlog``, ``hansim replay``,
``hansim reflash``) and each result's ``write(folder)`` writes the same files, so what a
notebook shows and what the CLI writes agree. pandas is an optional extra
(``pip install 'hansim[analysis]'``); without it the runs work and the DataFrame
properties say what to install. Bad input raises ``ValueError`` (``ParameterError``,
``InputFileError``) with the message the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is optional: imported when a DataFrame is asked for
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.mp155.model import StockRun
    from sim.policies import Policy
    from sim.population.digest import Digest
    from sim.population.model import Replication
    from sim.population.params import PopulationParams
    from sim.replay.report import Check
    from sim.replay.story import Replay

__all__ = ["BacklogResult", "ReflashResult", "ReplayResult", "backlog", "kept_workers", "reflash", "replay"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("hansim's DataFrames need pandas: pip install 'hansim[analysis]'") from None
    return pandas


def _frame(records: Iterable[Mapping[str, Any]], columns: Iterable[str] | None = None) -> pd.DataFrame:
    return _pandas().DataFrame.from_records(list(records), columns=list(columns) if columns else None)


# -- backlog ------------------------------------------------------------------------------
@dataclass
class BacklogResult:
    """A backlog comparison: the parameters, the replications per regime, their summary."""

    params: PopulationParams
    seed: int
    runs: dict[str, tuple[Policy, list[Replication]]]  # regime label -> (the policy run, replications)
    summary: dict[str, Any] = field(init=False)
    #: ``runs`` as the reports read them (:mod:`sim.population.digest`)
    digests: dict[str, tuple[Policy, list[Digest]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from sim.population.digest import digest
        from sim.population.report import run_summary

        self.digests = {label: (policy, [digest(self.params, r) for r in reps])
                        for label, (policy, reps) in self.runs.items()}
        self.summary = run_summary(self.params, self.seed, self.digests)

    @property
    def figures(self) -> pd.DataFrame:
        """Every headline figure per regime (GB-scaled where the summary has GB): policy,
        figure, mean, lo, hi (the 95% interval); the rows of the HTML report's table."""
        from sim.population.figures import label, policy_figures

        rows = []
        for policy, result in self.summary["policies"].items():
            for path, value in policy_figures(result):
                mean, lo, hi = ((value["mean"], value["lo"], value["hi"]) if isinstance(value, Mapping)
                                else (value, value, value))
                rows.append({"policy": policy, "figure": label(path), "mean": mean, "lo": lo, "hi": hi})
        return _frame(rows, ("policy", "figure", "mean", "lo", "hi"))

    @property
    def backlog(self) -> pd.DataFrame:
        """Sites in each backlog state at the start of each day, mean and 95% band across
        replications: modelled (as ``backlog.csv``) and GB-scaled (``*_gb``), with the date."""
        from sim.population.report import _backlog_csv

        frame = _pandas().read_csv(io.StringIO(_backlog_csv(self.params, self.digests)))
        for column in ("mean", "lo95", "hi95"):
            frame[f"{column}_gb"] = frame[column] * self.params.gb_factor
        epoch = dt.date.fromisoformat(self.params.epoch)
        frame.insert(1, "date", _pandas().to_datetime(epoch) + _pandas().to_timedelta(frame["day"], unit="D"))
        return frame

    @property
    def time_to_commission(self) -> pd.DataFrame:
        """Days from installation to commissioning at each quantile (as ``time_to_commission.csv``)."""
        from sim.population.report import _ttc_csv

        return _pandas().read_csv(io.StringIO(_ttc_csv(self.digests)))

    def plot_backlog(self) -> Figure:
        """GB sites by state over the calendar with 95% bands, and the steady-state comparison."""
        from sim.population.report import backlog_figure

        return backlog_figure(self.params, self.digests)

    def plot_time_to_commission(self) -> Figure:
        from sim.population.report import ttc_figure

        return ttc_figure(self.digests)

    def write(self, folder: str | Path, plot_format: str = "png", overwrite: bool = False) -> Path:
        """The files ``hansim backlog --out folder`` writes (CSV, summary.json, plots, report.html);
        a folder that already holds results is refused (``OutputError``) unless ``overwrite``."""
        from sim.population.report import write_outputs

        write_outputs(Path(folder), self.params, self.seed, self.digests, overwrite=overwrite,
                      plot_format=plot_format)
        return Path(folder)


def backlog(policies: str | Iterable[str] = "email-10wd", *, sites: int = 100_000, years: float = 5.0,
            replications: int = 4, seed: int = 1, workers: int | None = 1,
            params: Mapping[str, object] | None = None, progress: bool = False,
            engine: str = "numba") -> BacklogResult:
    """Run the population model under each MP121 regime (``none``, ``email-5wd``,
    ``email-10wd``, ``ssi-5wd``, ``smi-codes``) with common random numbers.

    ``params``: the ``--set`` overrides by dotted name (``{"wan.target_days": 60,
    "rules.cos_hazard": 0.2, "policy.reply_probability": 0.5}``). ``workers``: local
    processes (1 runs in this process, which notebooks prefer; within :func:`kept_workers`
    the same ones serve every call, warm). ``engine``: ``numba``
    (compiled) or ``simpy`` (the reference lifecycle), each repeatable bit for bit.
    """
    from sim.population.params import PopulationParams, with_overrides
    from sim.population.runner import Task, replication_seeds, run_tasks

    names = [policies] if isinstance(policies, str) else list(dict.fromkeys(policies))
    model_params, policy_params = split_overrides(dict(params or {}))
    model = with_overrides(PopulationParams(sites=sites, years=years), model_params)
    chosen = regimes(names, policy_params)
    seeds = replication_seeds(seed, replications)
    results = run_tasks([Task(model, p, s, engine) for p in chosen for s in seeds], workers, progress=progress)
    runs = {p.label(): (p, results[i * replications:(i + 1) * replications]) for i, p in enumerate(chosen)}
    return BacklogResult(model, seed, runs)


def kept_workers() -> AbstractContextManager[None]:
    """A block in which :func:`backlog` calls with ``workers`` > 1 share worker processes,
    forked at the first call and ended with the block, rather than forking new ones each
    call (each new worker pays for its memory on its first replication)::

        with kept_workers():
            for target_days in (30, 60, 90):
                results[target_days] = backlog(workers=2, params={"wan.target_days": target_days})
    """
    from sim.population.pool import kept_workers as keep

    return keep()


POLICY_PREFIX = "policy."


def split_overrides(overrides: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """``--set`` overrides split into (model parameters, policy parameters without ``policy.``)."""
    model = {k: v for k, v in overrides.items() if not k.startswith(POLICY_PREFIX)}
    policy = {k[len(POLICY_PREFIX):]: v for k, v in overrides.items() if k.startswith(POLICY_PREFIX)}
    return model, policy


def regimes(names: Iterable[str], policy_params: Mapping[str, object]) -> list[Policy]:
    """The named MP121 policies, each given the parameters it takes; a parameter that none
    of them takes, or an unknown name, is a :class:`ParameterError`."""
    from sim.policies import POLICIES, ParameterError, make_policy

    names = list(names)
    built = []
    for name in names:
        cls, _ = POLICIES.get(name, (None, None))
        accepted = set(cls().params()) if cls else set()
        built.append(make_policy(name, **{k: v for k, v in policy_params.items() if k in accepted}))
    unused = [k for k in policy_params if not any(k in p.params() for p in built)]
    if unused:
        allowed = sorted({k for p in built for k in p.params()}) or ["none"]
        raise ParameterError(f"policy parameter {unused[0]!r} applies to none of the policies "
                             f"{', '.join(names)} (allowed: {', '.join(allowed)})")
    labels = [p.label() for p in built]  # labels say what ran: two alike would be one regime
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise ParameterError(f"policies {names[labels.index(label)]} and {names[i]} both run as "
                                 f"{label} (allowed: regimes that differ in what runs)")
    return built


# -- replay -------------------------------------------------------------------------------
@dataclass
class ReplayResult:
    """One site's story: the replay itself and its expectations checked."""

    replay: Replay
    checks: list[Check]

    @property
    def ok(self) -> bool:
        """Every ``expect:`` of the scenario holds."""
        return all(c.ok for c in self.checks)

    @property
    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` holds (devices, joins, alerts, DUIS validation, expectations)."""
        from sim.replay import report

        return report.summary(self.replay, self.checks)

    @property
    def timeline(self) -> pd.DataFrame:
        """One event a row (as ``timeline.csv``): time_s, date, clock, wd, site, actor, event, smi."""
        from sim.replay.report import TIMELINE_COLUMNS, timeline_rows

        frame = _frame(timeline_rows(self.replay), TIMELINE_COLUMNS)
        frame["date"] = _pandas().to_datetime(frame["date"])
        return frame

    @property
    def duis(self) -> pd.DataFrame:
        """Every DUIS exchange: step, when, sender, SRV, outcome and its documents' file names."""
        from sim.replay.report import duis_files

        names = iter(duis_files(self.replay))
        return _frame(({"step": r.step, "time": self.replay.moment(r.time), "wd": self.replay.wd(r.time),
                        "actor": r.actor, "srv": r.srv, "outcome": r.summary,
                        "files": [next(names) for _ in r.documents]} for r in self.replay.requests),
                      ("step", "time", "wd", "actor", "srv", "outcome", "files"))

    @property
    def joins(self) -> pd.DataFrame:
        """Each HAN join: device, joined, reason, frames on the air, seconds, pcap file name."""
        from sim.replay.report import pcap_files

        return _frame(({"device": r.device_id, "joined": r.result.joined, "reason": r.result.reason,
                        "frames": len(r.report.frames) if r.report else None, "seconds": r.duration,
                        "pcap": pcap} for r, pcap in zip(self.replay.joins.records, pcap_files(self.replay))),
                      ("device", "joined", "reason", "frames", "seconds", "pcap"))

    @property
    def expectations(self) -> pd.DataFrame:
        return _frame(({"what": c.what, "expected": c.expected, "actual": c.actual, "ok": c.ok}
                       for c in self.checks), ("what", "expected", "actual", "ok"))

    def plot(self) -> Figure:
        """Each site's states by date with the events marked on their site's row."""
        from sim.replay.report import timeline_figure

        return timeline_figure(self.replay)

    def write(self, folder: str | Path, plot_format: str = "png", overwrite: bool = False) -> Path:
        """The files ``hansim replay --out folder`` writes (no keys: those need ``--keys-out``);
        a folder that already holds results is refused (``OutputError``) unless ``overwrite``."""
        from sim.output import OutputDir
        from sim.replay import report

        with OutputDir(Path(folder), overwrite) as staged:
            for name, data in report.files(self.replay, self.checks, plot_format).items():
                staged.write(name, data)
        return Path(folder)


def replay(scenario: str | Path = "reactive-wan", *, seed: int | None = None,
           schema: str | Path | None = None) -> ReplayResult:
    """Replay a bundled scenario by name (``hansim scenarios list``) or a scenario file.

    ``seed`` replaces the file's; ``schema``: the DUIS XSD (file or folder) the DCC checks
    requests against, as ``--schema`` (default: ``$HANSIM_DUIS_XSD``, else ../shared/duis
    beside the project, else no check).
    """
    from sim.replay import report
    from sim.replay.scenario import load_scenario, locate
    from sim.replay.story import replay as run

    path = locate(str(scenario))
    if not path.exists():
        raise FileNotFoundError(f"{scenario}: no bundled scenario or file of that name "
                                "(bundled ones: hansim scenarios list)")
    result = run(load_scenario(path, seed), Path(schema) if schema is not None else None)
    return ReplayResult(result, report.checks(result))


# -- re-flash ------------------------------------------------------------------------------
@dataclass
class ReflashResult:
    """An MP155 study: one stock run per strategy (all suppliers and CSPs in each)."""

    runs: list[StockRun]

    def _table(self, name: str) -> pd.DataFrame:
        from sim.mp155.report import tables

        rows = tables(self.runs)[name]
        return _frame({k: (None if v == "" else v) for k, v in row.items()} for row in rows)

    @property
    def stock(self) -> pd.DataFrame:
        """Stock size and age per day, strategy and supplier (as ``stock.csv``)."""
        return self._table("stock.csv")

    @property
    def firmware_mix(self) -> pd.DataFrame:
        """CHs in stock by supplier, model and firmware version per day (as ``firmware_mix.csv``)."""
        return self._table("firmware_mix.csv")

    @property
    def costs(self) -> pd.DataFrame:
        """Cost per strategy and supplier, re-flash at each price point and at the volume price
        (as ``costs.csv``; ``price_gbp_per_ch`` empty for the other strategies)."""
        return self._table("costs.csv")

    @property
    def breakeven(self) -> pd.DataFrame:
        """The break-even re-flash price per CH against each other strategy (as ``breakeven.csv``)."""
        return self._table("breakeven.csv")

    @property
    def demand(self) -> pd.DataFrame:
        """CHs each supplier would send at each price point (as ``demand.csv``)."""
        return self._table("demand.csv")

    @property
    def csp(self) -> pd.DataFrame:
        """Each CSP's re-flash queue under ``reflash`` (as ``csp.csv``)."""
        return self._table("csp.csv")

    def plots(self) -> dict[str, Figure]:
        """``costs``, ``breakeven``, ``demand``, ``stock_age``, ``firmware_mix``, ``csp_queue``."""
        from sim.mp155.report import figures

        return figures(self.runs)

    def write(self, folder: str | Path, overwrite: bool = False) -> Path:
        """The files ``hansim reflash -o folder`` writes; a folder that already holds results is
        refused (``OutputError``) unless ``overwrite``."""
        from sim.mp155.report import write

        write(self.runs, Path(folder), overwrite)
        return Path(folder)


def reflash(scenario: str | Path | None = None, *, strategies: Iterable[str] | None = None,
            **overrides: Any) -> ReflashResult:
    """Run the MP155 study under each strategy (``hold``, ``reflash``, ``ota``, ``writeoff``).

    ``scenario``: a study file (default: the bundled ``mp155-reflash``); ``overrides``:
    study fields to change, e.g. ``seed=3, days=365, batch_size=200, price_points=(10, 15)``.
    """
    from sim.mp155.model import StockRun
    from sim.mp155.scenario import BUNDLED, Scenario

    loaded = Scenario.load(scenario if scenario is not None else BUNDLED)
    if strategies is not None:
        overrides["strategies"] = tuple(strategies)
    if overrides:
        loaded = loaded.replace(**overrides)
    return ReflashResult([StockRun(loaded, strategy).run() for strategy in loaded.strategies])
