"""One replication of the population model: one SimPy environment, sites as callbacks.

Sites are slotted :class:`~sim.lifecycle.Site` records that exist only while the site
is in the backlog. Each live site has exactly one pending SimPy event (its earliest
clock, from :meth:`Lifecycle.advance`); when it fires, a plain callback advances the
site's state machine and puts the same event back on the queue for the next one. No ticks, no polling: a site that
waits for WAN costs nothing until WAN arrives. Installs are one chain of callbacks walking
through install times sampled up front with numpy.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from sim.calendar import DAY, WorkingDayCalendar
from sim.lifecycle import BACKLOG_STATES, DONE, INF, YEAR, Lifecycle, Site, State
from sim.policies import Policy
from sim.population.params import PopulationParams
from sim.worktime import Draws, WorkClock

WORK_START, WORK_END = 8 * 3600.0, 18 * 3600.0  # installers' hours


class _Wake(Event):
    """A site's alarm: one SimPy event per live site, rescheduled for each of its events.

    A site has at most one pending event, so instead of a new ``Timeout`` per event
    (the allocation and ``__init__`` are a sixth of the cost of an event) its event is
    put back on SimPy's queue, already triggered, carrying the site as its value.
    """

    def __init__(self, env: simpy.Environment, value: object) -> None:
        self.env = env
        self.callbacks = []
        self._value = value
        self._ok = True


@dataclass
class Replication:
    """What one replication yields, compact enough to ship between processes.

    ``backlog[s, d]``: sites in state s at the start of day d. ``site_days[s, d]``: the
    backlog in state s integrated from 0 to day d, in site-days (exact, from the
    intervals, so time averages need no sampling). ``ttc_days``: time to commission
    of the cohort installed in the run's first half (censored sites: ``inf``).
    """

    backlog: np.ndarray
    site_days: np.ndarray
    ttc_days: np.ndarray
    installed: int
    historic: int
    commissioned: int
    replaced: int
    replacement_cost: float
    join_attempts: int
    events: int
    direct_events: int  #: of ``events``, handled without a SimPy event (commissioning done)


class _Recorder:
    """The lifecycle's observer: state intervals and completions in flat arrays."""

    def __init__(self) -> None:
        self.intervals = array("d")  # (state, entered, left) triples
        self.done_installed = array("d")
        self.done_at = array("d")
        self.replaced = 0
        self.attempts = 0
        self.live: dict[int, Site] = {}

    def left(self, site: Site, state: State, entered: float, now: float) -> None:
        self.intervals.extend((state, entered, now))

    def done(self, site: Site, now: float) -> None:
        del self.live[site.number]
        self.done_installed.append(site.installed)
        self.done_at.append(now)
        self.replaced += site.replaced
        self.attempts += site.attempts


