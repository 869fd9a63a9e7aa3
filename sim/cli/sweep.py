"""``hansim sweep SWEEP.yaml``: many parameter sets x policies x replications, resumable."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import zipfile
from functools import partial
from pathlib import Path
from typing import TypeVar

import click

from sim.cli._options import engine_option, refuse_bad_yaml
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

TOP_KEYS = {"sites", "years", "replications", "seed", "policies", "base", "factors", "sets"}
# A study larger than these is refused before anything runs (the same ceilings as
# ``hansim backlog``'s options): a typo such as 1e9 replications must not look like a hang.
MAX_SITES = 10_000_000
MAX_YEARS = 30.0
MAX_REPLICATIONS = 10_000
MAX_RUNS = 100_000  # parameter sets x policies x replications
RUNS = "runs"  # the folder of replications that marks OUT as a sweep's store, resumed
N = TypeVar("N", int, float)


def read_sweep(path: Path) -> YamlDocument:
    try:
        doc = load_yaml(path)
    except InputFileError as err:
        raise click.ClickException(str(err)) from None
    except ValueError as err:  # e.g. a date-like value that is no date
        raise click.ClickException(f"{path}: bad value: {err}") from None
    if not isinstance(doc.data, dict):
        raise _fail(doc, (), "empty sweep (allowed: a mapping with 'factors' or 'sets')")
    unknown = sorted(set(doc.data) - TOP_KEYS)
    if unknown:
        raise _fail(doc, (unknown[0],), f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
    return doc


def _fail(doc: YamlDocument, where: tuple, message: str) -> click.ClickException:
    return click.ClickException(str(doc.error(where, message)))


def parameter_sets(doc: YamlDocument) -> list[tuple[tuple, dict[str, object]]]:
    """(where in the file, overrides) per set: every combination of ``factors``, or ``sets``."""
    spec = doc.data
    factors, sets = spec.get("factors"), spec.get("sets")
    if factors is not None and sets is not None:
        raise _fail(doc, ("sets",), "give 'factors' (factorial) or 'sets' (listed), not both")
    base = spec.get("base") or {}
    if not isinstance(base, dict):
        raise _fail(doc, ("base",), "must be a mapping of parameter: value")
    if factors is not None:
        if not isinstance(factors, dict) or not factors:
            raise _fail(doc, ("factors",), "factors is empty (allowed: parameter: [value, ...], at least one)")
        for name, values in factors.items():
            if not isinstance(values, list) or not values:
                raise _fail(doc, ("factors", name), "empty or not a list (allowed: a list of 1 or more values)")
        combos = math.prod(len(values) for values in factors.values())
        if combos > MAX_RUNS:
            raise _fail(doc, ("factors",), f"{combos:,} combinations of factors: more than the "
                        f"{MAX_RUNS:,} runs a sweep may hold")
        names = list(factors)
        return [(("factors",), base | dict(zip(names, combo))) for combo in itertools.product(*factors.values())]
    if not isinstance(sets, list) or not sets:
        raise _fail(doc, ("sets",), "empty sweep: no parameter sets (allowed: 'factors' or 'sets' with at least one)")
    for i, item in enumerate(sets):
        if not isinstance(item, dict):
            raise _fail(doc, ("sets", i), "must be a mapping of parameter: value")
    return [(("sets", i), base | item) for i, item in enumerate(sets)]


def _number(doc: YamlDocument, key: str, default: N, low: float, high: float, kind: type[N]) -> N:
    value = doc.data.get(key, default)
    allowed = f"{low:g} to {high:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise _fail(doc, (key,), f"{value!r:.60} is not a {'whole ' if kind is int else ''}number (allowed: {allowed})")
    if not low <= value <= high:  # also refuses NaN
        shown = f"{value:g}" if isinstance(value, float) else f"{value}"[:40]  # an int no float holds
        raise _fail(doc, (key,), f"{key} = {shown} is outside the allowed range ({allowed})")
    return kind(value)


@click.command("sweep", epilog="""\b
Examples:
  hansim sweep sweep.yaml
  hansim sweep sweep.yaml --out sweep-out --workers 2
  hansim sweep sweep.yaml --dask tcp://127.0.0.1:8786""")
@click.argument("sweep_file", metavar="SWEEP.yaml", type=click.Path(dir_okay=False, path_type=Path),
                callback=refuse_bad_yaml)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder.  [default: NAME-out in the current folder, for NAME.yaml]")
@click.option("--workers", type=click.IntRange(1, 512), default=None, help="Local worker processes.")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on this Dask scheduler.")
@engine_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--overwrite", is_flag=True,
              help="Start afresh: replace what OUT holds (another sweep's runs, or other results) "
                   "once the new sweep is complete.")
