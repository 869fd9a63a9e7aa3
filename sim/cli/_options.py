"""Option types shared by the commands: values a field engineer might mistype.

click's FloatRange lets NaN through (every comparison with NaN is false) and
``float("1e309")`` is infinity; a NaN or infinite time, interval or start would then
crash or hang a run far from the option that caused it. These types refuse them where
they are typed, as bad input (exit 1, see ``sim/cli/__init__.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from sim.yamlfile import InputFileError, load_yaml


class FiniteFloat(click.FloatRange):
    """A float in [low, high] that is a real number (no NaN, no infinity)."""

    name = "finite float"

    def convert(self, value, param, ctx) -> float:
        # A plain float first. FloatRange is a FloatParamType, but click parameterises their
        # generic base differently, hence the ignore.
        number = click.types.FloatParamType.convert(self, value, param, ctx)  # type: ignore[arg-type]
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def engine_option(function):
    """``--engine numba|simpy``: which population engine runs the replications."""
    from sim.population import DEFAULT_ENGINE, ENGINES

    return click.option("--engine", type=click.Choice(ENGINES), default=DEFAULT_ENGINE, show_default=True,
                        help="Population engine: numba (compiled, fast) or simpy (the reference "
                             "lifecycle scenario replay runs); each is bit-for-bit repeatable for a seed.")(function)


def refuse_bad_yaml(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Callback of a parameter naming a YAML file: refuse a file the YAML loader refuses
    before the command imports its libraries (seconds of numpy, scipy, matplotlib, zigpy),
    with the one line the command itself would give.

    A value that names no file (a bundled scenario's name, a default, a missing path) and
    a value the loader reads but the command's own checks refuse are left to the command.
    """
    if value is None or not Path(str(value)).is_file():
        return value
    try:
        load_yaml(Path(str(value)))
    except InputFileError as err:
        raise click.ClickException(str(err)) from None
    except ValueError:  # e.g. a date-like value that is no date: the command words it
        pass
    return value
