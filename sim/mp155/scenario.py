"""An MP155 re-flash scenario: one supplier's Comms Hub stock, demand, and strategy costs.

Read from YAML (``scenarios/mp155-reflash.yaml`` is the bundled default) and checked
against the firmware catalogue, so a wrong model or version fails before any run starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path

from firmware.catalogue import DEFAULT_CATALOGUE, Catalogue, CatalogueError
from firmware.yaml_file import read_yaml

STRATEGIES = ("hold", "reflash", "ota", "writeoff")
BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "mp155-reflash.yaml"


class ScenarioError(ValueError):
    """A scenario file hansim cannot run: the message names the file and the field."""


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
        path = Path(path)
        return cls.from_dict(read_yaml(path, "scenario", ScenarioError), str(path), base=path.parent)

    @classmethod
    def from_dict(cls, data: object, where: str, base: Path = Path(".")) -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: not a YAML mapping of scenario fields")
        try:
            return _scenario(data, base)
        except (ScenarioError, CatalogueError) as err:
            raise ScenarioError(f"{where}: {err}") from None
        except KeyError as err:
            raise ScenarioError(f"{where}: missing field {err}") from None
        except (TypeError, ValueError, AttributeError) as err:
            raise ScenarioError(f"{where}: missing or malformed field ({err!r})") from None

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (the CLI's overrides), checked again."""
        changed = dc_replace(self, **changes)
        _check(changed)
        return changed


def _scenario(d: dict, base: Path) -> Scenario:
    catalogue_path = d.get("catalogue")
    catalogue = Catalogue.load(base / catalogue_path if catalogue_path else DEFAULT_CATALOGUE)
    start = d["start"] if isinstance(d["start"], dt.date) else dt.date.fromisoformat(str(d["start"]))
    reflash, writeoff, ota, ordering = d["reflash"], d["writeoff"], d["ota"], d["ordering"]
    scenario = Scenario(
        start=start, days=int(d["days"]), seed=int(d["seed"]), catalogue=catalogue,
        strategies=tuple(d.get("strategies", STRATEGIES)),
        installs_per_wd=float(d["installs"]["per_working_day"]),
        share={str(k): float(v) for k, v in d["installs"]["share"].items()},
        initial_stock=tuple(StockLot(str(s["model"]), int(s["version"]), int(s["count"]),
                                     (float(s["age_days"][0]), float(s["age_days"][1])))
                            for s in d.get("initial_stock", [])),
        review_every_wd=int(ordering["review_every_wd"]),
        order_up_to={str(k): int(v) for k, v in ordering["order_up_to"].items()},
        lead_time_wd=int(ordering["lead_time_wd"]),
        batch_size=int(reflash["batch_size"]),
        reflash_min_age_days=float(reflash["min_stock_age_days"]),
        shipping_wd=int(reflash["shipping_wd"]), csp_turnaround_wd=int(reflash["csp_turnaround_wd"]),
        reflash_prices=tuple(float(p) for p in reflash["prices_gbp"]),
        writeoff_gbp={"single": float(writeoff["single_band_gbp"]),
                      "dual": float(writeoff["dual_band_gbp"])},
        writeoff_min_age_days=float(writeoff["min_stock_age_days"]),
        ota_per_hop_gbp=float(ota["per_hop_gbp"]),
        ota_failure_probability=float(ota["failure_probability"]),
        site_visit_gbp=float(ota["site_visit_gbp"]),
    )
    _check(scenario)
    return scenario


def _check(s: Scenario) -> None:
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ScenarioError(message)

    need(s.days >= 1, f"days: {s.days}, need at least 1")
    need(len(s.strategies) > 0 and set(s.strategies) <= set(STRATEGIES),
         f"strategies: {list(s.strategies)}, choose from {list(STRATEGIES)}")
    need(s.installs_per_wd >= 0, "installs.per_working_day: must be >= 0")
    need(bool(s.share) and all(v >= 0 for v in s.share.values()) and sum(s.share.values()) > 0,
         "installs.share: need non-negative shares with a positive total")
    models = set(s.share) | set(s.order_up_to) | {lot.model for lot in s.initial_stock}
    for name in sorted(models):
        model = s.catalogue.model(name)
        need(model.band is not None, f"model {name}: not a Comms Hub (no HAN band in the catalogue)")
    for lot in s.initial_stock:
        s.catalogue.model(lot.model).version(lot.version)
        need(lot.count >= 0, f"initial_stock {lot.model}: count {lot.count} < 0")
        need(0 <= lot.age_days[0] <= lot.age_days[1],
             f"initial_stock {lot.model}: age_days {list(lot.age_days)} is not [low, high] >= 0")
    need(s.review_every_wd >= 1, "ordering.review_every_wd: need >= 1")
    need(s.batch_size >= 1, "reflash.batch_size: need >= 1")
    for name, value in [("ordering.lead_time_wd", s.lead_time_wd), ("reflash.shipping_wd", s.shipping_wd),
                        ("reflash.csp_turnaround_wd", s.csp_turnaround_wd)]:
        need(value >= 0, f"{name}: {value} < 0")
    need(0 <= s.ota_failure_probability <= 1, "ota.failure_probability: must be within 0..1")
