"""An MP155 re-flash study: several suppliers' Comms Hub stock, the three CSP regions'
re-flash capacity, the costs of installing old firmware, and the price the DCC charges.

Read from YAML (``scenarios/reflash/mp155-reflash.yaml`` is the bundled study) and checked
against the firmware catalogue and each parameter's valid range before any run starts,
so a bad value fails with the file, line and field (:mod:`sim.yamlfile`). Every
parameter's source, or "assumed" with a range to vary, is in :data:`SOURCES` (and in the
study file's comments, and in the HTML report).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scenarios
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

if TYPE_CHECKING:  # imported where a study is built: hansim reflash's options read STRATEGIES without it
    from firmware.catalogue import Catalogue

STRATEGIES = ("hold", "reflash", "ota", "writeoff")
CSP_REGIONS = ("North", "Central", "South")
BUNDLED = scenarios.FOLDER / "reflash" / "mp155-reflash.yaml"
#: Highest per-CH price accepted: ten times MP155's top price point, to catch typos (pence).
MAX_PRICE_GBP = 300.0
_MISSING = object()

#: Where each parameter's value comes from: H primary source, M secondary, or assumed with
#: the range a study should vary it over (shared/domain.md's convention).
SOURCES: dict[str, str] = {
    "suppliers[].installs_per_wd": "assumed: 20..300 CH installs per working day per supplier",
    "suppliers[].models": "assumed: share of installs by CH model",
    "suppliers[].regions": "assumed: share of installs by CSP region (North is the smallest, M)",
    "suppliers[].install_and_leave_share": "M: ~0.7% of premises without WAN (99.3% coverage, "
                                           "domain.md 7) plus reactive cases; assumed 0.5%..10%",
    "suppliers[].initial_stock": "assumed: the MP155 problem statement (old firmware held in volume, H)",
    "suppliers[].order_up_to": "assumed: 2..6 weeks of installs",
    "ordering.review_every_wd": "assumed: 1..10 working days",
    "ordering.lead_time_wd": "assumed: 5..20 working days",
    "csps.*.lines": "assumed: 1..5 parallel re-flash lines per CSP",
    "csps.*.chs_per_line_per_day": "assumed: 50..500 CHs per line per day (lines run every day)",
    "csps.*.failure_probability": "assumed: 0..5% of re-flashes fail (CH scrapped at the CSP)",
    "reflash.batch_size": "assumed: Work Order size 50..1000 CHs (MP155: batches, H)",
    "reflash.min_stock_age_days": "assumed: 30..180 days",
    "reflash.shipping_wd": "assumed: 1..5 working days each way",
    "reflash.release_notice_days": "assumed: 30..180 days a release is known before it ships",
    "reflash.hold_before_release_days": "assumed: 30..120 days (no Work Order this close to a known release)",
    "reflash.price_points_gbp": "H: MP155 refinement consultation, question 9 (£12/£18/£25/£30)",
    "reflash.volume_price.variable_gbp": "assumed: £5..£15 per CH handled (CSP labour, shipping)",
    "reflash.volume_price.fixed_gbp": "assumed: £50k..£500k build and running cost spread over the "
                                      "volume (H: 'dependent on the volume', question 9)",
    "writeoff.single_band_gbp": "M: non-redeployable CH return, single band £30.87 (domain.md 1)",
    "writeoff.dual_band_gbp": "M: non-redeployable CH return, dual band £58.75 (domain.md 1)",
    "writeoff.min_stock_age_days": "assumed: 30..180 days",
    "old_firmware.install_failure_probability": "assumed: 1%..8% of old-firmware installs fail "
                                                "install or HAN interoperability",
    "old_firmware.install_failure_gbp": "assumed: £80..£200 revisit per failed install",
    "old_firmware.wan_wait_days": "H: reactive install-and-leave 90-day DCC target; proactive later "
                                  "(domain.md 1); assumed 30..365 days",
    "old_firmware.hub_day_gbp": "assumed: £0..£0.10 per day a hub runs superseded firmware in the field",
    "ota.per_hop_gbp": "assumed: £2..£8 per SRV 11.1 + 11.3 upgrade cycle",
    "ota.failure_probability": "assumed: 0.5%..5% of over-the-air upgrades fail",
    "ota.delay_days": "assumed: 3..30 days from WAN to the upgrade done",
    "ota.site_visit_gbp": "assumed: £80..£200 per site visit",
    "shortfall_gbp": "assumed: £30..£150 per install missed for lack of stock (a rebooked appointment)",
}


class _Invalid(ValueError):
    """A field that fails a check: its path and why (located in the file by the caller)."""

    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


@dataclass(frozen=True)
class StockLot:
    model: str
    version: int
    count: int
    age_days: tuple[float, float]


@dataclass(frozen=True)
class Supplier:
    """One DCC User holding CH stock; its stock is split across CSP regions by share."""

    name: str
    installs_per_wd: float
    models: dict[str, float]
    regions: dict[str, float]
    install_and_leave_share: float
    initial_stock: tuple[StockLot, ...]
    order_up_to: dict[str, int]


@dataclass(frozen=True)
class CspParams:
    """A CSP region's re-flash service: parallel lines, time per CH, failure rate."""

    region: str
    lines: int
    chs_per_line_per_day: float
    failure_probability: float


