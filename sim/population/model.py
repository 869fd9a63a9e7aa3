"""One replication of the population model: one SimPy environment, meters as callbacks.

Meters are slotted :class:`~sim.lifecycle.Meter` records that exist only while the
meter is in the backlog. Each live meter has one pending SimPy event (its earliest
clock, from :meth:`Lifecycle.advance`); when it fires, a plain callback advances the
meter's state machine and puts the same event back on the queue for the next one. A
partner moved by a dual-fuel switch gets a fresh event; its old one finds itself stale
and is dropped. No ticks, no polling. Installs are one chain of callbacks walking
through install times sampled up front with numpy.

The historic backlog is sampled by the lifecycle's own rules: a history run installs
meters over the ``historic_years`` before the epoch under no process (none existed) and
the meters still uncommissioned at the epoch enter the run in the state it left them.
The size of the historic backlog is therefore an outcome of the rules, reported beside
BEIS's ~500,000 (an upper bound: it included genuinely pending devices, seeds).
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import simpy
from simpy.events import NORMAL, Event, EventCallbacks

from sim.calendar import DAY, WorkingDayCalendar
from sim.lifecycle import BACKLOG_STATES, DONE, ELECTRICITY, GAS, INF, YEAR, Lifecycle, Meter, State, stream
from sim.policies import NoProcess, ParameterError, Policy
from sim.population import DEFAULT_ENGINE, ENGINES
from sim.population.params import PopulationParams
from sim.suppliers import Market
from sim.worktime import Draws, MeterDraws, WorkClock

WORK_START, WORK_END = 8 * 3600.0, 18 * 3600.0  # installers' hours


class _Wake(Event):
    """A meter's alarm: one SimPy event per live meter, rescheduled for each of its events.

    Instead of a new ``Timeout`` per event (the allocation and ``__init__`` are a sixth of
    the cost of an event) the event is put back on SimPy's queue, already triggered,
    carrying the meter as its value.
    """

    def __init__(self, env: simpy.Environment, value: object) -> None:
        self.env = env
        self.callbacks = []
        self._value = value
        self._ok = True


class PremisesDraws(NamedTuple):
    """Per premises: install time, WAN time, IGT new build, dual fuel, split supply, the
    IGT ESME's lag (seconds) and two random-stream keys (one per meter)."""

    installed: np.ndarray
    wan_at: np.ndarray
    igt: np.ndarray
    dual: np.ndarray
    split: np.ndarray
    esme_lag: np.ndarray
    keys: np.ndarray


@dataclass
class Replication:
    """What one replication yields, compact enough to ship between processes.

    ``backlog[s, d]``: meters in state s at the start of day d. ``site_days[s, d]``: the
    backlog in state s integrated from 0 to day d, in meter-days (exact, from the
    intervals). ``ttc_days``: time to commission of the cohort installed in the run's
    first half (censored meters: ``inf``). ``done_days``/``done_installed_days``: when
    each meter commissioned during the run (historic ones included) was commissioned and
    installed. ``in_backlog_days``: per meter of the run (historic and new), its days in
    the backlog within the run, measured from install (or day 0) to commissioning (or the
    end): Little's law's W, measured apart from the backlog counts. ``gain_days``: when
    an uncommissioned meter changed supplier; ``replaced_days``: when one was replaced.
    """

    backlog: np.ndarray
    site_days: np.ndarray
    ttc_days: np.ndarray
    done_days: np.ndarray
    done_installed_days: np.ndarray
    in_backlog_days: np.ndarray
    gain_days: np.ndarray
    replaced_days: np.ndarray
    installed: int
    historic: int
    commissioned: int
    replaced: int
    requests: int
    escalations: int
    join_attempts: int
    events: int
    direct_events: int  #: of ``events``, handled without a SimPy event (commissioning done)


class _Recorder:
    """The lifecycle's observer: state intervals, completions, gains and requests."""

    def __init__(self, model: PopulationModel | None = None) -> None:
        self.model = model
        self.intervals = array("d")  # (state, entered, left) triples
        self.done_installed = array("d")
        self.done_at = array("d")
        self.gains = array("d")
        self.replacements = array("d")
        self.replaced = self.attempts = self.requests = self.escalations = 0
        self.live: dict[int, Meter] = {}

    def left(self, meter: Meter, state: State, entered: float, now: float) -> None:
        self.intervals.extend((state, entered, now))

    def done(self, meter: Meter, now: float) -> None:
        del self.live[meter.number]
        self.done_installed.append(meter.installed)
        self.done_at.append(now)
        if meter.replaced:
            self.replaced += 1
            self.replacements.append(now)
        self.attempts += meter.attempts

    def gained(self, meter: Meter, now: float) -> None:
        self.gains.append(now)

    def requested(self, meter: Meter, request) -> None:
        self.requests += sum(1 for s in request.steps if s.what.startswith(("request sent", "SLA", "no reply yet")))
        self.escalations += request.escalations

    def moved(self, meter: Meter) -> None:
        if self.model is not None:
            self.model.reschedule(meter)


