"""The MP155 process in SimPy: a supplier's Comms Hub stock under one strategy.

Every CH is tracked from delivery to the supplier until it is installed or written off,
in exactly one place: supplier stock (by model and firmware version), a Work Order
(shipping to the CSP, at the CSP, shipping back) or gone (installed, written off).

- Installs (Poisson per working day, model by share) draw from stock **newest firmware
  first**, which is why old-firmware CHs pile up (MP155's problem) - except under ``ota``,
  where they draw the oldest firmware first and upgrade over the air after install.
- Every ``review_every_wd`` working days the supplier applies its strategy, then orders
  new CHs up to a target; new CHs arrive after a lead time on the latest production
  firmware of the day.
- ``reflash``: superseded CHs older than a minimum age go back in full batches as Work
  Orders: shipping, CSP turnaround (working days), re-flash to the latest production
  version for the model, the CSP's CH pre-notification updates the SMI, shipping back.
- ``writeoff``: the same CHs are returned as non-redeployable and charged.
- ``hold``: nothing is done (the baseline).

The CSP's pre-notification reaches the DCC's SMI (sim.dcc) through :class:`SmiLink`.
All randomness is demand, drawn in the same order under every strategy (common random
numbers): strategies differ only by what they do, not by luck.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import chain
from typing import Protocol

import numpy as np
import simpy

from firmware.catalogue import DeviceModel
from sim.calendar import DAY, WorkingDayCalendar
from sim.dcc.smi import Inventory
from sim.mp155.scenario import Scenario

_INSTALL_HOUR = 9 * 3600.0
_REVIEW_HOUR = 10 * 3600.0
_SNAPSHOT_HOUR = DAY - 1.0
#: DUIS-form Device IDs for simulated CHs: an OUI-like prefix plus the CH's number.
_DEVICE_ID_BASE = 0x00DB_1200_0000_0000


def device_id(ch: int) -> str:
    return "-".join(f"{b:02X}" for b in (_DEVICE_ID_BASE + ch).to_bytes(8, "big"))


class SmiLink(Protocol):
    """Where the CSP's CH pre-notification lands (the DSP updates the SMI)."""

    def ch_prenotification(self, device_id: str, model: str, firmware_version: int,
                           time: float) -> None: ...


@dataclass
class InventoryLink:
    """The CSP's pre-notification of a re-flashed CH, delivered to the DCC's SMI."""

    inventory: Inventory
    calendar: WorkingDayCalendar
    manufacturers: dict[str, int]

    def ch_prenotification(self, device_id: str, model: str, firmware_version: int,
                           time: float) -> None:
        self.inventory.ch_prenotification(
            device_id, f"{self.manufacturers[model]:04X}", model, f"{firmware_version:08X}",
            self.calendar.date_at(time).isoformat())


@dataclass
class WorkOrder:
    number: int
    model: str
    chs: list[int]
    raised: float
    state: str = "to CSP"
    returned: float | None = None


@dataclass
class Counters:
    installs: int = 0
    shortfalls: int = 0
    reflashed: int = 0
    work_orders: int = 0
    written_off: dict[str, int] = field(default_factory=lambda: {"single": 0, "dual": 0})
    ota_hops: int = 0
    ota_unreachable: dict[str, int] = field(default_factory=lambda: {"single": 0, "dual": 0})
    installed_superseded: int = 0