class PopulationModel:
    """Install-and-leave sites under one policy, from day 0 to the run's end."""

    def __init__(self, params: PopulationParams, policy: Policy, seed: np.random.SeedSequence) -> None:
        self.params = params
        self.rng = np.random.default_rng(seed)
        epoch = dt.date.fromisoformat(params.epoch)
        calendar = WorkingDayCalendar(epoch, years=int(np.ceil(params.years)) + 2)
        self.clock = WorkClock(calendar)
        self.recorder = _Recorder()
        self.lifecycle = Lifecycle(policy.for_run(1 / params.gb_factor), params.commissioning,
                                   params.rules, self.clock, Draws(self.rng), self.recorder)
        self.env = simpy.Environment()
        self.end = params.end
        self.events = 0
        self.direct_events = 0
        self._advance = self.lifecycle.advance
        self._schedule = self.env.schedule
        self._site_callbacks = [self._fire]
        self._install_callbacks = [self._install]

    # -- sampling -------------------------------------------------------------------------
    def _install_times(self, n: int) -> np.ndarray:
        """``n`` install times on working days, weighted by the yearly install profile."""
        days = np.arange(self.params.days)
        is_working = self.clock.working_days(self.params.days)
        profile = np.resize(np.asarray(self.params.install_profile, float),
                            int(np.ceil(self.params.years)))
        weight = profile[(days * DAY // YEAR).astype(int)] * is_working
        counts = self.rng.multinomial(n, weight / weight.sum())
        day = np.repeat(days, counts)
        return np.sort(day * DAY + self.rng.uniform(WORK_START, WORK_END, n))

    def _wan_delays(self, n: int) -> np.ndarray:
        wan = self.params.wan
        u = self.rng.random(n)
        reactive = self.rng.random(n) < wan.reactive_fraction
        on_target = u < wan.reactive_on_target
        within = self.rng.uniform(0.0, wan.target_days, n)
        tail = wan.target_days + self.rng.exponential(wan.reactive_tail_days, n)
        proactive = wan.proactive_min_days + self.rng.exponential(wan.proactive_mean_days, n)
        return np.where(reactive, np.where(on_target, within, tail), proactive) * DAY

    def _first_cos(self, installed: np.ndarray) -> np.ndarray:
        """When the first CoS is agreed. Drawn even at hazard 0 (then never) so that runs
        differing only in the hazard share every other random number."""
        hazard = self.params.rules.cos_hazard
        unit = self.rng.exponential(1.0, installed.shape)
        with np.errstate(divide="ignore"):
            return installed + unit * (YEAR / hazard if hazard else INF)

    def _historic(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sites still uncommissioned on day 0: no WAN yet, or orphaned by past CoS."""
        installed, wan_at, past = (np.empty(0), np.empty(0), np.empty(0, int))
        hazard_per_s = self.params.rules.cos_hazard / YEAR
        while len(installed) < n:
            m = 2 * (n - len(installed)) + 16
            age = self.rng.uniform(0.0, self.params.historic_years * YEAR, m)
            wan = -age + self._wan_delays(m)
            cos = self.rng.poisson(hazard_per_s * age)
            keep = (wan > 0) | (cos > 0)
            installed = np.concatenate((installed, -age[keep]))
            wan_at = np.concatenate((wan_at, wan[keep]))
            past = np.concatenate((past, cos[keep]))
        return installed[:n], wan_at[:n], past[:n]

    # -- running --------------------------------------------------------------------------
    def run(self) -> Replication:
        params = self.params
        historic = params.historic_sites
        new = params.sites - historic
        h_installed, h_wan, h_cos = self._historic(historic)
        h_first = self._first_cos(np.zeros(historic))
        installed = self._install_times(new)
        wan_at = installed + self._wan_delays(new)
        first_cos = self._first_cos(installed)
        for i, (t, wan, cos, past) in enumerate(zip(h_installed.tolist(), h_wan.tolist(),
                                                    h_first.tolist(), h_cos.tolist())):
            self._start(Site(-1 - i, t, wan, cos), past)
        self._pending = iter(zip(range(new), installed.tolist(), wan_at.tolist(), first_cos.tolist()))
        self._next_install(_Wake(self.env, None))
        self.env.run(until=self.end)
        return self._result(new, historic)

    def _next_install(self, event: _Wake) -> None:
        """Wake ``event`` at the next install time (one chain of installs, one event)."""
        record = next(self._pending, None)
        if record is not None and record[1] < self.end:
            event._value = record
            self._wake(event, record[1] - self.env._now, self._install_callbacks)

    def _install(self, event: _Wake) -> None:
        number, installed, wan_at, cos_agreed = event._value
        self._start(Site(number, installed, wan_at, cos_agreed), 0)
        self._next_install(event)

    def _start(self, site: Site, past_cos: int) -> None:
        self.recorder.live[site.number] = site
        self.events += 1
        due = self.lifecycle.install(site, self.env._now, past_cos)
        if due < self.end and not self._finished_commissioning(site, due):
            self._wake(_Wake(self.env, site), due - self.env._now, self._site_callbacks)

    def _fire(self, event: _Wake) -> None:
        self.events += 1
        now = self.env._now
        site = event._value
        due = self._advance(site, now)
        if due < self.end and not self._finished_commissioning(site, due):
            event.callbacks = self._site_callbacks
            self._schedule(event, NORMAL, due - now)

    def _finished_commissioning(self, site: Site, due: float) -> bool:
        """Finish a site whose next event is the end of commissioning, without waiting.

        Its earliest clock is then "commissioned at ``due``" and nothing can change
        that: sites share only the policy (whose reply capacity commissioning does not
        touch) and the recorder (which keeps times, not order). Skipping the SimPy
        event for it saves a third of all events; the event is still counted.
        """
        if site.kind is not DONE:
            return False
        self.events += 1
        self.direct_events += 1
        self._advance(site, due)
        return True

    def _wake(self, event: _Wake, delay: float, callbacks: list) -> None:
        event.callbacks = callbacks  # shared and never mutated: SimPy only iterates it
        self._schedule(event, NORMAL, delay)

    # -- results --------------------------------------------------------------------------
    def _result(self, new: int, historic: int) -> Replication:
        rec = self.recorder
        intervals = np.frombuffer(rec.intervals, float).reshape(-1, 3)
        states, entered, left = intervals[:, 0].astype(np.int8), intervals[:, 1], intervals[:, 2]
        open_sites = list(rec.live.values())
        states = np.concatenate((states, np.array([s.state for s in open_sites], np.int8)))
        entered = np.concatenate((entered, np.array([s.entered for s in open_sites])))
        left = np.concatenate((left, np.full(len(open_sites), INF)))
        grid = np.arange(self.params.days + 1) * DAY
        backlog = np.zeros((len(BACKLOG_STATES), grid.size), np.int64)
        site_days = np.zeros((len(BACKLOG_STATES), grid.size))
        for s in BACKLOG_STATES:
            mask = states == s
            a, b = np.sort(entered[mask]), np.sort(left[mask])
            backlog[s] = np.searchsorted(a, grid, "right") - np.searchsorted(b, grid, "right")
            site_days[s] = (_integral(a, grid) - _integral(b, grid)) / DAY
        done_installed = np.frombuffer(rec.done_installed, float)
        done_at = np.frombuffer(rec.done_at, float)
        cohort_end = self.end / 2
        ttc = (done_at - done_installed)[(done_installed >= 0) & (done_installed < cohort_end)]
        censored = sum(1 for s in open_sites if 0 <= s.installed < cohort_end)
        ttc_days = np.concatenate((ttc / DAY, np.full(censored, INF)))
        return Replication(
            backlog=backlog, site_days=site_days, ttc_days=np.sort(ttc_days),
            installed=new, historic=historic, commissioned=len(done_at), replaced=rec.replaced,
            replacement_cost=rec.replaced * self.params.rules.visit_cost,
            join_attempts=rec.attempts, events=self.events,
            direct_events=self.direct_events)


def _integral(starts_sorted: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Σ max(0, t - start) over starts, for each t in grid (seconds)."""
    count = np.searchsorted(starts_sorted, grid, "right")
    finite = np.where(np.isfinite(starts_sorted), starts_sorted, 0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(finite)))
    return count * grid - cumulative[count]


def run_replication(params: PopulationParams, policy: Policy, seed: np.random.SeedSequence) -> Replication:
    """One replication: the unit of work replications, sweeps and clusters ship around."""
    return PopulationModel(params, policy, seed).run()
