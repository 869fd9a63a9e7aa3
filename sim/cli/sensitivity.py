"""``hansim sensitivity``: which assumed parameters move the answers (Morris or Sobol, SALib)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sim.cli._study import base_study, dask_errors, open_store, study_options
from sim.policies import POLICIES, ParameterError
from sim.population.sensitivity import METHODS, check, run, runs_needed
from sim.population.sensitivity_report import write
from sim.population.study import StudyError, applies, parse_ranges

REGIMES = ("none", "email-10wd", "email-5wd", "ssi-5wd", "smi-codes")


@click.command("sensitivity", epilog="""\b
Examples:
  hansim sensitivity
  hansim sensitivity --policy none --policy smi-codes --samples 20 --sites 10000
  hansim sensitivity --method sobol --samples 64 --param rules.p_replace --param install_and_leave_fraction
  hansim sensitivity --dask tcp://scheduler:8786 --samples 40""")
@click.option("--method", type=click.Choice(METHODS), default="morris", show_default=True,
              help="morris: screening, r(D+1) points; sobol: variance shares S1/ST, N(D+2) points.")
@click.option("--samples", type=click.IntRange(2, 100_000), default=10, show_default=True,
              help="Morris trajectories r, or Sobol base samples N (a power of 2).")
@click.option("--policy", "names", multiple=True, metavar="NAME",
              help=f"MP121 regime to read the answers under; repeat. [default: {', '.join(REGIMES)}]")
@study_options("sensitivity-out", sites=5000, replications=1)
def command(method: str, samples: int, names: tuple[str, ...], params: tuple[str, ...], sites: int, years: float,
            replications: int, seed: int, overrides: dict[str, object], workers: int | None,
            dask_address: str | None, out: Path, overwrite: bool, quiet: bool, plot_format: str) -> None:
    """Vary every assumed parameter in its range (assumed.yaml, or the --param given) and
    measure its effect on consumer-days without smart service, replacements and total
    cost under each regime; write sensitivity.json, sensitivity.csv, a tornado plot and
    report.html to OUT. A killed study resumes from OUT."""
    policies = tuple(dict.fromkeys(names)) or REGIMES
    try:
        unknown = [p for p in policies if p not in POLICIES]
        if unknown:
            raise StudyError(f"policy {unknown[0]!r} is unknown (allowed: {', '.join(POLICIES)})")
        check(method, samples)
        ranges = parse_ranges(params, lambda key, entry: applies(policies, key))
        study = base_study(sites, years, replications, seed, overrides, policies)
        study.check(ranges)
        study.check_runs(runs_needed(method, len(ranges), samples), "fewer --samples, --param, --policy or "
                         "--replications")
        study.check_memory(workers or os.cpu_count() or 1, bool(dask_address))
    except (StudyError, ParameterError) as err:
        raise click.ClickException(str(err)) from None
    with open_store(out, study, overwrite) as (folder, store):
        try:
            result = run(study, ranges, method, samples, store, workers, dask_address, progress=not quiet,
                         report=None if quiet else lambda line: click.echo(line, err=True))
        except OSError as err:
            raise dask_errors(dask_address, err) from None
        except (StudyError, ParameterError) as err:
            raise click.ClickException(str(err)) from None
        write(folder, result, plot_format)
    key = "mu_star" if method == "morris" else "ST"
    for policy, by_answer in result["results"].items():  # type: ignore[attr-defined]
        for answer, by_param in by_answer.items():
            top = sorted(by_param.items(), key=lambda kv: -(kv[1][key] or 0.0))[:3]
            click.echo(f"{policy:<12} {answer:<36} " + ", ".join(f"{n} {v[key]:,.3g}" for n, v in top))
    click.echo(f"wrote {out}/sensitivity.json, sensitivity.csv, tornado.{plot_format}, report.html")
