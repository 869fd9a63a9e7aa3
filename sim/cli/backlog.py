"""``hansim backlog``: the install-and-leave backlog under MP121 regimes, with 95% CIs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sim.cli._options import FiniteFloat, engine_option
from sim.cli._population import build, parse_overrides, policies, split_overrides
from sim.plotting import FORMATS
from sim.policies import POLICIES


@click.command("backlog", epilog="""\b
Examples:
  hansim backlog
  hansim backlog --policy none --policy email-10wd --policy smi-codes --sites 20000 --replications 8
  hansim backlog --policy email-5wd --set policy.sla_wd=30 --out sla30 --overwrite""")
@click.option("--policy", "names", multiple=True, metavar="NAME",
              help=f"MP121 regime: {', '.join(POLICIES)}; repeat to compare several in one run. "
                   "[default: email-10wd]")
@click.option("--sites", type=click.IntRange(1), default=100_000, show_default=True,
              help="Install-and-leave meters modelled (history run + the run's installs).")
@click.option("--years", type=FiniteFloat(0.1, 30), default=5.0, show_default=True,
              help="Simulated years from the epoch.")
@click.option("--replications", type=click.IntRange(1, 10_000), default=4, show_default=True,
              help="Independent runs per policy (common random numbers across policies).")
@click.option("--workers", type=click.IntRange(1, 512), default=None,
              help="Local worker processes.  [default: CPU count]")
@click.option("--seed", type=click.IntRange(0), default=1, show_default=True,
              help="Root seed: the same seed gives the same files, bit for bit.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("backlog-out"),
              show_default=True, help="Folder for the CSV files, summary.json, plots and report.html.")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on this Dask scheduler.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=parse_overrides,
              help="Override a parameter: wan.target_days=60, rules.cos_hazard=0.2, "
                   "policy.reply_probability=0.5 ... (see docs/reference/backlog.md).")
@click.option("--join-loss", type=click.FloatRange(0.0, 0.99), default=None, metavar="LOSS",
              help="Calibrate the sampled HAN join from frame-level joins at this radio frame loss.")
@click.option("--calibration-joins", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Frame-level joins run for --join-loss.")
@engine_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it already holds results (whole, never mixed).")
@click.option("--plot-format", type=click.Choice(FORMATS), default="png", show_default=True,
              help="File format of the plots (svg: vector, for reports).")
def command(names: tuple[str, ...], sites: int, years: float, replications: int, workers: int | None,
            seed: int, out: Path, dask_address: str | None, overrides: dict[str, object],
            join_loss: float | None, calibration_joins: int, engine: str, quiet: bool, overwrite: bool,
            plot_format: str) -> None:
    """Simulate the uncommissioned backlog and write CSV, summary.json and PNG plots to OUT."""
    # the engines and the report (numba, matplotlib) only once the options are accepted
    from sim.output import check_folder
    from sim.policies import ParameterError
    from sim.population.digest import digest_of
    from sim.population.memory import check_digests, check_sites
    from sim.population.params import PopulationParams
    from sim.population.report import OUTPUT_STEPS, write_outputs
    from sim.population.runner import Task, replication_seeds, run_tasks
    from sim.progress import bar, named_steps

    model_overrides, policy_overrides = split_overrides(overrides)
    params = build(PopulationParams(sites=sites, years=years), model_overrides)
    if join_loss is not None:
        from sim.commissioning import calibrate  # frame-level HAN stack: import only when asked

        params = params.replace(commissioning=calibrate(join_loss, calibration_joins, seed,
                                                        retry_wd=params.commissioning.retry_wd))
    regimes = policies(list(dict.fromkeys(names)) or ["email-10wd"], policy_overrides)
    try:
        check_sites(params.sites, engine, 1 if dask_address else min(workers or os.cpu_count() or 1,
                                                                       replications * len(regimes)))
        check_digests(params.days, replications * len(regimes))  # every replication's digest, for the summary
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    check_folder(out, overwrite)  # refuse before the run, not after it
    seeds = replication_seeds(seed, replications)
    tasks = [Task(params, policy, s, engine) for policy in regimes for s in seeds]
    try:
        results = run_tasks(tasks, workers, dask_address, progress=not quiet, reduce=digest_of)
    except ParameterError as err:  # too large for memory; a policy the engine lacks
        raise click.ClickException(str(err)) from None
    except OSError as err:
        if not dask_address:
            raise
        raise click.ClickException(f"cannot reach the Dask scheduler at {dask_address}: {err}") from None
    grouped = {p.label(): (p, results[i * replications:(i + 1) * replications])
               for i, p in enumerate(regimes)}
    with bar(len(OUTPUT_STEPS), "backlog outputs", quiet=quiet) as outputs:
        summary = write_outputs(out, params, seed, grouped, overwrite, plot_format,
                                progress=named_steps(outputs))
    click.echo(f"{'policy':<12} {'backlog at the end (GB)':>30} {'mean days':>10} {'replacements (GB)':>18}"
               f" {'gains uncommissioned, year 1':>29}")
    for label, s in summary["policies"].items():
        end = s["by_year"][-1]["backlog_end"]
        mean = s["time_to_commission_days"]["mean_all_commissioned"]["mean"]
        repl = s["replacements"]["mean"]
        share = s["by_year"][0]["uncommissioned_gain_share"]["mean"]
        click.echo(f"{label:<12} {end['mean']:>12,.0f} [{end['lo']:>,.0f}, {end['hi']:>,.0f}]"
                   f" {mean if mean is None else round(mean, 1)!s:>10} {repl:>18,.0f} {share:>28.2%}")
    click.echo(f"wrote {out}/backlog.csv, time_to_commission.csv, summary.json, backlog.{plot_format}, "
               f"time_to_commission.{plot_format}, report.html")
