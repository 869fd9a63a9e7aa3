"""The MP155 process in SimPy: several suppliers' Comms Hub stock under one strategy,
the three CSP regions' re-flash queues, and what installing old firmware costs.

Every CH is tracked from delivery to its supplier until it is installed, written off or
scrapped after a failed re-flash, in exactly one place: a stock line (supplier x CSP
region x model, by firmware version), a Work Order (shipping to the CSP, at the CSP,
shipping back) or gone.

- Installs (Poisson per working day per supplier, split by model and region share) draw
  from stock **newest firmware first**, which is why old-firmware CHs pile up (MP155's
  problem) - except under ``ota``, which installs the oldest first on purpose.
- Every installed CH on superseded firmware costs, under every strategy: a chance of an
  install or HAN interoperability failure (a revisit), and an over-the-air upgrade (one
  SRV 11.1 + 11.3 cycle per allowed upgrade step, each may fail into a site visit; no
  path: the CH is replaced). The upgrade needs the SM WAN: install-and-leave sites wait
  for it, and every day on old firmware in the field is counted.
- Every ``review_every_wd`` working days each supplier applies the strategy, then orders
  new CHs up to its target; they arrive after a lead time on the latest production firmware.
- ``reflash``: superseded CHs older than a minimum age go back in full batches as Work
  Orders to their region's CSP: shipping, the CSP's queue and lines, re-flash to the
  latest production version (or failure: scrapped), the CSP pre-notification updates the
  SMI's CHF and GPF records, shipping back. No Work Order for a model whose next release
  is known and due soon, and no CH re-flashed twice, unless the study allows it.
- ``writeoff``: the same CHs are returned as non-redeployable and charged.
- ``hold``: nothing is done (the baseline).

Randomness comes from streams spawned from the seed: per supplier one for demand (drawn
in the same order under every strategy: common random numbers) and one for field events,
and one per CSP for re-flash failures. Same scenario and seed, same run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from itertools import chain
from typing import Protocol

import numpy as np
import simpy

from firmware.catalogue import DeviceModel
from sim.calendar import DAY, WorkingDayCalendar
from sim.dcc.smi import Inventory
from sim.mp155.csp import CspQueue
from sim.mp155.scenario import Scenario, Supplier

_INSTALL_HOUR = 9 * 3600.0
_REVIEW_HOUR = 10 * 3600.0
_SNAPSHOT_HOUR = DAY - 1.0
#: DUIS-form Device IDs for simulated CHs: an OUI-like prefix plus the CH's number;
#: the GPF of the same CH has its own prefix.
_CHF_ID_BASE = 0x00DB_1200_0000_0000
_GPF_ID_BASE = 0x00DB_1300_0000_0000


def _eui64(value: int) -> str:
    return "-".join(f"{b:02X}" for b in value.to_bytes(8, "big"))


def device_id(ch: int) -> str:
    """The CHF's Device ID of simulated CH number ``ch``."""
    return _eui64(_CHF_ID_BASE + ch)


def gpf_id(ch: int) -> str:
    """The GPF's Device ID of the same CH."""
    return _eui64(_GPF_ID_BASE + ch)


def _p90(values: np.ndarray) -> float:
    """The 90th percentile with linear interpolation (numpy's default), by partition only."""
    rank = 0.9 * (len(values) - 1)
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    part = np.partition(values, (low, high))
    return float(part[low] + (part[high] - part[low]) * (rank - low))


class SmiLink(Protocol):
    """Where the CSP's CH pre-notification lands (the DSP updates the SMI)."""

    def ch_prenotification(self, ch: int, model: str, firmware_version: int, time: float) -> None: ...


@dataclass
class InventoryLink:
    """The CSP's pre-notification of a re-flashed CH: the DCC's SMI records of its CHF and
    its GPF both take the new firmware version."""

    inventory: Inventory
    calendar: WorkingDayCalendar
    manufacturers: dict[str, int]

    def ch_prenotification(self, ch: int, model: str, firmware_version: int, time: float) -> None:
        date = self.calendar.date_at(time).isoformat()
        for device, kind in ((device_id(ch), "CHF"), (gpf_id(ch), "GPF")):
            self.inventory.ch_prenotification(device, f"{self.manufacturers[model]:04X}", model,
                                              f"{firmware_version:08X}", date, device_type=kind)


@dataclass
class Counters:
    """What happened on one stock line (counts; hub-days are summed days)."""

    installs: int = 0
    shortfalls: int = 0
    installed_old: int = 0
    install_failures: int = 0
    ota_hops: int = 0
    ota_failures: int = 0
    ota_unreachable: int = 0
    old_hub_days: float = 0.0
    reflashed: int = 0
    reflash_failed: int = 0
    written_off: int = 0
    work_orders: int = 0

    def add(self, other: Counters) -> Counters:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


