"""An MP155 re-flash scenario: one supplier's Comms Hub stock, demand, and strategy costs.

Read from YAML (``scenarios/mp155-reflash.yaml`` is the bundled default) and checked
against the firmware catalogue, so a wrong model or version fails before any run
starts, with the file, line and field (:mod:`sim.yamlfile`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

import scenarios
from firmware.catalogue import DEFAULT_CATALOGUE, Catalogue, CatalogueError
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

STRATEGIES = ("hold", "reflash", "ota", "writeoff")
BUNDLED = scenarios.FOLDER / "mp155-reflash.yaml"
_MISSING = object()


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
class Scenario:
    start: dt.date
    days: int
    seed: int
    catalogue: Catalogue
    strategies: tuple[str, ...]
    installs_per_wd: float
    share: dict[str, float]
    initial_stock: tuple[StockLot, ...]
    review_every_wd: int
    order_up_to: dict[str, int]
    lead_time_wd: int
    batch_size: int
    reflash_min_age_days: float
    shipping_wd: int
    csp_turnaround_wd: int
    reflash_prices: tuple[float, ...]
    writeoff_gbp: dict[str, float]
    writeoff_min_age_days: float
    ota_per_hop_gbp: float
    ota_failure_probability: float
    site_visit_gbp: float

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


def _scenario(doc: YamlDocument, base: Path) -> Scenario:
    if not isinstance(doc.data, dict):
        raise _Invalid((), "not a mapping of scenario fields")

    def get(*path: str | int, convert: Callable[[Any], Any] = lambda v: v, default: Any = _MISSING):
        node = doc.data
        for i, key in enumerate(path):
            if not isinstance(node, (dict, list)):
                raise _Invalid(path[:i], "expected a mapping or list here")
            if (key not in node) if isinstance(node, dict) else not 0 <= key < len(node):
                if default is not _MISSING:
                    return default
                raise _Invalid(path[:i], f"missing field {key!r}")
            node = node[key]
        try:
            return convert(node)
        except (TypeError, ValueError, AttributeError, IndexError) as err:
            raise _Invalid(path, f"malformed value {node!r} ({err})") from None

    catalogue_file = get("catalogue", default=None)
    try:
        catalogue = Catalogue.load(base / catalogue_file if catalogue_file else DEFAULT_CATALOGUE)
    except CatalogueError as err:
        raise _Invalid(("catalogue",), str(err)) from None
    lots = []
    for i in range(len(get("initial_stock", convert=list, default=[]))):
        lots.append(StockLot(get("initial_stock", i, "model", convert=str),
                             get("initial_stock", i, "version", convert=int),
                             get("initial_stock", i, "count", convert=int),
                             get("initial_stock", i, "age_days", convert=lambda v: (float(v[0]), float(v[1])))))
    return Scenario(
        start=get("start", convert=_date), days=get("days", convert=int),
        seed=get("seed", convert=int), catalogue=catalogue,
        strategies=get("strategies", convert=lambda v: tuple(map(str, v)), default=STRATEGIES),
        installs_per_wd=get("installs", "per_working_day", convert=float),
        share=get("installs", "share", convert=lambda v: {str(k): float(x) for k, x in v.items()}),
        initial_stock=tuple(lots),
        review_every_wd=get("ordering", "review_every_wd", convert=int),
        order_up_to=get("ordering", "order_up_to", convert=lambda v: {str(k): int(x) for k, x in v.items()}),
        lead_time_wd=get("ordering", "lead_time_wd", convert=int),
        batch_size=get("reflash", "batch_size", convert=int),
        reflash_min_age_days=get("reflash", "min_stock_age_days", convert=float),
        shipping_wd=get("reflash", "shipping_wd", convert=int),
        csp_turnaround_wd=get("reflash", "csp_turnaround_wd", convert=int),
        reflash_prices=get("reflash", "prices_gbp", convert=lambda v: tuple(float(p) for p in v)),
        writeoff_gbp={"single": get("writeoff", "single_band_gbp", convert=float),
                      "dual": get("writeoff", "dual_band_gbp", convert=float)},
        writeoff_min_age_days=get("writeoff", "min_stock_age_days", convert=float),
        ota_per_hop_gbp=get("ota", "per_hop_gbp", convert=float),
        ota_failure_probability=get("ota", "failure_probability", convert=float),
        site_visit_gbp=get("ota", "site_visit_gbp", convert=float),
    )


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _check(s: Scenario) -> None:
    def need(ok: bool, path: tuple, message: str) -> None:
        if not ok:
            raise _Invalid(path, message)

    def known(path: tuple, lookup: Callable[[], Any]) -> Any:
        try:
            return lookup()
        except CatalogueError as err:
            raise _Invalid(path, str(err)) from None

    need(s.days >= 1, ("days",), f"{s.days}, need at least 1")
    need(len(s.strategies) > 0 and set(s.strategies) <= set(STRATEGIES), ("strategies",),
         f"{list(s.strategies)}, choose from {list(STRATEGIES)}")
    need(s.installs_per_wd >= 0, ("installs", "per_working_day"), "must be >= 0")
    need(bool(s.share) and all(v >= 0 for v in s.share.values()) and sum(s.share.values()) > 0,
         ("installs", "share"), "need non-negative shares with a positive total")
    where = {**{m: ("ordering", "order_up_to", m) for m in s.order_up_to},
             **{m: ("installs", "share", m) for m in s.share}}
    for i, lot in enumerate(s.initial_stock):
        where.setdefault(lot.model, ("initial_stock", i, "model"))
        model = known(("initial_stock", i, "model"), lambda: s.catalogue.model(lot.model))
        known(("initial_stock", i, "version"), lambda: model.version(lot.version))
        need(lot.count >= 0, ("initial_stock", i, "count"), f"{lot.count} < 0")
        need(0 <= lot.age_days[0] <= lot.age_days[1], ("initial_stock", i, "age_days"),
             f"{list(lot.age_days)} is not [low, high] with 0 <= low <= high")
    for name, path in sorted(where.items()):
        model = known(path, lambda: s.catalogue.model(name))
        need(model.band is not None, path, f"model {name} is not a Comms Hub (no HAN band in the catalogue)")
    need(s.review_every_wd >= 1, ("ordering", "review_every_wd"), "need >= 1")
    need(s.batch_size >= 1, ("reflash", "batch_size"), "need >= 1")
    for path, value in [(("ordering", "lead_time_wd"), s.lead_time_wd),
                        (("reflash", "shipping_wd"), s.shipping_wd),
                        (("reflash", "csp_turnaround_wd"), s.csp_turnaround_wd)]:
        need(value >= 0, path, f"{value} < 0")
    need(0 <= s.ota_failure_probability <= 1, ("ota", "failure_probability"), "must be within 0..1")
