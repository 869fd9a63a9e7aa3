"""``hansim calibrate``: fit the assumed parameters to the seeds' figures, with intervals."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sim.cli._options import refuse_bad_yaml
from sim.cli._study import base_study, dask_errors, open_store, study_options


@click.command("calibrate", epilog="""\b
Examples:
  hansim calibrate
  hansim calibrate --sites 20000 --replications 4 --generations 15 --out calib
  hansim calibrate --param install_and_leave_fraction --param rules.p_replace=0.3:0.7
  hansim calibrate --targets my-targets.yaml --dask tcp://scheduler:8786""")
@click.option("--targets", "targets_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=refuse_bad_yaml,
              help="Targets YAML (figure, policy, kind, value, tolerance, source).  "
                   "[default: the seeds' figures, sim/population/targets.yaml]")
@click.option("--generations", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Differential-evolution generations at most.")
@click.option("--popsize", type=click.IntRange(2, 100), default=5, show_default=True,
              help="Candidates per generation, per fitted parameter.")
@study_options("calibrate-out", sites=5000, replications=2)
def command(targets_file: Path | None, generations: int, popsize: int, params: tuple[str, ...], sites: int,
            years: float, replications: int, seed: int, overrides: dict[str, object], workers: int | None,
            dask_address: str | None, out: Path, overwrite: bool, quiet: bool, plot_format: str) -> None:
    """Fit the assumed parameters (by default those marked fit: true in assumed.yaml) to the
    targets by differential evolution under common random numbers; write calibration.json,
    CSV files, a plot and report.html to OUT. A killed calibration resumes from OUT."""
    from sim.policies import ParameterError
    from sim.population.calibration import calibrate, load_targets
    from sim.population.calibration_report import write
    from sim.population.study import StudyError, parse_ranges

    try:
        targets = load_targets(targets_file)
        ranges = parse_ranges(params, lambda key, entry: bool(entry.get("fit")))
        study = base_study(sites, years, replications, seed, overrides,
                           tuple(dict.fromkeys(t.policy for t in targets)))
        study.check(ranges)
        study.check_runs((generations + 1) * popsize * len(ranges), "fewer --generations, --popsize, --param or "
                         "--replications")
        study.check_memory(workers or os.cpu_count() or 1, bool(dask_address))
    except (StudyError, ParameterError) as err:
        raise click.ClickException(str(err)) from None
    with open_store(out, study, overwrite) as (folder, store):
        click.echo(f"fitting {', '.join(r.key for r in ranges)} to {len(targets)} targets: up to "
                   f"{(generations + 1) * popsize * len(ranges):,} candidates x {len(study.policies)} regimes x "
                   f"{replications} replications", err=True)
        try:
            cal = calibrate(study, ranges, targets, store, generations, popsize, workers, dask_address,
                            progress=not quiet, report=None if quiet else lambda line: click.echo(line, err=True))
        except OSError as err:
            raise dask_errors(dask_address, err) from None
        except (StudyError, ParameterError) as err:
            raise click.ClickException(str(err)) from None
        result = write(folder, cal, study, plot_format)
    for p in result["parameters"]:  # type: ignore[attr-defined]
        interval = p["interval"]
        span = f"[{interval[0]:.4g}, {interval[1]:.4g}]" if interval else "[no candidate met every target]"
        click.echo(f"{p['name']:<32} default {p['default']:<10.4g} fitted {p['fitted']:<10.4g} {span}")
    for t in result["targets"]:  # type: ignore[attr-defined]
        f = t["fitted"]
        click.echo(f"{t['name']:<32} {t['kind']} {t['value']:<10,.4g} fitted {f['mean']:,.4g} "
                   f"[{f['lo']:,.4g}, {f['hi']:,.4g}] {'met' if t['met_fitted'] else 'MISSED'}")
    verdict = ("sound: every target met at the fit, and with fresh seeds" if result["sound"] else
               "NOT sound: targets met at the fit but not with fresh seeds; do not adopt these values"
               if result["met_at_fit"] else "NOT every target met at the fit: do not adopt these values")
    click.echo(verdict +
               f"; wrote {out}/calibration.json, parameters.csv, targets.csv, candidates.csv, "
               f"calibration.{plot_format}, report.html")