@dataclass(frozen=True)
class Scenario:
    start: dt.date
    days: int
    seed: int
    catalogue: Catalogue
    strategies: tuple[str, ...]
    suppliers: tuple[Supplier, ...]
    csps: dict[str, CspParams]
    review_every_wd: int
    lead_time_wd: int
    batch_size: int
    reflash_min_age_days: float
    shipping_wd: int
    release_notice_days: float
    hold_before_release_days: float
    reflash_before_release: bool
    allow_repeat_reflash: bool
    price_points: tuple[float, ...]
    variable_gbp: float
    fixed_gbp: float
    writeoff_gbp: dict[str, float]
    writeoff_min_age_days: float
    install_failure_probability: float
    install_failure_gbp: float
    wan_wait_days: tuple[float, float]
    hub_day_gbp: float
    ota_per_hop_gbp: float
    ota_failure_probability: float
    ota_delay_days: float
    site_visit_gbp: float
    shortfall_gbp: float

    @classmethod
    def load(cls, path: Path | str = BUNDLED) -> Scenario:
        """Raise :class:`InputFileError` (file, line, field, why) for a bad file."""
        path = Path(path)
        return cls.from_document(load_yaml(path), base=path.parent)

    @classmethod
    def from_document(cls, doc: YamlDocument, base: Path) -> Scenario:
        try:
            scenario = _scenario(doc, base)
            _check(scenario)
        except _Invalid as err:
            raise doc.error(err.path, err.message) from None
        return scenario

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (the CLI's overrides), checked again."""
        changed = dc_replace(self, **changes)
        try:
            _check(changed)
        except _Invalid as err:
            raise InputFileError("override", None, err.path, err.message) from None
        return changed

    def volume_price(self, volume: int) -> float:
        """The DCC's fixed charge per CH when ``volume`` CHs are re-flashed: its variable
        cost plus its fixed cost spread over the volume (the seed: 'dependent on the volume')."""
        return self.variable_gbp + self.fixed_gbp / volume if volume else float("inf")

    def parameters(self) -> list[tuple[str, str, str]]:
        """(parameter, value, source) for the report: what this study assumed and why."""
        values = {
            "reflash.batch_size": self.batch_size, "reflash.min_stock_age_days": self.reflash_min_age_days,
            "reflash.shipping_wd": self.shipping_wd, "reflash.release_notice_days": self.release_notice_days,
            "reflash.hold_before_release_days": self.hold_before_release_days,
            "reflash.price_points_gbp": list(self.price_points),
            "reflash.volume_price.variable_gbp": self.variable_gbp,
            "reflash.volume_price.fixed_gbp": self.fixed_gbp,
            "writeoff.single_band_gbp": self.writeoff_gbp["single"],
            "writeoff.dual_band_gbp": self.writeoff_gbp["dual"],
            "writeoff.min_stock_age_days": self.writeoff_min_age_days,
            "old_firmware.install_failure_probability": self.install_failure_probability,
            "old_firmware.install_failure_gbp": self.install_failure_gbp,
            "old_firmware.wan_wait_days": list(self.wan_wait_days),
            "old_firmware.hub_day_gbp": self.hub_day_gbp, "ota.per_hop_gbp": self.ota_per_hop_gbp,
            "ota.failure_probability": self.ota_failure_probability, "ota.delay_days": self.ota_delay_days,
            "ota.site_visit_gbp": self.site_visit_gbp, "shortfall_gbp": self.shortfall_gbp,
            "ordering.review_every_wd": self.review_every_wd, "ordering.lead_time_wd": self.lead_time_wd,
        }
        for region, csp in self.csps.items():
            values[f"csps.{region}.lines"] = csp.lines
            values[f"csps.{region}.chs_per_line_per_day"] = csp.chs_per_line_per_day
            values[f"csps.{region}.failure_probability"] = csp.failure_probability
        for i, supplier in enumerate(self.suppliers):
            for name in ("installs_per_wd", "models", "regions", "install_and_leave_share", "order_up_to"):
                values[f"suppliers[{i}].{name}"] = getattr(supplier, name)
        rows = []
        for name, value in values.items():
            key = name.split(".", 1)
            generic = (f"suppliers[].{key[1]}" if name.startswith("suppliers[")
                       else f"csps.*.{name.rsplit('.', 1)[1]}" if name.startswith("csps.") else name)
            rows.append((name, str(value), SOURCES[generic]))
        return rows


def _scenario(doc: YamlDocument, base: Path) -> Scenario:
    if not isinstance(doc.data, dict):
        raise _Invalid((), "not a mapping of scenario fields")

    def get(*path: str | int, convert: Callable[[Any], Any] = lambda v: v, default: Any = _MISSING):
        node = doc.data
        for i, key in enumerate(path):
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            elif not isinstance(node, (dict, list)):
                raise _Invalid(path[:i], "expected a mapping or list here")
            elif default is not _MISSING:
                return default
            else:
                raise _Invalid(path[:i], f"missing field {key!r}")
        try:
            return convert(node)
        except (TypeError, ValueError, AttributeError, LookupError, OverflowError) as err:  # int(.inf), float(9e400)
            raise _Invalid(path, f"malformed value {node!r:.60} ({err})") from None

    shares = lambda v: {str(k): float(x) for k, x in v.items()}  # noqa: E731
    pair = lambda v: (float(v[0]), float(v[1]))  # noqa: E731
    from firmware.catalogue import DEFAULT_CATALOGUE, Catalogue, CatalogueError

    catalogue_file = get("catalogue", default=None)
    if catalogue_file is not None and not isinstance(catalogue_file, str):  # catalogue: true was a TypeError
        raise _Invalid(("catalogue",), f"{catalogue_file!r:.60} is not a file name (or null: the built-in one)")
    try:
        catalogue = Catalogue.load(base / catalogue_file if catalogue_file else DEFAULT_CATALOGUE)
    except CatalogueError as err:
        raise _Invalid(("catalogue",), str(err)) from None
    suppliers = []
    for i in range(len(get("suppliers", convert=list, default=[]))):
        lots = tuple(
            StockLot(get("suppliers", i, "initial_stock", j, "model", convert=str),
                     get("suppliers", i, "initial_stock", j, "version", convert=int),
                     get("suppliers", i, "initial_stock", j, "count", convert=int),
                     get("suppliers", i, "initial_stock", j, "age_days", convert=pair))
            for j in range(len(get("suppliers", i, "initial_stock", convert=list, default=[]))))
        suppliers.append(Supplier(
            name=get("suppliers", i, "name", convert=str),
            installs_per_wd=get("suppliers", i, "installs_per_wd", convert=float),
            models=get("suppliers", i, "models", convert=shares),
            regions=get("suppliers", i, "regions", convert=shares),
            install_and_leave_share=get("suppliers", i, "install_and_leave_share", convert=float),
            initial_stock=lots,
            order_up_to=get("suppliers", i, "order_up_to", convert=lambda v: {str(k): int(x) for k, x in v.items()})))
    csps = {str(region): CspParams(str(region), get("csps", region, "lines", convert=int),
                                   get("csps", region, "chs_per_line_per_day", convert=float),
                                   get("csps", region, "failure_probability", convert=float))
            for region in get("csps", convert=dict)}
    return Scenario(
        start=get("start", convert=_date), days=get("days", convert=int),
        seed=get("seed", convert=int), catalogue=catalogue,
        strategies=get("strategies", convert=lambda v: tuple(map(str, v)), default=STRATEGIES),
        suppliers=tuple(suppliers), csps=csps,
        review_every_wd=get("ordering", "review_every_wd", convert=int),
        lead_time_wd=get("ordering", "lead_time_wd", convert=int),
        batch_size=get("reflash", "batch_size", convert=int),
        reflash_min_age_days=get("reflash", "min_stock_age_days", convert=float),
        shipping_wd=get("reflash", "shipping_wd", convert=int),
        release_notice_days=get("reflash", "release_notice_days", convert=float),
        hold_before_release_days=get("reflash", "hold_before_release_days", convert=float),
        reflash_before_release=get("reflash", "reflash_before_release", convert=_bool, default=False),
        allow_repeat_reflash=get("reflash", "allow_repeat", convert=_bool, default=False),
        price_points=get("reflash", "price_points_gbp", convert=lambda v: tuple(float(p) for p in v)),
        variable_gbp=get("reflash", "volume_price", "variable_gbp", convert=float),
        fixed_gbp=get("reflash", "volume_price", "fixed_gbp", convert=float),
        writeoff_gbp={"single": get("writeoff", "single_band_gbp", convert=float),
                      "dual": get("writeoff", "dual_band_gbp", convert=float)},
        writeoff_min_age_days=get("writeoff", "min_stock_age_days", convert=float),
        install_failure_probability=get("old_firmware", "install_failure_probability", convert=float),
        install_failure_gbp=get("old_firmware", "install_failure_gbp", convert=float),
        wan_wait_days=get("old_firmware", "wan_wait_days", convert=pair),
        hub_day_gbp=get("old_firmware", "hub_day_gbp", convert=float),
        ota_per_hop_gbp=get("ota", "per_hop_gbp", convert=float),
        ota_failure_probability=get("ota", "failure_probability", convert=float),
        ota_delay_days=get("ota", "delay_days", convert=float),
        site_visit_gbp=get("ota", "site_visit_gbp", convert=float),
        shortfall_gbp=get("shortfall_gbp", convert=float),
    )


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("need true or false")
    return value


def _check(s: Scenario) -> None:
    from firmware.catalogue import CatalogueError

    def need(ok: bool, path: tuple, message: str) -> None:
        if not ok:
            raise _Invalid(path, message)

    def known(path: tuple, lookup: Callable[[], Any]) -> Any:
        try:
            return lookup()
        except CatalogueError as err:
            raise _Invalid(path, str(err)) from None

    def probability(path: tuple, value: float) -> None:
        need(0 <= value <= 1, path, f"{value} is not a probability (0..1)")

    def money(path: tuple, value: float) -> None:
        need(0 <= value <= 1e9, path, f"£{value} is out of range (0..1e9)")

    need(s.days >= 1, ("days",), f"{s.days}, need at least 1")
    need(len(s.strategies) > 0 and set(s.strategies) <= set(STRATEGIES), ("strategies",),
         f"{list(s.strategies)}, choose from {list(STRATEGIES)}")
    need(bool(s.suppliers), ("suppliers",), "no suppliers: the study needs at least one")
    need(len({x.name for x in s.suppliers}) == len(s.suppliers), ("suppliers",), "supplier names must differ")
    need(bool(s.csps), ("csps",), f"no CSPs: name at least one of {list(CSP_REGIONS)}")
    for region, csp in s.csps.items():
        need(region in CSP_REGIONS, ("csps", region), f"unknown CSP region, choose from {list(CSP_REGIONS)}")
        need(1 <= csp.lines <= 1000, ("csps", region, "lines"), f"{csp.lines} is out of range (1..1000)")
        need(0 < csp.chs_per_line_per_day <= 1e6, ("csps", region, "chs_per_line_per_day"),
             f"{csp.chs_per_line_per_day} is out of range (> 0, at most 1e6)")
        need(0 <= csp.failure_probability < 1, ("csps", region, "failure_probability"),
             f"{csp.failure_probability} is out of range (0 <= p < 1)")
    for i, x in enumerate(s.suppliers):
        at = ("suppliers", i)
        need(0 <= x.installs_per_wd <= 1e6, (*at, "installs_per_wd"), f"{x.installs_per_wd} is out of range (0..1e6)")
        probability((*at, "install_and_leave_share"), x.install_and_leave_share)
        for name, table in (("models", x.models), ("regions", x.regions)):
            need(bool(table) and all(v >= 0 for v in table.values()) and sum(table.values()) > 0,
                 (*at, name), "need non-negative shares with a positive total")
        for region in x.regions:
            need(region in s.csps, (*at, "regions", region), f"no CSP {region!r} in csps")
        for name in sorted(set(x.models) | set(x.order_up_to)):
            model_at = (*at, "models" if name in x.models else "order_up_to", name)
            model = known(model_at, lambda: s.catalogue.model(name))
            need(model.band is not None, model_at,
                 f"model {name} is not a Comms Hub (no HAN band in the catalogue)")
            known(model_at, lambda: model.latest_production(s.start))
        for name, target in x.order_up_to.items():
            need(target >= 0, (*at, "order_up_to", name), f"{target} < 0")
        for j, lot in enumerate(x.initial_stock):
            lot_at = (*at, "initial_stock", j)
            need(lot.model in x.models, (*lot_at, "model"), f"{lot.model} is not in this supplier's models")
            model = known((*lot_at, "model"), lambda: s.catalogue.model(lot.model))
            known((*lot_at, "version"), lambda: model.version(lot.version))
            need(lot.count >= 0, (*lot_at, "count"), f"{lot.count} < 0")
            need(0 <= lot.age_days[0] <= lot.age_days[1], (*lot_at, "age_days"),
                 f"{list(lot.age_days)} is not [low, high] with 0 <= low <= high")
    need(s.review_every_wd >= 1, ("ordering", "review_every_wd"), "need >= 1")
    need(s.batch_size >= 1, ("reflash", "batch_size"), "need >= 1")
    for path, value in [(("ordering", "lead_time_wd"), s.lead_time_wd), (("reflash", "shipping_wd"), s.shipping_wd),
                        (("reflash", "min_stock_age_days"), s.reflash_min_age_days),
                        (("reflash", "release_notice_days"), s.release_notice_days),
                        (("reflash", "hold_before_release_days"), s.hold_before_release_days),
                        (("writeoff", "min_stock_age_days"), s.writeoff_min_age_days),
                        (("ota", "delay_days"), s.ota_delay_days)]:
        need(value >= 0, path, f"{value} < 0")
    need(bool(s.price_points), ("reflash", "price_points_gbp"), "need at least one price point")
    for k, price in enumerate(s.price_points):
        need(0 < price <= MAX_PRICE_GBP, ("reflash", "price_points_gbp", k),
             f"£{price} is out of range (more than £0, at most £{MAX_PRICE_GBP:g} per CH)")
    need(list(s.price_points) == sorted(set(s.price_points)), ("reflash", "price_points_gbp"),
         "price points must rise, each once")
    need(0 <= s.variable_gbp <= MAX_PRICE_GBP, ("reflash", "volume_price", "variable_gbp"),
         f"£{s.variable_gbp} is out of range (0..£{MAX_PRICE_GBP:g} per CH)")
    money(("reflash", "volume_price", "fixed_gbp"), s.fixed_gbp)
    for band, value in s.writeoff_gbp.items():
        money(("writeoff", f"{band}_band_gbp"), value)
    for cost_at, value in [(("old_firmware", "install_failure_gbp"), s.install_failure_gbp),
                        (("old_firmware", "hub_day_gbp"), s.hub_day_gbp), (("ota", "per_hop_gbp"), s.ota_per_hop_gbp),
                        (("ota", "site_visit_gbp"), s.site_visit_gbp), (("shortfall_gbp",), s.shortfall_gbp)]:
        money(cost_at, value)
    probability(("old_firmware", "install_failure_probability"), s.install_failure_probability)
    probability(("ota", "failure_probability"), s.ota_failure_probability)
    need(0 <= s.wan_wait_days[0] <= s.wan_wait_days[1], ("old_firmware", "wan_wait_days"),
         f"{list(s.wan_wait_days)} is not [low, high] with 0 <= low <= high")