class PopulationModel:
    """Install-and-leave meters under one policy, from day 0 to the run's end."""

    def __init__(self, params: PopulationParams, policy: Policy, seed: np.random.SeedSequence,
                 epoch: dt.date | None = None, days: int | None = None) -> None:
        self.params = params
        self.rng = np.random.default_rng(seed)
        self.epoch = epoch or dt.date.fromisoformat(params.epoch)
        self.days = params.days if days is None else days
        calendar = WorkingDayCalendar(self.epoch, years=int(np.ceil(self.days / 365.25)) + 2)
        self.clock = WorkClock(calendar)
        self.recorder = _Recorder(self)
        self.market = Market.of(params.market, 1 / params.gb_factor)
        obligation = (dt.date.fromisoformat(params.obligation_start) - self.epoch).days * DAY
        self.lifecycle = Lifecycle(policy, params.commissioning, params.rules, self.clock,
                                   Draws(self.rng), self.recorder, self.market, obligation)
        self.env = simpy.Environment()
        self.end = self.days * DAY
        self.events = 0
        self.direct_events = 0
        self._advance = self.lifecycle.advance
        self._schedule = self.env.schedule
        self._site_callbacks: EventCallbacks = [self._fire]
        self._install_callbacks: EventCallbacks = [self._install]
        self._numbers = 0

    # -- sampling -------------------------------------------------------------------------
    def _install_times(self, n: int, profile: tuple[float, ...]) -> np.ndarray:
        """``n`` install times on working days, weighted by the yearly install profile."""
        days = np.arange(self.days)
        is_working = self.clock.working_days(self.days)
        weights = np.resize(np.asarray(profile, float), int(np.ceil(self.days / 365.25)))
        weight = weights[(days * DAY // YEAR).astype(int)] * is_working
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

    def premises_draws(self, meters: int, profile: tuple[float, ...]) -> PremisesDraws:
        """The random make-up of the premises for about ``meters`` meters (both engines)."""
        p = self.params
        per_premises = 1 + p.gas_share + p.igt_share
        n = max(1, int(np.ceil(meters / per_premises)))
        installed = self._install_times(n, profile)
        wan_at = installed + self._wan_delays(n)
        kind = self.rng.random(n)
        igt = kind < p.igt_share
        dual = (kind >= p.igt_share) & (kind < p.igt_share + p.gas_share)
        split = self.rng.random(n) < p.split_supply
        esme_lag = self.rng.exponential(p.igt_esme_lag_days * DAY, n)
        keys = self.rng.integers(0, 2**63, (n, 2))  # each meter's own random streams
        return PremisesDraws(installed, wan_at, igt, dual, split, esme_lag, keys)

    def premises(self, meters: int, profile: tuple[float, ...]) -> list[tuple[float, list[tuple]]]:
        """Install visits for about ``meters`` meters, by time: (time, [(fuel, installer,
        wan_at, random-stream key)]). Dual-fuel premises install both meters at once; an
        IGT gas-only new build has its GSME first and its ESME from another party later."""
        installed, wan_at, igt, dual, split, esme_lag, key_array = self.premises_draws(meters, profile)
        n = installed.size
        keys = key_array.tolist()
        draws = Draws(self.rng)
        visits: list[tuple[float, list[tuple]]] = []
        count = 0
        for i in range(n):
            if count >= meters:
                break
            t, wan = float(installed[i]), float(wan_at[i])
            first = self.market.pick(draws)
            if igt[i]:
                esme_at = t + float(esme_lag[i])
                ready = max(wan, esme_at)  # the GSME needs the ESME's Comms Hub as well as WAN
                visits.append((t, [(GAS, first, ready, keys[i][0])]))
                if esme_at < self.end:
                    visits.append((esme_at, [(ELECTRICITY, self.market.pick(draws, first), ready, keys[i][1])]))
                count += 2
            elif dual[i]:
                gas_installer = self.market.pick(draws, first) if split[i] else first
                visits.append((t, [(ELECTRICITY, first, wan, keys[i][0]), (GAS, gas_installer, wan, keys[i][1])]))
                count += 2
            else:
                visits.append((t, [(ELECTRICITY, first, wan, keys[i][0])]))
                count += 1
        visits.sort(key=lambda v: v[0])
        return visits

    def _first_cos(self, meter: Meter, paired: bool) -> float:
        hazard = self.params.rules.cos_hazard
        if not hazard:
            return INF
        dual = 1 - self.params.rules.single_fuel_switch
        return meter.installed + stream(meter.draws).exponential(YEAR / hazard * ((1 + dual) if paired else 1))

    def _meters(self, t: float, visit: list[tuple]) -> list[Meter]:
        made = []
        for fuel, installer, wan, key in visit:
            self._numbers += 1
            made.append(Meter(self._numbers, t, wan, INF, installer, fuel, MeterDraws(key), MeterDraws(~key)))
        if len(made) == 2:
            made[0].partner, made[1].partner = made[1], made[0]
        for m in made:
            m.cos_at = self._first_cos(m, m.partner is not None)
        return made

    # -- running --------------------------------------------------------------------------
    def run(self, historic: list[Meter]) -> Replication:
        """The run from the epoch: ``historic`` meters (:func:`sample_history`) resume, the
        rest of the modelled meters are installed over the run."""
        params = self.params
        new_meters = params.sites - params.historic_sites
        for meter in historic:
            self.recorder.live[meter.number] = meter
            self._numbers = max(self._numbers, meter.number)
        for meter in historic:
            self._schedule_due(meter, self.lifecycle.resume(meter, 0.0))
        visits = self.premises(max(0, new_meters), params.install_profile) if new_meters > 0 else []
        self.run_until_end(visits)
        return self._result(len(historic))

    def run_until_end(self, visits: list[tuple[float, list[tuple]]]) -> list[Meter]:
        """Run ``visits`` to the end; the meters still uncommissioned."""
        self._pending = iter(visits)
        self.installed = 0
        self._next_install(_Wake(self.env, None))
        self.env.run(until=self.end)
        return list(self.recorder.live.values())

    def _next_install(self, event: _Wake) -> None:
        """Wake ``event`` at the next install time (one chain of installs, one event)."""
        record = next(self._pending, None)
        if record is not None and record[0] < self.end:
            event._value = record
            self._wake(event, record[0] - self.env._now, self._install_callbacks)

    def _install(self, event: _Wake) -> None:
        t, visit = event._value
        meters = self._meters(self.env._now, visit)
        for meter in meters:
            self.recorder.live[meter.number] = meter
            self.installed += 1
        for meter in meters:
            if meter.state is not State.COMMISSIONED and meter.number in self.recorder.live:
                self.events += 1
                self._schedule_due(meter, self.lifecycle.install(meter, self.env._now))
        self._next_install(event)

    def _schedule_due(self, meter: Meter, due: float) -> None:
        if due < self.end and not self._finished_commissioning(meter, due):
            wake = _Wake(self.env, meter)
            meter.wake = wake
            self._wake(wake, due - self.env._now, self._site_callbacks)

    def reschedule(self, meter: Meter) -> None:
        """A dual-fuel switch moved ``meter``: its old event goes stale, a new one is due."""
        meter.wake = None
        if meter.state is not State.COMMISSIONED:
            self._schedule_due(meter, meter.due)

    def _fire(self, event: _Wake) -> None:
        meter = event._value
        if meter.wake is not event:
            return  # stale: a partner's switch rescheduled this meter
        self.events += 1
        now = self.env._now
        due = self._advance(meter, now)
        if meter.wake is not event:
            return
        if due < self.end and not self._finished_commissioning(meter, due):
            event.callbacks = self._site_callbacks
            self._schedule(event, NORMAL, due - now)
        else:
            meter.wake = None

    def _finished_commissioning(self, meter: Meter, due: float) -> bool:
        """Finish a meter whose next event is the end of commissioning, without waiting.

        Its earliest clock is then "commissioned at ``due``"; commissioning touches no
        shared state (supplier books) and the recorder keeps times, not order. Skipping
        the SimPy event saves a third of all events; the event is still counted.
        """
        if meter.kind is not DONE:
            return False
        self.events += 1
        self.direct_events += 1
        self._advance(meter, due)
        return True

    def _wake(self, event: _Wake, delay: float, callbacks: list) -> None:
        event.callbacks = callbacks  # shared and never mutated: SimPy only iterates it
        self._schedule(event, NORMAL, delay)

    # -- results --------------------------------------------------------------------------
    def _result(self, historic: int) -> Replication:
        rec = self.recorder
        intervals = np.frombuffer(rec.intervals, float).reshape(-1, 3)
        keep = intervals[:, 2] > 0  # a historic meter's states before day 0 are history
        states, entered, left = (intervals[keep, 0].astype(np.int8), np.maximum(intervals[keep, 1], 0.0),
                                 intervals[keep, 2])
        open_meters = list(rec.live.values())
        states = np.concatenate((states, np.array([m.state for m in open_meters], np.int8)))
        entered = np.concatenate((entered, np.maximum([m.entered for m in open_meters], 0.0)))
        left = np.concatenate((left, np.full(len(open_meters), INF)))
        grid = np.arange(self.days + 1) * DAY
        backlog = np.zeros((len(BACKLOG_STATES), grid.size), np.int64)
        site_days = np.zeros((len(BACKLOG_STATES), grid.size))
        for s in BACKLOG_STATES:
            mask = states == s
            a, b = np.sort(entered[mask]), np.sort(left[mask])
            backlog[s] = np.searchsorted(a, grid, "right") - np.searchsorted(b, grid, "right")
            site_days[s] = (_integral(a, grid) - _integral(b, grid)) / DAY
        return outcome(backlog, site_days, np.frombuffer(rec.done_installed, float),
                       np.frombuffer(rec.done_at, float), np.array([m.installed for m in open_meters]),
                       self.end, np.frombuffer(rec.gains, float), np.frombuffer(rec.replacements, float),
                       installed=self.installed, historic=historic, replaced=rec.replaced,
                       requests=rec.requests, escalations=rec.escalations, join_attempts=rec.attempts,
                       events=self.events, direct_events=self.direct_events)


def outcome(backlog: np.ndarray, site_days: np.ndarray, done_installed: np.ndarray, done_at: np.ndarray,
            open_installed: np.ndarray, end: float, gains: np.ndarray, replacements: np.ndarray,
            **counts: int) -> Replication:
    """A replication's result from what either engine recorded (clock times in seconds):
    completions, the meters still open at ``end``, gains and replacements."""
    cohort_end = end / 2
    ttc = (done_at - done_installed)[(done_installed >= 0) & (done_installed < cohort_end)]
    censored = int(np.count_nonzero((open_installed >= 0) & (open_installed < cohort_end)))
    in_backlog = np.concatenate((done_at - np.maximum(done_installed, 0.0),
                                 end - np.maximum(open_installed, 0.0))) / DAY
    return Replication(
        backlog=backlog, site_days=site_days,
        ttc_days=np.sort(np.concatenate((ttc / DAY, np.full(censored, INF)))),
        done_days=done_at / DAY, done_installed_days=done_installed / DAY,
        in_backlog_days=in_backlog, gain_days=gains / DAY, replaced_days=replacements / DAY,
        commissioned=len(done_at), **counts)


def sample_history(params: PopulationParams, seed: np.random.SeedSequence) -> list[Meter]:
    """The meters uncommissioned at the epoch, by the lifecycle's own rules.

    A history run installs ``params.historic_sites`` meters at the run's install-and-leave
    rate over the ``historic_years`` before the epoch, under no process (none existed),
    and returns those still uncommissioned at its end, times shifted to the run's clock.
    """
    days = int(round(params.historic_years * 365.25))
    epoch = dt.date.fromisoformat(params.epoch) - dt.timedelta(days=days)
    history = PopulationModel(params, NoProcess(), seed, epoch=epoch, days=days)
    survivors = history.run_until_end(history.premises(params.historic_sites, (1.0,)))
    for meter in survivors:
        meter.shift(days * DAY)
        meter.wake = None
        meter.number = -meter.number  # historic meters: negative numbers, apart from new ones
    return survivors


def _integral(starts_sorted: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Σ max(0, t - start) over starts, for each t in grid (seconds)."""
    count = np.searchsorted(starts_sorted, grid, "right")
    finite = np.where(np.isfinite(starts_sorted), starts_sorted, 0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(finite)))
    return count * grid - cumulative[count]




def run_replication(params: PopulationParams, policy: Policy, seed: np.random.SeedSequence,
                    engine: str = DEFAULT_ENGINE) -> Replication:
    """One replication: the unit of work replications, sweeps and clusters ship around.

    ``engine``: ``numba`` (:mod:`sim.population.fast`, the default for populations) or
    ``simpy`` (this module, the reference). Common random numbers: the historic backlog
    comes from its own child stream, so every policy run with the same seed starts from
    the same meters in the same states (within one engine; the engines share no streams).
    """
    if engine == "numba":
        from sim.population import fast

        return fast.run_replication(params, policy, seed)
    if engine != "simpy":
        raise ParameterError(f"engine {engine!r} is unknown (allowed: {', '.join(ENGINES)})")
    history_seed, run_seed = (np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k))
                              for k in (0, 1))  # not seed.spawn: it counts calls, and runs reuse seeds
    return PopulationModel(params, policy, run_seed).run(sample_history(params, history_seed))
