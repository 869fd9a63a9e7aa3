"""Inputs of a population run, each with its default and source.

Sources are ../shared/domain.md §1 (scale) and §7 (rates): H = primary source, M =
secondary, L = assumption (a parameter, never a constant). ``sites`` is how many
install-and-leave (I&L) meters the run models: the historic backlog and the I&L
meters installed during the run are sampled in their GB proportions, and
``gb_factor`` scales results back to GB. docs/reference/backlog.md lists every
default with its source and the seed sentence it reproduces.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sim.calendar import DAY
from sim.lifecycle import SampledCommissioning, SiteRules
from sim.policies import ParameterError, check_int, check_range
from sim.suppliers import MarketSpec


@dataclass(frozen=True)
class WanArrival:
    """When WAN reaches an I&L site, in days after installation.

    Reactive I&L (coverage database said yes): fixed within the DCC's 90-day target with
    probability ``reactive_on_target`` (uniform over the target), else a tail beyond it,
    exponential with mean ``reactive_tail_days`` (target H; split and tail L).
    Proactive I&L (known no coverage): ``proactive_min_days`` plus an exponential with
    mean ``proactive_mean_days`` (anticipated coverage date, L, range 180..1500: 1190, calibrated to the seeds'
    figures by ``hansim calibrate``, docs/reference/studies.md; the
    last ~0.7% of premises outside the 99.25% coverage obligation wait for years).
    """

    reactive_fraction: float = 0.6
    target_days: float = 90.0
    reactive_on_target: float = 0.8
    reactive_tail_days: float = 90.0
    proactive_min_days: float = 90.0
    proactive_mean_days: float = 1190.0  # calibrated (was 730, assumed)

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

    ``installs_per_year``: GB SMETS2 meters installed a year, 4,000,000 (M: ~19 M SMETS2
    by end 2023). ``install_and_leave_fraction``: share installed without WAN, 0.10 (L, calibrated to the seeds' figures
    by ``hansim calibrate``, docs/reference/studies.md;
    range 0.01..0.05; WAN coverage 99.3% of premises, H, and reactive I&L where the
    coverage database was wrong). ``install_profile``: relative install volume per run
    year, repeated when shorter than the run (flat, L). ``historic_years``: the history
    run before the epoch, 4 (SMETS2 installs at volume from about 2018, M): the historic
    backlog is what the lifecycle leaves uncommissioned at the epoch after installing at
    the same rate under no process (BEIS's ~500,000 is an upper bound: it included
    genuinely pending devices, seeds). ``smets2_meters``: GB SMETS2 meters at the epoch,
    11,000,000 (M: ~19 M by end 2023 less two years of installs), growing by
    ``installs_per_year``: the denominator of the share of gains that are uncommissioned.
    ``gas_share``: I&L premises with a gas meter too, 0.8 (L;
    ~85% of GB homes use mains gas, M). ``split_supply``: dual-fuel premises whose gas
    installer is not the electricity installer, 0.1 (L). ``igt_share``: I&L premises
    that are IGT gas-only new builds, 0.03 (L; seeds: IGTs fit the GSME, the ESME comes
    later), whose ESME another party fits ``igt_esme_lag_days`` later (mean, exponential,
    120, L). ``obligation_start``: when the install-code obligation (the SLA) starts,
    2022-02-24 (the February 2022 SEC release, seeds, H); the ``epoch``, 2021-11-24, is three
    months before it (seeds: three months' preparation to clear the backlog): the process
    is available from the epoch.
    """

    sites: int = 100_000
    years: float = 5.0
    installs_per_year: float = 4_000_000.0
    install_and_leave_fraction: float = 0.10  # calibrated (was 0.08, assumed)
    install_profile: tuple[float, ...] = (1.0,)
    historic_years: float = 4.0
    smets2_meters: float = 11_000_000.0
    gas_share: float = 0.8
    split_supply: float = 0.1
    igt_share: float = 0.03
    igt_esme_lag_days: float = 120.0
    epoch: str = "2021-11-24"
    obligation_start: str = "2022-02-24"
    market: MarketSpec = field(default_factory=MarketSpec)
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
        object.__setattr__(self, "epoch", str(self.epoch))  # YAML reads dates as dates
        try:
            dt.date.fromisoformat(self.epoch)
        except ValueError:
            raise ParameterError(f"epoch = {self.epoch!r} is not a date (allowed: YYYY-MM-DD)") from None
        check_range("historic_years", self.historic_years, 1 / 365, 30.0)
        check_range("smets2_meters", self.smets2_meters, 1.0)
        check_range("gas_share", self.gas_share, 0.0, 1.0)
        check_range("split_supply", self.split_supply, 0.0, 1.0)
        check_range("igt_share", self.igt_share, 0.0, 1.0)
        if self.gas_share + self.igt_share > 1.0:
            raise ParameterError(f"gas_share + igt_share = {self.gas_share + self.igt_share:g} "
                                 "(allowed: at most 1, they are shares of the same premises)")
        check_range("igt_esme_lag_days", self.igt_esme_lag_days, 0.0, 3650.0)
        object.__setattr__(self, "obligation_start", str(self.obligation_start))
        try:
            obligation = dt.date.fromisoformat(self.obligation_start)
        except ValueError:
            raise ParameterError(f"obligation_start = {self.obligation_start!r} is not a date "
                                 "(allowed: YYYY-MM-DD)") from None
        if obligation < dt.date.fromisoformat(self.epoch):
            raise ParameterError(f"obligation_start = {self.obligation_start} is before the epoch "
                                 f"(allowed: {self.epoch} or later)")
        if self.il_per_year <= 0:
            raise ParameterError("installs_per_year x install_and_leave_fraction is 0 "
                                 "(allowed: > 0: the model follows install-and-leave meters)")

    @property
    def il_per_year(self) -> float:
        """GB install-and-leave meters installed a year."""
        return self.installs_per_year * self.install_and_leave_fraction

    @property
    def obligation_day(self) -> int:
        """Days from the epoch to the obligation's start."""
        return (dt.date.fromisoformat(self.obligation_start) - dt.date.fromisoformat(self.epoch)).days

    def gb_gains(self, year: int, span: float = 1.0) -> float:
        """GB SMETS2 meters gained on a change of supplier in run year ``year`` (1-based),
        over ``span`` of it: the CoS hazard times the meters there on average."""
        meters = self.smets2_meters + self.installs_per_year * (year - 1 + span / 2)
        return self.rules.cos_hazard * meters * span

    @property
    def days(self) -> int:
        return int(round(self.years * 365.25))

    @property
    def end(self) -> float:
        return self.days * DAY

    @property
    def gb_factor(self) -> float:
        """GB sites per modelled site."""
        return self.il_per_year * (self.historic_years + self.years) / self.sites

    @property
    def historic_sites(self) -> int:
        """Modelled meters installed in the history run (the rest are installed during the run)."""
        return int(round(self.sites * self.historic_years / (self.historic_years + self.years)))

    def replace(self, **changes: Any) -> PopulationParams:
        """A copy with ``changes``, which ``__post_init__`` checks (they come from users' files)."""
        return dataclasses.replace(self, **changes)


