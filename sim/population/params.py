"""Inputs of a population run, each with its default and source.

Sources are ../shared/domain.md §1 (scale) and §7 (rates): H = primary source, M =
secondary, L = assumption (a parameter, never a constant). ``sites`` is how many
install-and-leave (I&L) sites the run models: the historic backlog and the I&L
installs of the run are sampled in their GB proportions, and ``gb_factor`` scales
results back to GB.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

from sim.calendar import DAY
from sim.lifecycle import SampledCommissioning, SiteRules
from sim.policies import ParameterError, check_int, check_range


@dataclass(frozen=True)
class WanArrival:
    """When WAN reaches an I&L site, in days after installation.

    Reactive I&L (coverage database said yes): fixed within the DCC's 90-day target with
    probability ``reactive_on_target`` (uniform over the target), else a tail beyond it,
    exponential with mean ``reactive_tail_days`` (target H; split and tail L).
    Proactive I&L (known no coverage): ``proactive_min_days`` plus an exponential with
    mean ``proactive_mean_days`` (anticipated coverage date, L).
    """

    reactive_fraction: float = 0.6
    target_days: float = 90.0
    reactive_on_target: float = 0.8
    reactive_tail_days: float = 90.0
    proactive_min_days: float = 90.0
    proactive_mean_days: float = 365.0

    def __post_init__(self) -> None:
        check_range("wan.reactive_fraction", self.reactive_fraction, 0.0, 1.0)
        check_range("wan.target_days", self.target_days, 0.0, 3650.0)
        check_range("wan.reactive_on_target", self.reactive_on_target, 0.0, 1.0)
        check_range("wan.reactive_tail_days", self.reactive_tail_days, 0.0, 3650.0)
        check_range("wan.proactive_min_days", self.proactive_min_days, 0.0, 3650.0)
        check_range("wan.proactive_mean_days", self.proactive_mean_days, 0.0, 3650.0)

    def mean_days(self) -> float:
        """Mean delay (days): what Little's law needs when nothing else holds a site up."""
        reactive = (self.reactive_on_target * self.target_days / 2
                    + (1 - self.reactive_on_target) * (self.target_days + self.reactive_tail_days))
        proactive = self.proactive_min_days + self.proactive_mean_days
        return self.reactive_fraction * reactive + (1 - self.reactive_fraction) * proactive


