"""Shared by ``hansim backlog`` and ``hansim sweep``: KEY=VALUE overrides and run errors."""

from __future__ import annotations

import click
import yaml

from sim.policies import POLICIES, ParameterError, Policy, make_policy
from sim.population.params import PopulationParams, with_overrides

POLICY_PREFIX = "policy."


def parse_value(text: str) -> object:
    """A YAML scalar or list (``0.1``, ``10``, ``[1, 5]``); anything else stays text."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # ValueError: a date-like text that is no date
        return text
    return value if isinstance(value, (bool, int, float, str, list)) else text


def split_overrides(overrides: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """(model parameter overrides, policy parameter overrides)."""
    model = {k: v for k, v in overrides.items() if not k.startswith(POLICY_PREFIX)}
    policy = {k[len(POLICY_PREFIX):]: v for k, v in overrides.items() if k.startswith(POLICY_PREFIX)}
    return model, policy


def build(params: PopulationParams, model: dict[str, object]) -> PopulationParams:
    try:
        return with_overrides(params, model)
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    except (TypeError, ValueError) as err:  # a value of the wrong type inside a dataclass check
        raise click.ClickException(f"bad parameter value: {err}") from None


def policies(names: list[str], policy_params: dict[str, object]) -> list[Policy]:
    """The named policies; each policy parameter must apply to at least one of them."""
    built = []
    try:
        for name in names:
            cls, _ = POLICIES.get(name, (None, None))
            accepted = set(cls().params()) if cls else set()
            built.append(make_policy(name, **{k: v for k, v in policy_params.items() if k in accepted}))
        unused = [k for k in policy_params if not any(k in p.params() for p in built)]
        if unused:
            allowed = sorted({k for p in built for k in p.params()}) or ["none"]
            raise ParameterError(f"policy parameter {unused[0]!r} applies to none of the policies "
                                 f"{', '.join(names)} (allowed: {', '.join(allowed)})")
        labels = [p.label() for p in built]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                raise ParameterError(f"policies {names[labels.index(label)]} and {names[i]} both run as "
                                     f"{label} (allowed: regimes that differ in what runs)")
    except ParameterError as err:
        raise click.ClickException(str(err)) from None
    except (TypeError, ValueError) as err:
        raise click.ClickException(f"bad policy parameter value: {err}") from None
    return built