def with_overrides(params: PopulationParams, overrides: dict[str, object]) -> PopulationParams:
    """``params`` with dotted overrides (``wan.target_days``, ``rules.cos_hazard``, ...)."""
    nested: dict[str, dict[str, object]] = {}
    top: dict[str, object] = {}
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if name:
            if group not in GROUPS:
                raise ParameterError(f"parameter {key!r} is unknown (groups: {', '.join(GROUPS)})")
            nested.setdefault(group, {})[name] = value
        else:
            top[key] = tuple(value) if isinstance(value, list) else value
    known = {f.name for f in dataclasses.fields(PopulationParams)} - set(GROUPS)
    for key in top:
        if key not in known:
            raise ParameterError(f"parameter {key!r} is unknown (allowed: {', '.join(sorted(known))})")
    for group, values in nested.items():
        current = getattr(params, group)
        top[group] = _rebuild(group, current, values)
    return params.replace(**top)


def _rebuild(group: str, current: Any, values: dict[str, object]) -> Any:
    """``current`` (one of the dataclasses in ``GROUPS``) with ``values`` replaced."""
    if isinstance(current, MarketSpec):  # market.large.share: one level deeper
        classes: dict[str, dict[str, object]] = {}
        for name, value in values.items():
            kind, _, field_name = name.partition(".")
            if kind not in ("large", "small") or not field_name:
                raise ParameterError(f"parameter 'market.{name}' is unknown "
                                     "(allowed: market.large.FIELD, market.small.FIELD)")
            classes.setdefault(kind, {})[field_name] = value
        return MarketSpec(**{kind: _rebuild(f"market.{kind}", getattr(current, kind), v)
                             for kind, v in classes.items()}
                          | {kind: getattr(current, kind) for kind in ("large", "small") if kind not in classes})
    allowed = {f.name for f in dataclasses.fields(current)} - {"name"}
    for name in values:
        if name not in allowed:
            raise ParameterError(
                f"parameter '{group}.{name}' is unknown (allowed: {', '.join(sorted(allowed))})")
    return dataclasses.replace(current, **{k: tuple(v) if isinstance(v, list) else v
                                           for k, v in values.items()})


GROUPS = ("wan", "rules", "commissioning", "market")


def as_dict(params: PopulationParams) -> dict[str, object]:
    """The parameters as plain JSON-ready values, for summaries and sweep keys."""
    return dataclasses.asdict(params)