class StockRun:
    """One strategy over the scenario's horizon. ``run()`` then read ``snapshots``."""

    def __init__(self, scenario: Scenario, strategy: str, smi: SmiLink | None = None) -> None:
        self.s = scenario
        self.strategy = strategy
        self.env = simpy.Environment()
        self.calendar = WorkingDayCalendar(scenario.start, years=scenario.days // 365 + 2)
        self.rng = np.random.default_rng(scenario.seed)
        self.models: dict[str, DeviceModel] = {
            name: scenario.catalogue.model(name)
            for name in sorted(set(scenario.share) | set(scenario.order_up_to)
                               | {lot.model for lot in scenario.initial_stock})}
        self.smi = smi if smi is not None else InventoryLink(
            Inventory(), self.calendar,
            {name: model.manufacturer_code for name, model in self.models.items()})
        self.stock: dict[str, dict[int, deque[int]]] = {m: {} for m in self.models}
        self.model_of: list[str] = []
        self.version_of: list[int] = []
        self._arrived = np.zeros(1024)
        self.on_order = {m: 0 for m in self.models}
        self.work_orders: dict[int, WorkOrder] = {}
        self.completed_work_orders: list[WorkOrder] = []
        self.installed: list[int] = []
        self.written_off: list[int] = []
        self.counters = Counters()
        self.snapshots: list[dict] = []
        self.mix: list[tuple[str, str, str, int]] = []
        self._initial_stock()
        self.env.process(self._days())

    # -- bookkeeping ------------------------------------------------------------------------
    def _new_ch(self, model: str, version: int, arrived: float) -> int:
        ch = len(self.model_of)
        self.model_of.append(model)
        self.version_of.append(version)
        if ch >= len(self._arrived):
            self._arrived = np.concatenate([self._arrived, np.zeros(len(self._arrived))])
        self._arrived[ch] = arrived
        return ch

    def _put(self, ch: int) -> None:
        self.stock[self.model_of[ch]].setdefault(self.version_of[ch], deque()).append(ch)

    def _initial_stock(self) -> None:
        for lot in self.s.initial_stock:
            ages = self.rng.uniform(lot.age_days[0], lot.age_days[1], lot.count)
            for age in np.sort(ages)[::-1]:  # oldest first, so each deque is in arrival order
                self._put(self._new_ch(lot.model, lot.version, -float(age) * DAY))

    def latest(self, model: str, time: float) -> int:
        return self.models[model].latest_production(self.calendar.date_at(time)).version

    def census(self) -> dict[str, list[int]]:
        """Every CH delivered so far, by where it is now."""
        places: dict[str, list[int]] = {"stock": list(chain.from_iterable(
            q for buckets in self.stock.values() for q in buckets.values()))}
        for state in ("to CSP", "at CSP", "to supplier"):
            places[state] = [ch for wo in self.work_orders.values() if wo.state == state
                             for ch in wo.chs]
        places["installed"] = list(self.installed)
        places["written off"] = list(self.written_off)
        return places

    # -- processes ----------------------------------------------------------------------------
    def run(self) -> StockRun:
        self.env.run(until=self.s.days * DAY)
        return self

    def _days(self):
        shares = np.array([self.s.share.get(m, 0.0) for m in self.models])
        shares = shares / shares.sum()
        for day in range(self.s.days):
            date = self.calendar.date(day)
            if self.calendar.is_working_day(date):
                yield self.env.timeout(day * DAY + _INSTALL_HOUR - self.env.now)
                demand = self.rng.multinomial(self.rng.poisson(self.s.installs_per_wd), shares)
                for model, n in zip(self.models, demand):
                    self._install(model, int(n))
                if self.calendar.working_day_number(date) % self.s.review_every_wd == 0:
                    yield self.env.timeout(day * DAY + _REVIEW_HOUR - self.env.now)
                    self._review()
            yield self.env.timeout(day * DAY + _SNAPSHOT_HOUR - self.env.now)
            self._snapshot()

    def _install(self, model: str, n: int) -> None:
        buckets = self.stock[model]
        latest = self.latest(model, self.env.now)
        for _ in range(n):
            versions = sorted(v for v, q in buckets.items() if q)
            if not versions:
                self.counters.shortfalls += 1
                continue
            version = versions[0] if self.strategy == "ota" else versions[-1]
            ch = buckets[version].popleft()
            self.installed.append(ch)
            self.counters.installs += 1
            if version != latest:
                self.counters.installed_superseded += 1
                if self.strategy == "ota":
                    self._ota(model, version, latest)

    def _ota(self, model: str, version: int, latest: int) -> None:
        hops = self.models[model].upgrade_hops(version, latest)
        if hops is None:
            self.counters.ota_unreachable[self.models[model].band] += 1
        else:
            self.counters.ota_hops += hops

    def _superseded_old_enough(self, model: str, min_age_days: float) -> list[int]:
        """Superseded CHs in stock for at least the minimum age, removed from stock."""
        latest = self.latest(model, self.env.now)
        cutoff = self.env.now - min_age_days * DAY
        taken: list[int] = []
        for version in sorted(self.stock[model]):
            if version == latest:
                continue
            queue = self.stock[model][version]
            keep = deque(ch for ch in queue if self._arrived[ch] > cutoff)
            taken.extend(ch for ch in queue if self._arrived[ch] <= cutoff)
            self.stock[model][version] = keep
        return taken

    def _review(self) -> None:
        if self.strategy == "reflash":
            for model in self.models:
                chs = self._superseded_old_enough(model, self.s.reflash_min_age_days)
                full = len(chs) - len(chs) % self.s.batch_size
                for ch in reversed(chs[full:]):  # a partial batch waits, at the front
                    self.stock[model][self.version_of[ch]].appendleft(ch)
                for start in range(0, full, self.s.batch_size):
                    self._raise_work_order(model, chs[start:start + self.s.batch_size])
        elif self.strategy == "writeoff":
            for model in self.models:
                chs = self._superseded_old_enough(model, self.s.writeoff_min_age_days)
                self.written_off.extend(chs)
                self.counters.written_off[self.models[model].band] += len(chs)
        self._order()

    def _order(self) -> None:
        pipeline = {m: self.on_order[m] for m in self.models}
        for wo in self.work_orders.values():
            pipeline[wo.model] += len(wo.chs)
        for model, target in self.s.order_up_to.items():
            position = sum(len(q) for q in self.stock[model].values()) + pipeline[model]
            quantity = max(0, target - position)
            if quantity:
                self.on_order[model] += quantity
                self.env.process(self._deliver(model, quantity))

    def _wait_working_days(self, n: int):
        due = self.calendar.add_working_days(self.calendar.date_at(self.env.now), n)
        return self.env.timeout(max(0.0, self.calendar.time(due) - self.env.now))

    def _deliver(self, model: str, quantity: int):
        yield self._wait_working_days(self.s.lead_time_wd)
        version = self.latest(model, self.env.now)
        for _ in range(quantity):
            self._put(self._new_ch(model, version, self.env.now))
        self.on_order[model] -= quantity

    def _raise_work_order(self, model: str, chs: list[int]) -> None:
        number = self.counters.work_orders = self.counters.work_orders + 1
        wo = WorkOrder(number, model, chs, self.env.now)
        self.work_orders[number] = wo
        self.env.process(self._work_order(wo))

    def _work_order(self, wo: WorkOrder):
        yield self._wait_working_days(self.s.shipping_wd)
        wo.state = "at CSP"
        yield self._wait_working_days(self.s.csp_turnaround_wd)
        version = self.latest(wo.model, self.env.now)
        for ch in wo.chs:
            self.version_of[ch] = version
            self.smi.ch_prenotification(device_id(ch), wo.model, version, self.env.now)
        self.counters.reflashed += len(wo.chs)
        wo.state = "to supplier"
        yield self._wait_working_days(self.s.shipping_wd)
        for ch in wo.chs:
            self._put(ch)
        wo.returned = self.env.now
        self.completed_work_orders.append(self.work_orders.pop(wo.number))

    # -- outputs ------------------------------------------------------------------------------
    def _snapshot(self) -> None:
        date = self.calendar.date_at(self.env.now).isoformat()
        ids: list[int] = []
        superseded = 0
        for model, buckets in self.stock.items():
            latest = self.latest(model, self.env.now)
            for version, queue in sorted(buckets.items()):
                if queue:
                    self.mix.append((date, model, f"{version:08X}", len(queue)))
                ids.extend(queue)
                if version != latest:
                    superseded += len(queue)
        ages = (self.env.now - self._arrived[np.array(ids, dtype=np.int64)]) / DAY
        in_work_orders = {s: 0 for s in ("to CSP", "at CSP", "to supplier")}
        for wo in self.work_orders.values():
            in_work_orders[wo.state] += len(wo.chs)
        self.snapshots.append({
            "date": date, "delivered": len(self.model_of), "stock": len(ids), "stock_superseded": superseded,
            "mean_stock_age_days": round(float(ages.mean()), 3) if len(ids) else 0.0,
            "p90_stock_age_days": round(float(np.percentile(ages, 90)), 3) if len(ids) else 0.0,
            "shipping": in_work_orders["to CSP"] + in_work_orders["to supplier"],
            "at_csp": in_work_orders["at CSP"], "installed": len(self.installed),
            "written_off": len(self.written_off), "reflashed": self.counters.reflashed,
            "shortfalls": self.counters.shortfalls,
        })
