"""Shared by ``hansim calibrate`` and ``hansim sensitivity``: the study options, the
output folder (resumed when it holds the same study) and errors as one line."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli._options import FiniteFloat
from sim.cli._population import build, parse_overrides, split_overrides
from sim.output import OutputDir
from sim.plotting import FORMATS

if TYPE_CHECKING:  # numpy, scipy, matplotlib: imported once the options are all accepted
    from sim.population.study import Evaluations, Study

EVALUATIONS = "evaluations.jsonl"


def study_options(out: str, sites: int, replications: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options every study command takes (``out``: default folder)."""
    options = [
        click.option("--param", "params", multiple=True, metavar="NAME[=LOW:HIGH]",
                     help="An assumed parameter to vary, in its range from assumed.yaml or LOW:HIGH; "
                          "repeat. [default: see the command's description]"),
        click.option("--sites", type=click.IntRange(1, 10_000_000), default=sites, show_default=True,
                     help="Install-and-leave meters modelled per run."),
        click.option("--years", type=FiniteFloat(1.0, 30), default=3.0, show_default=True,
                     help="Simulated years from the epoch (at least 1: targets read year 1)."),
        click.option("--replications", type=click.IntRange(1, 1000), default=replications, show_default=True,
                     help="Runs per parameter point, the same seeds at every point (common random numbers)."),
        click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True,
                     help="Root seed of the runs and of the sampler: the same seed, the same files."),
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=parse_overrides,
                     help="Hold a parameter at this value for the whole study (as hansim backlog --set)."),
        click.option("--workers", type=click.IntRange(1, 512), default=None,
                     help="Local worker processes.  [default: CPU count]"),
        click.option("--dask", "dask_address", metavar="ADDRESS",
                     help="Run on this Dask scheduler (same results bit for bit)."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path(out),
                     show_default=True, help="Folder for the results; a killed study resumes from it."),
        click.option("--overwrite", is_flag=True,
                     help="Start afresh: replace what OUT holds (another study's runs, or other results) "
                          "once the new study is complete."),
        click.option("--quiet", is_flag=True, help="No progress."),
        click.option("--plot-format", type=click.Choice(FORMATS), default="png", show_default=True,
                     help="File format of the plot (svg: vector)."),
    ]

    def apply(f: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            f = option(f)
        return f
    return apply


def base_study(sites: int, years: float, replications: int, seed: int, overrides: dict[str, object],
               policies: tuple[str, ...]) -> Study:
    from sim.population.params import PopulationParams
    from sim.population.study import Study

    model, policy = split_overrides(overrides)
    base = build(PopulationParams(sites=sites, years=years), model)
    return Study(base, policies, replications, seed, {f"policy.{k}": v for k, v in policy.items()})


@contextlib.contextmanager
def open_store(out: Path, study: Study, overwrite: bool) -> Iterator[tuple[Path, Evaluations]]:
    """The folder to write the study's files in, and its evaluations: resumed when OUT
    holds this study's, refused when it holds anything else. With ``overwrite`` the new
    study is staged and replaces OUT only once it is complete (:class:`OutputDir`), so a
    failed or killed study leaves the earlier result, its evaluations included, as it was."""
    from sim.population.study import Evaluations

    with OutputDir(out, overwrite, resume=EVALUATIONS) as staged:
        store = Evaluations(staged.folder / EVALUATIONS, study)
        if store.done:
            click.echo(f"resuming: {len(store.done):,} runs already in {out / EVALUATIONS}", err=True)
        yield staged.folder, store


def dask_errors(dask_address: str | None, err: OSError) -> click.ClickException:
    if not dask_address:
        raise err
    return click.ClickException(f"cannot reach the Dask scheduler at {dask_address}: {err}")