@dataclass
class StockLine:
    """One supplier's stock of one CH model for one CSP region."""

    supplier: str
    region: str
    model: str
    share: float
    target: int
    stock: dict[int, deque[int]] = field(default_factory=dict)
    on_order: int = 0
    counters: Counters = field(default_factory=Counters)

    def size(self) -> int:
        return sum(len(q) for q in self.stock.values())


@dataclass
class WorkOrder:
    number: int
    line: StockLine
    chs: list[int]
    raised: float
    state: str = "to CSP"
    at_csp: float | None = None
    reflashed: float | None = None
    returned: float | None = None


class StockRun:
    """One strategy over the study's horizon. ``run()`` then read ``snapshots``."""

    def __init__(self, scenario: Scenario, strategy: str, smi: SmiLink | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.s = scenario
        self.strategy = strategy
        self.progress = progress
        self.env = simpy.Environment()
        self.calendar = WorkingDayCalendar(scenario.start, years=scenario.days // 365 + 2)
        streams = np.random.SeedSequence(scenario.seed).spawn(2 * len(scenario.suppliers) + len(scenario.csps))
        rngs = [np.random.default_rng(s) for s in streams]
        self.demand_rng = {x.name: rngs[i] for i, x in enumerate(scenario.suppliers)}
        self.field_rng = {x.name: rngs[len(scenario.suppliers) + i] for i, x in enumerate(scenario.suppliers)}
        self.csps = {region: CspQueue(self.env, params, rngs[2 * len(scenario.suppliers) + i])
                     for i, (region, params) in enumerate(sorted(scenario.csps.items()))}
        names = sorted({m for x in scenario.suppliers for m in (*x.models, *x.order_up_to)})
        self.models: dict[str, DeviceModel] = {name: scenario.catalogue.model(name) for name in names}
        self.smi = smi if smi is not None else InventoryLink(
            Inventory(), self.calendar, {name: m.manufacturer_code for name, m in self.models.items()})
        self.lines: dict[str, list[StockLine]] = {x.name: self._lines(x) for x in scenario.suppliers}
        self.line_of: list[StockLine] = []
        self.delivered = {x.name: 0 for x in scenario.suppliers}
        self.version_of: list[int] = []
        self.reflash_count: list[int] = []
        self._arrived = np.zeros(1024)
        self.work_orders: dict[int, WorkOrder] = {}
        self.completed_work_orders: list[WorkOrder] = []
        self.installed: list[int] = []
        self.written_off: list[int] = []
        self.scrapped: list[int] = []
        self.snapshots: list[dict] = []
        self.mix: list[tuple[str, str, str, str, int]] = []
        self.queue_days: list[tuple[str, str, int, int, int]] = []
        self._work_order_count = 0
        self._latest: dict[tuple[str, int], int] = {}
        for supplier in scenario.suppliers:
            self._initial_stock(supplier)
        self.env.process(self._days())

    # -- bookkeeping ------------------------------------------------------------------------
    def _lines(self, supplier: Supplier) -> list[StockLine]:
        regions = {r: w / sum(supplier.regions.values()) for r, w in supplier.regions.items()}
        models = {m: w / sum(supplier.models.values()) for m, w in supplier.models.items()}
        return [StockLine(supplier.name, region, model, regions[region] * models[model],
                          round(supplier.order_up_to.get(model, 0) * regions[region]))
                for region in sorted(regions) for model in sorted(models)]

    def _new_ch(self, line: StockLine, version: int, arrived: float) -> int:
        ch = len(self.line_of)
        self.line_of.append(line)
        self.version_of.append(version)
        self.reflash_count.append(0)
        self.delivered[line.supplier] += 1
        if ch >= len(self._arrived):
            self._arrived = np.concatenate([self._arrived, np.zeros(len(self._arrived))])
        self._arrived[ch] = arrived
        return ch

    def _put(self, ch: int) -> None:
        self.line_of[ch].stock.setdefault(self.version_of[ch], deque()).append(ch)

    def _initial_stock(self, supplier: Supplier) -> None:
        rng = self.demand_rng[supplier.name]
        for lot in supplier.initial_stock:
            lines = [line for line in self.lines[supplier.name] if line.model == lot.model]
            weights = np.array([line.share for line in lines])
            split = rng.multinomial(lot.count, weights / weights.sum())
            for line, count in zip(lines, split):
                ages = np.sort(rng.uniform(lot.age_days[0], lot.age_days[1], int(count)))[::-1]
                for age in ages:  # oldest first, so each deque is in arrival order
                    self._put(self._new_ch(line, lot.version, -float(age) * DAY))

    def latest(self, model: str, time: float) -> int:
        """The model's latest production version on the day of ``time`` (cached per day)."""
        key = (model, int(time // DAY))
        if key not in self._latest:
            self._latest[key] = self.models[model].latest_production(self.calendar.date_at(time)).version
        return self._latest[key]

    def all_lines(self) -> list[StockLine]:
        return list(chain.from_iterable(self.lines.values()))

    def census(self) -> dict[str, list[int]]:
        """Every CH delivered so far, by where it is now."""
        places: dict[str, list[int]] = {"stock": [
            ch for line in self.all_lines() for q in line.stock.values() for ch in q]}
        for state in ("to CSP", "at CSP", "to supplier"):
            places[state] = [ch for wo in self.work_orders.values() if wo.state == state for ch in wo.chs]
        places["installed"] = list(self.installed)
        places["written off"] = list(self.written_off)
        places["scrapped at CSP"] = list(self.scrapped)
        return places

    # -- processes ----------------------------------------------------------------------------
    def run(self) -> StockRun:
        self.env.run(until=self.s.days * DAY)
        return self

    def _days(self):
        for day in range(self.s.days):
            date = self.calendar.date(day)
            if self.calendar.is_working_day(date):
                yield self.env.timeout(day * DAY + _INSTALL_HOUR - self.env.now)
                for supplier in self.s.suppliers:
                    lines = self.lines[supplier.name]
                    rng = self.demand_rng[supplier.name]
                    demand = rng.multinomial(rng.poisson(supplier.installs_per_wd), [x.share for x in lines])
                    for line, n in zip(lines, demand):
                        self._install(line, int(n), supplier)
                if self.calendar.working_day_number(date) % self.s.review_every_wd == 0:
                    yield self.env.timeout(day * DAY + _REVIEW_HOUR - self.env.now)
                    for line in self.all_lines():
                        self._review(line)
            yield self.env.timeout(day * DAY + _SNAPSHOT_HOUR - self.env.now)
            self._snapshot()
            if self.progress:
                self.progress(day + 1)

    def _install(self, line: StockLine, n: int, supplier: Supplier) -> None:
        latest = self.latest(line.model, self.env.now)
        c = line.counters
        versions = sorted((v for v, q in line.stock.items() if q), reverse=self.strategy != "ota")
        for _ in range(n):
            while versions and not line.stock[versions[0]]:
                versions.pop(0)
            if not versions:
                c.shortfalls += 1
                continue
            version = versions[0]
            self.installed.append(line.stock[version].popleft())
            c.installs += 1
            if version != latest:
                self._old_firmware_install(line, version, latest, supplier)

    def _old_firmware_install(self, line: StockLine, version: int, latest: int, supplier: Supplier) -> None:
        """What one CH installed on superseded firmware costs in the field."""
        s, c, rng = self.s, line.counters, self.field_rng[supplier.name]
        c.installed_old += 1
        c.install_failures += bool(rng.random() < s.install_failure_probability)
        wan_wait = (rng.uniform(*s.wan_wait_days) if rng.random() < supplier.install_and_leave_share else 0.0)
        hops = self.models[line.model].upgrade_hops(version, latest)
        if hops is None:
            c.ota_unreachable += 1
        else:
            c.ota_hops += hops
            c.ota_failures += int(rng.binomial(hops, s.ota_failure_probability))
        c.old_hub_days += wan_wait + s.ota_delay_days

    def _eligible(self, line: StockLine, min_age_days: float, repeat_ok: bool) -> list[int]:
        """Superseded CHs in stock for at least the minimum age, removed from stock."""
        latest = self.latest(line.model, self.env.now)
        cutoff = self.env.now - min_age_days * DAY
        taken: list[int] = []
        for version in sorted(line.stock):
            if version == latest:
                continue
            queue = line.stock[version]
            ok = [(self._arrived[ch] <= cutoff and (repeat_ok or self.reflash_count[ch] == 0)) for ch in queue]
            taken.extend(ch for ch, good in zip(queue, ok) if good)
            line.stock[version] = deque(ch for ch, good in zip(queue, ok) if not good)
        return taken

    def release_due_soon(self, model: str) -> bool:
        """A release of ``model`` is known (within the notice period) and due within the hold-off."""
        today = self.calendar.date_at(self.env.now)
        ahead = [(v.released - today).days for v in self.models[model].versions if v.released > today]
        return bool(ahead) and min(ahead) <= min(self.s.release_notice_days, self.s.hold_before_release_days)

    def _review(self, line: StockLine) -> None:
        s = self.s
        if self.strategy == "reflash" and (s.reflash_before_release or not self.release_due_soon(line.model)):
            chs = self._eligible(line, s.reflash_min_age_days, s.allow_repeat_reflash)
            full = len(chs) - len(chs) % s.batch_size
            for ch in reversed(chs[full:]):  # a partial batch waits, at the front
                line.stock[self.version_of[ch]].appendleft(ch)
            for start in range(0, full, s.batch_size):
                self._raise_work_order(line, chs[start:start + s.batch_size])
        elif self.strategy == "writeoff":
            chs = self._eligible(line, s.writeoff_min_age_days, True)
            self.written_off.extend(chs)
            line.counters.written_off += len(chs)
        self._order(line)

    def _order(self, line: StockLine) -> None:
        pipeline = line.on_order + sum(len(wo.chs) for wo in self.work_orders.values() if wo.line is line)
        quantity = max(0, line.target - line.size() - pipeline)
        if quantity:
            line.on_order += quantity
            self.env.process(self._deliver(line, quantity))

    def _wait_working_days(self, n: int):
        due = self.calendar.add_working_days(self.calendar.date_at(self.env.now), n)
        return self.env.timeout(max(0.0, self.calendar.time(due) - self.env.now))

    def _deliver(self, line: StockLine, quantity: int):
        yield self._wait_working_days(self.s.lead_time_wd)
        version = self.latest(line.model, self.env.now)
        for _ in range(quantity):
            self._put(self._new_ch(line, version, self.env.now))
        line.on_order -= quantity

    def _raise_work_order(self, line: StockLine, chs: list[int]) -> None:
        self._work_order_count += 1
        wo = WorkOrder(self._work_order_count, line, chs, self.env.now)
        line.counters.work_orders += 1
        self.work_orders[wo.number] = wo
        self.env.process(self._work_order(wo))

    def _work_order(self, wo: WorkOrder):
        yield self._wait_working_days(self.s.shipping_wd)
        wo.state, wo.at_csp = "at CSP", self.env.now
        failed = yield self.env.process(self.csps[wo.line.region].reflash(wo.chs))
        wo.reflashed = self.env.now
        version = self.latest(wo.line.model, self.env.now)
        for ch in wo.chs:
            self.reflash_count[ch] += 1
            if ch not in failed:
                self.version_of[ch] = version
                self.smi.ch_prenotification(ch, wo.line.model, version, self.env.now)
        wo.line.counters.reflashed += len(wo.chs)
        wo.line.counters.reflash_failed += len(failed)
        self.scrapped.extend(ch for ch in wo.chs if ch in failed)
        wo.chs = [ch for ch in wo.chs if ch not in failed]
        wo.state = "to supplier"
        yield self._wait_working_days(self.s.shipping_wd)
        for ch in wo.chs:
            self._put(ch)
        wo.returned = self.env.now
        self.completed_work_orders.append(self.work_orders.pop(wo.number))

    # -- outputs ------------------------------------------------------------------------------
    def _snapshot(self) -> None:
        date = self.calendar.date_at(self.env.now).isoformat()
        for region, csp in sorted(self.csps.items()):
            self.queue_days.append((date, region, csp.waiting, csp.take_peak(), csp.lines.count))
        for supplier, lines in self.lines.items():
            superseded = 0
            versions: dict[tuple[str, int], int] = {}
            for line in lines:
                latest = self.latest(line.model, self.env.now)
                for version, queue in line.stock.items():
                    if queue:
                        versions[line.model, version] = versions.get((line.model, version), 0) + len(queue)
                    superseded += len(queue) * (version != latest)
            for (model, version), count in sorted(versions.items()):
                self.mix.append((date, supplier, model, f"{version:08X}", count))
            ids = np.fromiter(chain.from_iterable(q for line in lines for q in line.stock.values()),
                              dtype=np.int64, count=sum(versions.values()))
            ages = (self.env.now - self._arrived[ids]) / DAY
            states = {"to CSP": 0, "at CSP": 0, "to supplier": 0}
            for wo in self.work_orders.values():
                if wo.line.supplier == supplier:
                    states[wo.state] += len(wo.chs)
            summed = lambda name: sum(getattr(line.counters, name) for line in lines)  # noqa: E731
            self.snapshots.append({
                "date": date, "supplier": supplier,
                "delivered": self.delivered[supplier],
                "stock": len(ids), "stock_superseded": superseded,
                "mean_stock_age_days": round(float(ages.mean()), 3) if len(ids) else 0.0,
                "p90_stock_age_days": round(_p90(ages), 3) if len(ids) else 0.0,
                "shipping": states["to CSP"] + states["to supplier"], "at_csp": states["at CSP"],
                "installed": summed("installs"), "installed_old_firmware": summed("installed_old"),
                "written_off": summed("written_off"), "reflashed": summed("reflashed"),
                "reflash_failed": summed("reflash_failed"), "shortfalls": summed("shortfalls"),
            })
