"""Option types shared by the commands: values a field engineer might mistype.

click's FloatRange lets NaN through (every comparison with NaN is false) and
``float("1e309")`` is infinity; a NaN or infinite time, interval or start would then
crash or hang a run far from the option that caused it. These types refuse them where
they are typed, as bad input (exit 1, see ``sim/cli/__init__.py``).
"""

from __future__ import annotations

import math

import click


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
