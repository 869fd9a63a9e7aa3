"""Shared by ``hansim backlog`` and ``hansim sweep``: KEY=VALUE overrides and run errors."""

from __future__ import annotations

import click
import yaml

from sim.api import regimes, split_overrides
from sim.policies import ParameterError, Policy
from sim.population.params import PopulationParams, with_overrides

__all__ = ["build", "parse_value", "policies", "split_overrides"]


def parse_value(text: str) -> object:
    """A YAML scalar or list (``0.1``, ``10``, ``[1, 5]``); anything else stays text."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # ValueError: a date-like text that is no date
        return text
    return value if isinstance(value, (bool, int, float, str, list)) else text


def build(params: PopulationParams, model: dict[str, object]) -> PopulationParams:
    try:
        return with_overrides(params, model)
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    except TypeError as err:  # a value of the wrong type inside a dataclass check
        raise click.ClickException(f"bad parameter value: {err}") from None


def policies(names: list[str], policy_params: dict[str, object]) -> list[Policy]:
    """The named policies; each policy parameter must apply to at least one of them."""
    try:
        return regimes(names, policy_params)
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