@dataclass(frozen=True)
class PopulationParams:
    """Everything a population run needs besides the policy and the seed.

    ``installs_per_year``: GB SMETS2 installs a year, 4,000,000 (M: ~19 M SMETS2 by end
    2023). ``install_and_leave_fraction``: share installed without WAN, 0.02 (L; WAN
    coverage 99.3%, H). ``install_profile``: relative install volume per run year,
    repeated when shorter than the run (flat, L). ``historic_backlog``: non-commissioned
    SMETS2 at the start, 500,000 (BEIS estimate, §1, M), installed uniformly over the
    previous ``historic_years`` (L). ``warmup_years``: steady-state figures exclude the
    run's start (default 1 year, or half a shorter run).
    """

    sites: int = 100_000
    years: float = 5.0
    installs_per_year: float = 4_000_000.0
    install_and_leave_fraction: float = 0.02
    install_profile: tuple[float, ...] = (1.0,)
    historic_backlog: float = 500_000.0
    historic_years: float = 3.0
    warmup_years: float | None = None
    epoch: str = "2025-01-01"
    wan: WanArrival = field(default_factory=WanArrival)
    rules: SiteRules = field(default_factory=SiteRules)
    commissioning: SampledCommissioning = field(default_factory=SampledCommissioning)

    def __post_init__(self) -> None:
        check_int("sites", self.sites, 1, 50_000_000)
        check_range("years", self.years, 1 / 365, 30.0)
        check_range("installs_per_year", self.installs_per_year, 0.0)
        check_range("install_and_leave_fraction", self.install_and_leave_fraction, 0.0, 1.0)
        if not isinstance(self.install_profile, (tuple, list)):
            raise ParameterError(f"install_profile = {self.install_profile!r} is not a list "
                                 "(allowed: one weight >= 0 per year, e.g. [1, 1.2])")
        if not self.install_profile:
            raise ParameterError("install_profile is empty (allowed: one weight >= 0 per year)")
        for i, weight in enumerate(self.install_profile):
            check_range(f"install_profile[{i}]", weight, 0.0)
        years_run = math.ceil(self.years)
        if sum((list(self.install_profile) * years_run)[:years_run]) <= 0:
            raise ParameterError("install_profile has no weight > 0 in the run's years "
                                 "(allowed: at least one weight > 0 within years)")
        check_range("historic_backlog", self.historic_backlog, 0.0)
        object.__setattr__(self, "epoch", str(self.epoch))  # YAML reads dates as dates
        try:
            dt.date.fromisoformat(self.epoch)
        except ValueError:
            raise ParameterError(f"epoch = {self.epoch!r} is not a date (allowed: YYYY-MM-DD)") from None
        check_range("historic_years", self.historic_years, 1 / 365, 30.0)
        if self.warmup_years is not None:
            check_range("warmup_years", self.warmup_years, 0.0, round(self.years * 0.9, 6))
        if self.historic_backlog + self.il_per_year * self.years <= 0:
            raise ParameterError(
                "historic_backlog and installs_per_year x install_and_leave_fraction are both 0 "
                "(allowed: at least one > 0)")

    @property
    def warmup_days(self) -> int:
        """Steady-state figures start here: ``warmup_years``, or 1 year (half a short run)."""
        years = self.warmup_years if self.warmup_years is not None else min(1.0, self.years / 2)
        return int(round(years * 365.25))

    @property
    def il_per_year(self) -> float:
        """GB install-and-leave installs a year."""
        return self.installs_per_year * self.install_and_leave_fraction

    @property
    def days(self) -> int:
        return int(round(self.years * 365.25))

    @property
    def end(self) -> float:
        return self.days * DAY

    @property
    def gb_factor(self) -> float:
        """GB sites per modelled site."""
        return (self.historic_backlog + self.il_per_year * self.years) / self.sites

    @property
    def historic_sites(self) -> int:
        """Modelled sites in the historic backlog (the rest are installed during the run)."""
        return int(round(self.historic_backlog / self.gb_factor))

    def replace(self, **changes: object) -> "PopulationParams":
        return dataclasses.replace(self, **changes)


def with_overrides(params: PopulationParams, overrides: dict[str, object]) -> PopulationParams:
    """``params`` with dotted overrides (``wan.target_days``, ``rules.cos_hazard``, ...)."""
    nested: dict[str, dict[str, object]] = {}
    top: dict[str, object] = {}
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if name:
            if group not in ("wan", "rules", "commissioning"):
                raise ParameterError(f"parameter {key!r} is unknown (groups: wan, rules, commissioning)")
            nested.setdefault(group, {})[name] = value
        else:
            top[key] = tuple(value) if isinstance(value, list) else value
    known = {f.name for f in dataclasses.fields(PopulationParams)} - {"wan", "rules", "commissioning"}
    for key in top:
        if key not in known:
            raise ParameterError(f"parameter {key!r} is unknown (allowed: {', '.join(sorted(known))})")
    for group, values in nested.items():
        current = getattr(params, group)
        top[group] = _rebuild(group, current, values)
    return params.replace(**top)


def _rebuild(group: str, current: object, values: dict[str, object]) -> object:
    allowed = {f.name for f in dataclasses.fields(current)}
    for name in values:
        if name not in allowed:
            raise ParameterError(
                f"parameter '{group}.{name}' is unknown (allowed: {', '.join(sorted(allowed))})")
    return dataclasses.replace(current, **{k: tuple(v) if isinstance(v, list) else v
                                           for k, v in values.items()})


def as_dict(params: PopulationParams) -> dict[str, object]:
    """The parameters as plain JSON-ready values, for summaries and sweep keys."""
    return dataclasses.asdict(params)