def command(sweep_file: Path, out: Path | None, workers: int | None, dask_address: str | None,
            engine: str, quiet: bool, overwrite: bool) -> None:
    """Run every parameter set of SWEEP.yaml; replications already written are skipped."""
    from sim.cli._population import build, policies, split_overrides
    from sim.output import OutputDir, atomic_write, folders_for
    from sim.policies import ParameterError
    from sim.population.digest import digest
    from sim.population.memory import check_digests, check_sites
    from sim.population.params import PopulationParams
    from sim.population.report import summarise
    from sim.population.runner import Task, each_result, replication_seeds
    from sim.population.store import load, replication_file, run_key, saved

    doc = read_sweep(sweep_file)
    sets = parameter_sets(doc)
    sites = _number(doc, "sites", 100_000, 1, MAX_SITES, int)
    years = _number(doc, "years", 5.0, 0.1, MAX_YEARS, float)
    reps = _number(doc, "replications", 4, 1, MAX_REPLICATIONS, int)
    seed = _number(doc, "seed", 1, 0, 2**63 - 1, int)
    names = doc.data.get("policies", ["email-10wd"])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise _fail(doc, ("policies",), "must be a list of policy names (e.g. [email-5wd, email-10wd])")
    if len(sets) * len(names) * reps > MAX_RUNS:
        raise _fail(doc, ("replications",), f"{len(sets):,} parameter sets x {len(names)} policies x "
                    f"{reps:,} replications = {len(sets) * len(names) * reps:,} runs: more than the "
                    f"{MAX_RUNS:,} runs a sweep may hold")
    out = out or Path(f"{sweep_file.stem}-out")
    seeds = replication_seeds(seed, reps)

    plan = []  # (set index, overrides, params, policy, its run's name: its folder under OUT/runs)
    for i, (where, overrides) in enumerate(sets):
        model, policy_params = split_overrides({str(k): v for k, v in overrides.items()})
        try:
            params = build(PopulationParams(sites=sites, years=float(years)), model)
            regimes = policies(names, policy_params)
        except click.ClickException as err:
            raise _fail(doc, where, f"set {i + 1}: {err.message}") from None
        for policy in regimes:
            plan.append((i, overrides, params, policy, run_key(params, policy, seed, engine)))

    try:
        check_sites(max(p[2].sites for p in plan), engine,
                    1 if dask_address else min(workers or os.cpu_count() or 1, len(plan) * reps))
        check_digests(max(p[2].days for p in plan), reps)  # one set's digests, for its summary
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    with OutputDir(out, overwrite, resume=RUNS) as staged:  # once the whole file has been checked
        folder = staged.folder  # OUT, resumed; or, with --overwrite, the new sweep staged beside it
        runs = folder / RUNS
        # Each plan entry's replications, each with its file (found from the task, as a worker finds it).
        files = [[(task, replication_file(runs, task)) for task in (Task(params, policy, s, engine) for s in seeds)]
                 for _, _, params, policy, _ in plan]
        missing = [(task, path) for row in files for task, path in row if not _saved(path)]
        todo = [task for task, _ in missing]
        click.echo(f"{len(sets)} parameter sets x {len(names)} policies x {reps} replications: "
                   f"{len(plan) * reps - len(todo)} already written, {len(todo)} to run", err=True)
        # Local workers save their own replications; a Dask cluster's may not share this disk,
        # so there each one comes back and this process saves it.
        try:
            if dask_address:
                each_result(todo, lambda j, rep: saved(runs, todo[j], rep), workers, dask_address,
                            progress=not quiet)
            else:
                with folders_for([path for _, path in missing]):
                    each_result(todo, lambda j, path: None, workers, progress=not quiet, reduce=partial(saved, runs))
        except OSError as err:
            if not dask_address:
                raise
            raise click.ClickException(f"cannot reach the Dask scheduler at {dask_address}: {err}") from None
        except ParameterError as err:
            raise click.ClickException(f"{sweep_file}: {err}") from None

        rows, summaries = [], []
        for (i, overrides, params, policy, run), row in zip(plan, files, strict=True):
            digests = [digest(params, load(path)) for _, path in row]  # one by one
            s = summarise(params, policy, digests)
            summaries.append({"set": i + 1, "overrides": overrides, "run": run, "policy_name": policy.name} | s)
            rows.append(_row(i + 1, policy.label(), overrides, s))
        atomic_write(folder / "sweep.json", json.dumps(summaries, indent=2, sort_keys=True, default=list) + "\n")
        atomic_write(folder / "sweep.csv", _csv(rows))
    click.echo(f"wrote {out}/sweep.csv and {out}/sweep.json ({len(rows)} rows)")


def _saved(path: Path) -> bool:
    """A replication on disk that reads back; an empty or corrupt one is run again."""
    from sim.population.store import load

    if not path.exists():
        return False
    try:
        load(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return False
    return True


def _row(number: int, policy: str, overrides: dict[str, object], s: dict) -> dict[str, object]:
    row: dict[str, object] = {"set": number, "policy": policy}
    row |= {str(k): json.dumps(v) if isinstance(v, list) else v for k, v in overrides.items()}
    for entry in s["by_year"]:
        row |= {f"backlog_end_y{entry['year']}_gb": entry["backlog_end"]["mean"],
                f"uncommissioned_gain_share_y{entry['year']}": entry["uncommissioned_gain_share"]["mean"]}
    end = s["by_year"][-1]["backlog_end"]
    row |= {"backlog_end_gb_lo95": end["lo"], "backlog_end_gb_hi95": end["hi"],
            "mean_days_to_commission": s["time_to_commission_days"]["mean_all_commissioned"]["mean"],
            "replacements_gb": s["replacements"]["mean"],
            "total_cost_gbp_gb": s["costs_gbp"]["total"]["mean"],
            "consumer_days_gb": s["consumer_days_without_smart_service"]["mean"]}
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}


def _csv(rows: list[dict[str, object]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
