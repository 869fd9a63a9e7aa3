"""The life of one install-and-leave meter, from installation to commissioning.

One state machine serves both levels of detail, one record per meter: an ESME and a
GSME each have their own supplier, their own changes of supplier (CoS) and their own
install-code chain. A meter waits for WAN; a CoS takes the install code away from its
new supplier, who asks for it under the MP121 :class:`~sim.policies.Policy` in force
(searching the meter's chain of suppliers, :mod:`sim.suppliers`); without the code the
gaining supplier books a replacement visit within its field capacity, or leaves the
meter working as a non-smart meter (stranded). Commissioning (SRV 8.11, HAN join, SRV
8.1.1) is a :class:`Commissioning` strategy: the population model samples the join
(:class:`SampledCommissioning`); scenario replay plugs the frame-level join in behind
the same interface.

The two meters of a dual-fuel premises are partners: a dual-fuel switch moves both to
the same gaining supplier; a single-fuel switch (share ``rules.single_fuel_switch``)
moves one, which is how split supply arises.

Competing clocks, not ticks: each meter holds the times of its pending events (WAN,
next CoS, the code request's outcome, commissioning done, replacement visit) and
:meth:`Lifecycle.advance` handles the earliest and says when the next is due. Drivers
(the population's SimPy callbacks, a replay's SimPy process) only wait for that time;
a partner moved by a dual-fuel switch is handed to ``observer.moved``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from sim.calendar import DAY
from sim.policies import CodeRequest, ParameterError, Policy, at_working_day, check_int, check_range
from sim.suppliers import Market
from sim.worktime import Draws, WorkClock

if TYPE_CHECKING:
    import simpy

INF = math.inf
YEAR = 365.25 * DAY


class State(IntEnum):
    """Why a live site is not commissioned yet (the backlog's states)."""

    WAITING_FOR_WAN = 0  #: the current supplier holds the install code; no WAN yet
    ORPHANED = 1  #: a CoS left the current supplier without the code, asking; no WAN yet either
    WAITING_FOR_CODE = 2  #: WAN is there; the code is asked for
    AWAITING_VISIT = 3  #: no code: the supplier will replace the meter (visit booked once WAN is there)
    STRANDED = 4  #: no code and no visit: left working as a non-smart meter
    COMMISSIONING = 5  #: SRV 8.11, HAN join and SRV 8.1.1 under way
    COMMISSIONED = 6  #: done; the meter leaves the model


BACKLOG_STATES = tuple(s for s in State if s is not State.COMMISSIONED)
# Module-level names: an Enum attribute look-up costs ~200 ns on the hot path.
(WAITING_FOR_WAN, ORPHANED, WAITING_FOR_CODE, AWAITING_VISIT, STRANDED, COMMISSIONING,
 COMMISSIONED) = State
ELECTRICITY, GAS = 0, 1


class Event(IntEnum):
    WAN = 0
    COS = 1
    CODE = 2
    COMMISSIONED = 3
    VISIT = 4


WAN, COS, CODE, DONE, VISIT = Event


class Commissioned(NamedTuple):
    """When commissioning completes and after how many HAN join attempts."""

    done: float
    attempts: int


class Commissioning(Protocol):
    """SRV 8.11 + HAN join + SRV 8.1.1, started at ``now`` by a supplier holding the code."""

    def commission(self, now: float, clock: WorkClock, draws: Draws) -> Commissioned: ...


@dataclass(frozen=True)
class SampledCommissioning:
    """The HAN join as a sampled outcome and latency (population level).

    Each attempt takes ``attempt_seconds`` (8.11 round trip, join window, CBKE, 8.1.1)
    and succeeds with ``p_join``; a failed join (0x8F48) is retried ``retry_wd`` working
    days later. Defaults are assumptions (L) until calibrated from the frame-level join.
    """

    p_join: float = 0.97
    attempt_seconds: float = 900.0
    retry_wd: int = 1

    def __post_init__(self) -> None:
        check_range("commissioning.p_join", self.p_join, 0.01, 1.0)
        check_range("commissioning.attempt_seconds", self.attempt_seconds, 0.0, DAY)
        check_int("commissioning.retry_wd", self.retry_wd, 0, 60)

    def commission(self, now: float, clock: WorkClock, draws: Draws) -> Commissioned:
        t, attempts = now, 1
        while draws.uniform() >= self.p_join:
            t = clock.later(t + self.attempt_seconds, self.retry_wd)
            attempts += 1
        return Commissioned(t + self.attempt_seconds, attempts)


@dataclass(frozen=True)
class SiteRules:
    """Change of supplier and replacement rules (sources: ../shared/domain.md §7, §1).

    ``cos_hazard``: annual CoS hazard of a meter, 0.10 (range 0.04..0.22, H volumes / L
    denominator). ``cos_lead_wd``: CoS lead time in working days, uniform 1..5 (since
    July 2022, H). ``single_fuel_switch``: share of a dual-fuel premises' switches that
    move one fuel only (assumed 0.15, range 0.05..0.3, L). ``p_replace``: chance a
    supplier left without the code replaces the meter rather than leaving it working as
    a non-smart meter (L, range 0.2..0.8: 0.61, calibrated to the seeds' figures by
    ``hansim calibrate``, docs/reference/studies.md; the seeds: "a significant risk
    that these non-commissioned Devices will be removed or replaced"). ``visit_lead_wd``:
    working days to book a replacement visit (L); the visit then waits for the supplier's
    field capacity (:mod:`sim.suppliers`). ``visit_cost``: GBP per replaced meter, meter
    and labour (assumed £250, range £150..£400, L). ``scrap_cost``: GBP per replaced meter
    scrapped (non-redeployable Comms Hub returns £30.87 single band .. £58.75 dual band, M;
    default £45). ``stranded_cost_per_year``: GBP a year per meter stranded as non-smart
    (assumed £20, range £5..£50, L: manual reads, lost smart tariffs).
    ``day_without_smart_cost``: GBP per consumer-day without smart service (assumed £0.10,
    range £0.02..£0.30, L).
    """

    cos_hazard: float = 0.10
    cos_lead_wd: tuple[int, int] = (1, 5)
    single_fuel_switch: float = 0.15
    p_replace: float = 0.61  # calibrated (was 0.4, assumed)
    visit_lead_wd: int = 10
    visit_cost: float = 250.0
    scrap_cost: float = 45.0
    stranded_cost_per_year: float = 20.0
    day_without_smart_cost: float = 0.10

    def __post_init__(self) -> None:
        check_range("rules.cos_hazard", self.cos_hazard, 0.0, 5.0)
        if not isinstance(self.cos_lead_wd, (tuple, list)) or len(self.cos_lead_wd) != 2:
            raise ParameterError(f"rules.cos_lead_wd = {self.cos_lead_wd!r} is not a pair of working days "
                                 "(allowed: [low, high], 0 <= low <= high <= 250)")
        low, high = self.cos_lead_wd
        check_int("rules.cos_lead_wd[0]", low, 0, 250)
        check_int("rules.cos_lead_wd[1]", high, low, 250)
        check_range("rules.single_fuel_switch", self.single_fuel_switch, 0.0, 1.0)
        check_range("rules.p_replace", self.p_replace, 0.0, 1.0)
        check_int("rules.visit_lead_wd", self.visit_lead_wd, 0, 250)
        check_range("rules.visit_cost", self.visit_cost, 0.0)
        check_range("rules.scrap_cost", self.scrap_cost, 0.0)
        check_range("rules.stranded_cost_per_year", self.stranded_cost_per_year, 0.0)
        check_range("rules.day_without_smart_cost", self.day_without_smart_cost, 0.0)


def stream(draws: Draws | None) -> Draws:
    """A meter's random stream, which every meter has from ``Lifecycle.install``/``resume`` on."""
    assert draws is not None, "meter used before Lifecycle.install or resume"
    return draws


class Meter:
    """One install-and-leave meter (ESME or GSME): its state, suppliers and pending events."""

    __slots__ = ("number", "fuel", "installed", "wan_at", "wan", "holds_code", "chain", "holders",
                 "cos_count", "state", "entered", "cos_at", "code_at", "code_ok", "commission_at",
                 "visit_at", "due", "kind", "attempts", "replaced", "last_request", "cos_agreed",
                 "partner", "gained_at", "wake", "draws", "policy_draws", "late_code_at")

    def __init__(self, number: int, installed: float, wan_at: float, cos_agreed: float,
                 installer: int = 0, fuel: int = ELECTRICITY, draws: Draws | None = None,
                 policy_draws: Draws | None = None) -> None:
        self.number = number
        self.fuel = fuel
        self.installed = installed
        self.wan_at = wan_at
        self.wan = False
        self.holds_code = True
        self.chain: tuple[int, ...] = (installer,)  # suppliers since installation, current last
        self.holders: tuple[int, ...] = (installer,)  # suppliers holding the install code
        self.cos_count = 0
        self.state = WAITING_FOR_WAN
        self.entered = installed
        self.cos_at = cos_agreed
        self.cos_agreed = True  # cos_at is when the CoS is agreed: the lead time is still to add
        self.code_at = self.commission_at = self.visit_at = self.due = INF
        self.late_code_at = INF  #: a failed request's code that still comes (a tracked incident)
        self.code_ok = self.replaced = False
        self.kind = WAN
        self.attempts = 0
        self.last_request: CodeRequest | None = None
        self.partner: Meter | None = None  #: the other meter of a dual-fuel premises, while live
        self.gained_at = -INF  #: when its latest CoS took effect
        self.wake: object = None  #: the driver's pending event for it (population runs)
        #: Its random streams (events; install-code requests); None: the lifecycle's own.
        self.draws = draws
        self.policy_draws = policy_draws

    @property
    def supplier(self) -> int:
        return self.chain[-1]

    def shift(self, offset: float) -> None:
        """Move every time by ``-offset``: a meter from a history run enters the main run."""
        for name in ("installed", "wan_at", "entered", "cos_at", "code_at", "commission_at",
                     "visit_at", "due", "gained_at", "late_code_at"):
            setattr(self, name, getattr(self, name) - offset)


class Observer(Protocol):
    """What drivers learn from the lifecycle."""

    def left(self, meter: Meter, state: State, entered: float, now: float) -> None: ...

    def done(self, meter: Meter, now: float) -> None: ...

    def gained(self, meter: Meter, now: float) -> None:
        """A CoS moved the uncommissioned ``meter`` to a new supplier."""

    def requested(self, meter: Meter, request: CodeRequest) -> None:
        """The meter's supplier asked for its code."""

    def moved(self, meter: Meter) -> None:
        """A partner's dual-fuel switch changed ``meter``'s next due time (``meter.due``)."""


class Lifecycle:
    """The meter state machine: a policy, suppliers, a commissioning strategy, rules, a clock.

    ``obligation_start``: clock time from which the SLA binds; requests for meters gained
    before it (the historic backlog included) are outside the SLA.
    """

    def __init__(self, policy: Policy, commissioning: Commissioning, rules: SiteRules,
                 clock: WorkClock, draws: Draws, observer: Observer, market: Market,
                 obligation_start: float = 0.0) -> None:
        self.policy = policy
        self.commissioning = commissioning
        self.rules = rules
        self.clock = clock
        self.draws = draws
        self.observer = observer
        self.market = market
        self.obligation_start = obligation_start
        self._left = observer.left
        # Each meter of a dual-fuel pair runs its own clock; a dual switch drags the partner,
        # so each clock runs at hazard / (2 - single) and each meter still moves at ``hazard``.
        dual = 1 - rules.single_fuel_switch
        self._cos_mean = YEAR / rules.cos_hazard if rules.cos_hazard > 0 else INF
        self._pair_cos_mean = self._cos_mean * (1 + dual)
        self._dual = dual
        # Indexed by Event: WAN, COS, CODE, DONE, VISIT.
        self._handlers = (self.wan_arrives, self.change_of_supplier, self.code_resolved,
                          self._commissioned, self.replacement_visit)

    # -- entry points ---------------------------------------------------------------------
    def install(self, meter: Meter, now: float) -> float:
        """A new meter enters the model at ``now``; returns when its next event is due."""
        self._streams(meter)
        meter.entered = now
        if meter.wan_at <= now:
            meter.wan = True
            meter.wan_at = INF
            self._commission(meter, now)
        return self._next(meter)

    def resume(self, meter: Meter, now: float) -> float:
        """A meter of the historic backlog enters the run at ``now`` in the state the history
        left it: under a regime with a process, its supplier now asks for a missing code
        (outside the SLA: the historic backlog is not under the obligation)."""
        self._streams(meter)
        meter.entered = now
        if self.policy.process and meter.state in (STRANDED, ORPHANED, WAITING_FOR_CODE):
            self._ask(meter, now)
        return self._next(meter)

    def advance(self, meter: Meter, now: float) -> float:
        """Handle the meter's earliest pending event (due at ``now``); next due time."""
        self._handlers[meter.kind](meter, now)
        return self._next(meter)

    def inject(self, meter: Meter, event: Event, now: float) -> float:
        """A scripted event at ``now`` (a replay's timeline: WAN, CoS, a code obtained, a
        visit at a date the scenario gives instead of a sampled one); next due time.

        Drivers that script an event kind keep the sampled one out (``wan_at`` INF, CoS
        hazard 0); the handlers are those the sampled events run.
        """
        self._handlers[event](meter, now)
        return self._next(meter)

    def wan_due(self, meter: Meter, at: float) -> float:
        """The WAN will reach ``meter`` at ``at`` (a replay's driver decides when); next due."""
        meter.wan_at = at
        return self._next(meter)

    def switch(self, meter: Meter, now: float, gainer: int) -> float:
        """A scripted CoS to supplier ``gainer`` at ``now`` (a replay's timeline); next due."""
        self.change_of_supplier(meter, now, gainer)
        return self._next(meter)

    def process(self, env: simpy.Environment, meter: Meter):
        """The meter's life as a SimPy process (one meter, no partner)."""
        if meter.installed > env.now:
            yield env.timeout(meter.installed - env.now)
        due = self.install(meter, env.now)
        while due < INF:
            yield env.timeout(due - env.now)
            due = self.advance(meter, env.now)

    # -- events (public so that a replay can inject its timeline's own) -------------------
    def wan_arrives(self, meter: Meter, now: float) -> None:
        meter.wan = True
        meter.wan_at = INF
        if meter.state is AWAITING_VISIT:
            self._book_visit(meter, now)
        elif meter.holds_code:
            self._commission(meter, now)
        elif meter.state is ORPHANED:
            self._enter(meter, WAITING_FOR_CODE, now)

    def change_of_supplier(self, meter: Meter, now: float, gainer: int | None = None) -> None:
        """A CoS takes effect: the gaining supplier lacks the code and asks for it.

        A sampled CoS of a meter whose partner has the same supplier is a dual-fuel
        switch with chance ``1 - single_fuel_switch``: the partner moves too.
        """
        losing = meter.supplier
        if gainer is None:
            gainer = self.market.pick(stream(meter.draws), other_than=losing)
            partner = meter.partner
            if partner is not None and stream(meter.draws).uniform() < self._dual and partner.supplier == losing:
                self._switch(partner, now, gainer)
                partner.due = self._next(partner)
                self.observer.moved(partner)
        self._switch(meter, now, gainer)

    def code_resolved(self, meter: Meter, now: float) -> None:
        """The request's outcome: the code (commission, or wait for WAN; a planned visit is
        cancelled), or none (replace or strand; a tracked incident's late code may follow)."""
        meter.code_at = INF
        if meter.code_ok:
            meter.visit_at = INF
            meter.holds_code = True
            if meter.supplier not in meter.holders:
                meter.holders += (meter.supplier,)
            if meter.wan:
                self._commission(meter, now)
            else:
                self._enter(meter, WAITING_FOR_WAN, now)
            return
        if stream(meter.draws).uniform() < self.rules.p_replace:
            self._enter(meter, AWAITING_VISIT, now)
            if meter.wan:
                self._book_visit(meter, now)
        else:
            self._enter(meter, STRANDED, now)
        if meter.late_code_at < INF:  # the incident is still open: its code comes later
            meter.code_at, meter.code_ok, meter.late_code_at = meter.late_code_at, True, INF

    def replacement_visit(self, meter: Meter, now: float) -> None:
        """A new meter fitted by the current supplier, with WAN: commissioned on the visit."""
        meter.visit_at = INF
        meter.replaced = True
        meter.holds_code = True
        self._enter(meter, COMMISSIONED, now)

    # -- internals ------------------------------------------------------------------------
    def _streams(self, meter: Meter) -> None:
        """A meter without streams of its own draws from the lifecycle's (a replay's)."""
        if meter.draws is None:
            meter.draws = self.draws
        if meter.policy_draws is None:
            meter.policy_draws = meter.draws

    def _switch(self, meter: Meter, now: float, gainer: int) -> None:
        meter.cos_count += 1
        meter.chain += (gainer,)
        meter.gained_at = now
        meter.holds_code = False
        meter.commission_at = meter.visit_at = meter.code_at = INF
        meter.cos_at = self._next_cos_agreed(meter, now)
        meter.cos_agreed = True
        self.observer.gained(meter, now)
        if gainer in meter.holders:  # back to a supplier that holds the code (its installer)
            meter.holds_code = True
            if meter.wan:
                self._commission(meter, now)
            else:
                self._enter(meter, WAITING_FOR_WAN, now)
            return
        self._ask(meter, now)

    def _ask(self, meter: Meter, now: float) -> None:
        under_sla = meter.gained_at >= self.obligation_start
        request = self.policy.request(meter, now, under_sla, self.market, self.clock, stream(meter.policy_draws))
        meter.last_request = request
        meter.code_ok = request.success
        meter.late_code_at = request.late
        self.observer.requested(meter, request)
        self._enter(meter, WAITING_FOR_CODE if meter.wan else ORPHANED, now)
        if request.resolved <= now:
            self.code_resolved(meter, now)
        else:
            meter.code_at = request.resolved

    def _book_visit(self, meter: Meter, now: float) -> None:
        day = self.market.book_visit(meter.supplier, self.clock.number(now) + self.rules.visit_lead_wd)
        meter.visit_at = at_working_day(self.clock, now, day)

    def _commissioned(self, meter: Meter, now: float) -> None:
        self._enter(meter, COMMISSIONED, now)

    def _commission(self, meter: Meter, now: float) -> None:
        outcome = self.commissioning.commission(now, self.clock, stream(meter.draws))
        meter.attempts += outcome.attempts
        meter.commission_at = outcome.done
        self._enter(meter, COMMISSIONING, now)

    def _next_cos_agreed(self, meter: Meter, now: float) -> float:
        """CoS is a Poisson process per meter (memoryless), sampled only when needed."""
        mean = self._cos_mean if meter.partner is None else self._pair_cos_mean
        return INF if mean == INF else now + stream(meter.draws).exponential(mean)

    def _effective(self, meter: Meter, agreed: float) -> float:
        """A CoS agreed at ``agreed`` takes effect after the lead time (working days)."""
        if agreed == INF or agreed >= self.clock.horizon:
            return INF
        low, high = self.rules.cos_lead_wd
        return self.clock.later(agreed, stream(meter.draws).integer(low, high))

    def _enter(self, meter: Meter, state: State, now: float) -> None:
        if meter.state is not state:
            if now > meter.entered:  # a zero-length stay is no part of the backlog
                self._left(meter, meter.state, meter.entered, now)
            meter.state = state
            meter.entered = now
        if state is COMMISSIONED:
            meter.due = INF
            if meter.partner is not None:
                meter.partner.partner = None
                meter.partner = None
            self.observer.done(meter, now)

    def _next(self, meter: Meter) -> float:
        """Pick the earliest pending event; INF when the meter is done."""
        if meter.state is COMMISSIONED:
            return INF
        due, kind = meter.wan_at, WAN
        if meter.code_at < due:
            due, kind = meter.code_at, CODE
        if meter.commission_at < due:
            due, kind = meter.commission_at, DONE
        if meter.visit_at < due:
            due, kind = meter.visit_at, VISIT
        if meter.cos_at < due:
            if meter.cos_agreed:  # the lead time is drawn only once the CoS could come first
                meter.cos_at = self._effective(meter, meter.cos_at)
                meter.cos_agreed = False
            if meter.cos_at < due:
                due, kind = meter.cos_at, COS
        meter.due, meter.kind = due, kind
        return due
