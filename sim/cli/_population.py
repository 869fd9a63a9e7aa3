"""Shared by ``hansim backlog`` and ``hansim sweep``: KEY=VALUE overrides and run errors."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import click
import yaml

from sim.api import regimes, split_overrides

# numpy comes with these: imported by the functions that build a run, so that a command
# refusing an input file before any run does not wait for it
if TYPE_CHECKING:
    from sim.policies import Policy
    from sim.population.params import PopulationParams

__all__ = ["build", "parse_overrides", "parse_value", "policies", "split_overrides"]


def parse_value(text: str) -> object:
    """A YAML scalar or list (``0.1``, ``10``, ``[1, 5]``); anything else stays text.

    Numbers YAML 1.1 reads as text (``1e300``, ``nan``, ``inf``) are numbers here, so the
    range checks can say what is wrong with them rather than "is not a number"."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # ValueError: a date-like text that is no date
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value if isinstance(value, (bool, int, float, list)) else text


def parse_overrides(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, object]:
    """``--set KEY=VALUE`` options as a mapping, each value read as :func:`parse_value` reads it."""
    parsed = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx, param)
        parsed[key.strip()] = parse_value(text.strip())
    return parsed


EPOCHS = (dt.date(2000, 1, 1), dt.date(2100, 12, 31))  # the calendar's holidays end long before 9999


def _check_epoch(value: object) -> None:
    """The epoch in the calendar's range; checked before the rest, which is relative to it
    (an epoch of 9999-12-31 is the user's mistake, not the obligation date's)."""
    from sim.policies import ParameterError

    try:
        epoch = dt.date.fromisoformat(str(value))
    except ValueError:
        return  # not a date at all: the parameters' own check says so
    if not EPOCHS[0] <= epoch <= EPOCHS[1]:
        raise ParameterError(f"epoch = {value} is outside the allowed range ({EPOCHS[0]}..{EPOCHS[1]})")


def build(params: PopulationParams, model: dict[str, object]) -> PopulationParams:
    from sim.policies import ParameterError
    from sim.population.params import with_overrides

    try:
        _check_epoch(model.get("epoch", params.epoch))
        built = with_overrides(params, model)
        _check_epoch(built.epoch)
        if not 1 <= built.il_per_year < math.inf or not built.gb_factor < math.inf:  # each in range
            # alone, their product can still be nothing (or overflow) and the model divides by it
            raise ParameterError(f"installs_per_year x install_and_leave_fraction = {built.il_per_year:g} "
                                 "install-and-leave meters a year (allowed: at least 1, finite)")
        return built
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    except (TypeError, ValueError) as err:  # a value of the wrong type inside a dataclass check
        raise click.ClickException(f"bad parameter value: {err}") from None


def policies(names: list[str], policy_params: dict[str, object]) -> list[Policy]:
    """The named policies; each policy parameter must apply to at least one of them."""
    from sim.policies import ParameterError

    try:
        return regimes(names, policy_params)
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    except (TypeError, ValueError) as err:
        raise click.ClickException(f"bad policy parameter value: {err}") from None
