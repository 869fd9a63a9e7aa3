"""``hansim reflash``: the MP155 Comms Hub re-flash study, strategy against strategy."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._options import refuse_bad_yaml
from sim.mp155.scenario import BUNDLED, STRATEGIES, Scenario
from sim.yamlfile import InputFileError


@click.command("reflash", epilog="""\b
Examples:
  hansim reflash
  hansim reflash -o study --overwrite --price 12 --price 18 --price 25 --price 30
  hansim reflash --scenario my-study.yaml --strategy hold --strategy reflash --seed 3""")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False),
              default=str(BUNDLED), show_default="scenarios/reflash/mp155-reflash.yaml",
              callback=refuse_bad_yaml, help="Study YAML: suppliers, CSPs, old-firmware costs, prices.")
@click.option("-o", "--out", type=click.Path(file_okay=False), default="reflash-out",
              show_default=True, help="Folder for the CSV files, PNG plots and report.html.")
@click.option("--strategy", "strategies", multiple=True, type=click.Choice(STRATEGIES),
              help="Run only these strategies (repeat the option); default: the study's.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Override the study's seed.")
@click.option("--days", type=click.IntRange(1, 36_500), default=None, help="Override the horizon (1-36500 days).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Override CHs per Work Order.")
@click.option("--price", "prices", multiple=True, type=float, metavar="GBP",
              help="Price points per CH instead of the study's (repeat the option).")
@click.option("--reflash-before-release", is_flag=True, default=None,
              help="Re-flash even when a known release of the model is due soon.")
@click.option("--allow-repeat-reflash", is_flag=True, default=None,
              help="Let a CH be re-flashed again after a later release.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it already holds results (whole, never mixed).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(scenario_file: str, out: str, strategies: tuple[str, ...], seed: int | None,
            days: int | None, batch_size: int | None, prices: tuple[float, ...],
            reflash_before_release: bool | None, allow_repeat_reflash: bool | None, overwrite: bool,
            quiet: bool) -> None:
    """Simulate suppliers' Comms Hub stock under hold / reflash / ota / writeoff.

    Writes stock.csv, firmware_mix.csv (by supplier, per day), costs.csv (per strategy and
    supplier; reflash at each price point and at the DCC's volume price), breakeven.csv,
    demand.csv, csp.csv, csp_queue.csv and work_orders.csv, parameters.csv (each value's
    source), PNG plots and a self-contained report.html. Same study and seed:
    byte-identical files.
    """
    from sim.mp155 import report
    from sim.mp155.costs import ALL, cost_rows
    from sim.mp155.model import StockRun
    from sim.output import check_folder
    from sim.progress import bar as progress_bar

    overrides = {name: value for name, value in [
        ("seed", seed), ("days", days), ("batch_size", batch_size), ("strategies", strategies or None),
        ("price_points", tuple(sorted(set(prices))) or None), ("reflash_before_release", reflash_before_release),
        ("allow_repeat_reflash", allow_repeat_reflash)] if value is not None}
    try:
        scenario = Scenario.load(scenario_file).replace(**overrides)
    except InputFileError as err:
        raise click.ClickException(str(err)) from None
    out_dir = check_folder(Path(out), overwrite)
    runs = []
    # one step per simulated day per strategy, and one per plot (they take seconds too)
    with progress_bar(scenario.days * len(scenario.strategies) + len(report.PLOTS), "reflash",
                      quiet=quiet) as bar:
        for strategy in scenario.strategies:
            bar.set_postfix_str(strategy)
            done = [0]

            def progress(day: int, done: list[int] = done) -> None:
                bar.update(day - done[0])
                done[0] = day

            runs.append(StockRun(scenario, strategy, progress=progress).run())
        bar.set_postfix_str("plots")
        paths = report.write(runs, out_dir, overwrite, progress=lambda _name: bar.update(1))
    click.echo(f"all suppliers: {'strategy':36} {'old-fw installs':>15} {'total':>12}")
    for run in runs:
        for row in cost_rows(run):
            if row["supplier"] == ALL:
                click.echo(f"               {report.strategy_label(row):36} {row['installed_old_firmware']:>15,} "
                           f"{report.gbp(row['total_gbp']):>12}")
    for row in report.breakeven_rows(runs):
        if row["supplier"] == ALL and row["breakeven_gbp_per_ch"] != "":
            click.echo(f"break-even re-flash price against {row['against']}: "
                       f"{report.gbp(row['breakeven_gbp_per_ch'])} per CH")
    click.echo(f"wrote {', '.join(p.name for p in paths)} in {out_dir}")
