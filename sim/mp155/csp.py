"""A CSP's re-flash service as a queue: identical lines, first come first served, a fixed
time per Comms Hub, some re-flashes failing.

Each CH of a Work Order joins the CSP's queue when the Work Order arrives and takes the
first free line (a SimPy ``Resource``), so a CSP is an M/D/c-like queue fed by batches.
The time-integral of CHs waiting and in the system is kept, for Little's law and for the
queue-length outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim.calendar import DAY
from sim.mp155.scenario import CspParams


@dataclass
class QueueStats:
    """What the CSP's queue did up to a time (days unless named)."""

    arrivals: int
    completed: int
    failed: int
    mean_wait_days: float
    max_waiting: int
    utilisation: float
    mean_in_system: float
    mean_sojourn_days: float
    arrival_rate_per_day: float


class CspQueue:
    """One CSP region's re-flash lines."""

    def __init__(self, env: simpy.Environment, params: CspParams, rng: np.random.Generator) -> None:
        self.env = env
        self.params = params
        self.rng = rng
        self.lines = simpy.Resource(env, capacity=params.lines)
        self.service = DAY / params.chs_per_line_per_day
        self.waiting = 0
        self.in_system = 0
        self.max_waiting = 0
        self.peak_waiting = 0  # since the last take_peak()
        self.arrivals = 0
        self.waits: list[float] = []
        self.sojourns: list[float] = []
        self.failed = 0
        self._busy_area = 0.0
        self._system_area = 0.0
        self._waiting_area = 0.0
        self._last = 0.0

    def _tick(self) -> None:
        dt = self.env.now - self._last
        self._system_area += self.in_system * dt
        self._waiting_area += self.waiting * dt
        self._busy_area += self.lines.count * dt
        self._last = self.env.now

    def reflash(self, chs: list[int]):
        """Process: re-flash ``chs``; its value is the set of CHs whose re-flash failed."""
        done = [self.env.process(self._one(ch)) for ch in chs]
        results = yield self.env.all_of(done)
        return {ch for ch, ok in zip(chs, (results[p] for p in done)) if not ok}

    def _one(self, ch: int):
        arrived = self.env.now
        self._tick()
        self.arrivals += 1
        self.in_system += 1
        self.waiting += 1
        self.max_waiting = max(self.max_waiting, self.waiting)
        self.peak_waiting = max(self.peak_waiting, self.waiting)
        with self.lines.request() as line:
            yield line
            self._tick()
            self.waiting -= 1
            self.waits.append(self.env.now - arrived)
            yield self.env.timeout(self.service)
            ok = bool(self.rng.random() >= self.params.failure_probability)
            self._tick()
        self.in_system -= 1
        self.failed += not ok
        self.sojourns.append(self.env.now - arrived)
        return ok

    def take_peak(self) -> int:
        """The most CHs waiting at once since the last call (a day's peak, for the outputs)."""
        peak, self.peak_waiting = self.peak_waiting, self.waiting
        return peak

    def stats(self) -> QueueStats:
        self._tick()
        elapsed = max(self.env.now, 1e-9)
        return QueueStats(
            arrivals=self.arrivals, completed=len(self.sojourns), failed=self.failed,
            mean_wait_days=float(np.mean(self.waits)) / DAY if self.waits else 0.0,
            max_waiting=self.max_waiting,
            utilisation=self._busy_area / (elapsed * self.params.lines),
            mean_in_system=self._system_area / elapsed,
            mean_sojourn_days=float(np.mean(self.sojourns)) / DAY if self.sojourns else 0.0,
            arrival_rate_per_day=self.arrivals / elapsed * DAY)
