"""``hansim reflash``: the MP155 Comms Hub re-flash model, strategy against strategy."""

from __future__ import annotations

from pathlib import Path

import click

from sim.mp155.scenario import BUNDLED, STRATEGIES, Scenario
from sim.yamlfile import InputFileError


@click.command("reflash")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False),
              default=str(BUNDLED), show_default="scenarios/mp155-reflash.yaml",
              help="Scenario YAML: stock, demand, Work Order timings, prices.")
@click.option("-o", "--out", type=click.Path(file_okay=False), default="reflash-out",
              show_default=True, help="Folder for the CSV files and PNG plots.")
@click.option("--strategy", "strategies", multiple=True, type=click.Choice(STRATEGIES),
              help="Run only these strategies (repeat the option); default: the scenario's.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Override the scenario's seed.")
@click.option("--days", type=click.IntRange(1, 36_500), default=None, help="Override the horizon (1-36500 days).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Override CHs per Work Order.")
@click.option("--turnaround-wd", type=click.IntRange(min=0), default=None,
              help="Override the CSP turnaround in working days.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it already holds results (whole, never mixed).")
def command(scenario_file: str, out: str, strategies: tuple[str, ...], seed: int | None,
            days: int | None, batch_size: int | None, turnaround_wd: int | None,
            overwrite: bool) -> None:
    """Simulate a supplier's Comms Hub stock under hold / reflash / ota / writeoff.

    Writes stock.csv (stock size and age per day), firmware_mix.csv (stock by model and
    firmware version per day), costs.csv (cost per strategy; reflash at each MP155 price
    point) and PNG plots of each. Same scenario and seed: byte-identical files.
    """
    from sim.mp155 import report
    from sim.mp155.costs import cost_rows
    from sim.mp155.model import StockRun
    from sim.output import check_folder

    overrides = {name: value for name, value in [
        ("seed", seed), ("days", days), ("batch_size", batch_size),
        ("csp_turnaround_wd", turnaround_wd), ("strategies", strategies or None)] if value is not None}
    try:
        scenario = Scenario.load(scenario_file)
        scenario = scenario.replace(**overrides)
    except InputFileError as err:
        raise click.ClickException(str(err)) from None
    out_dir = check_folder(Path(out), overwrite)
    runs = [StockRun(scenario, strategy).run() for strategy in scenario.strategies]
    paths = report.write(runs, out_dir, overwrite)
    click.echo(f"{'strategy':10} {'£/CH':>6} {'CHs':>7} {'direct £':>12} {'left':>6} {'total £':>12}")
    for run in runs:
        for row in cost_rows(run):
            price = row["price_gbp_per_ch"]
            click.echo(f"{row['strategy']:10} {price if price == '' else f'{price:g}':>6} "
                       f"{row['chs_acted_on']:>7} {row['direct_cost_gbp']:>12,.2f} "
                       f"{row['superseded_in_stock_at_end']:>6} {row['total_gbp']:>12,.2f}")
    click.echo(f"wrote {', '.join(p.name for p in paths)} in {out_dir}")
