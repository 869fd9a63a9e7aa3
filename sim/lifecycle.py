"""The life of an install-and-leave site, from installation to commissioning.

One state machine serves both levels of detail. A site waits for WAN; a change of
supplier (CoS) takes the install code away from its current supplier, who then asks
for it under the MP121 :class:`~sim.policies.Policy` in force; a failed request strands
the site until a replacement visit; commissioning (SRV 8.11, HAN join, SRV 8.1.1) is a
:class:`Commissioning` strategy. The population model samples the join
(:class:`SampledCommissioning`); scenario replay plugs the frame-level join in behind
the same interface.

Competing clocks, not ticks: each site holds the times of its pending events (WAN,
next CoS, the code request's outcome, commissioning done, replacement visit) and
:meth:`Lifecycle.advance` handles the earliest and says when the next is due. Drivers
(the population's SimPy callbacks, a replay's SimPy process) only wait for that time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from sim.calendar import DAY
from sim.policies import CodeRequest, Policy, check_int, check_range
from sim.worktime import Draws, WorkClock

if TYPE_CHECKING:
    import simpy

INF = math.inf
YEAR = 365.25 * DAY


class State(IntEnum):
    """Why a live site is not commissioned yet (the backlog's states)."""

    WAITING_FOR_WAN = 0  #: the current supplier holds the install code; no WAN yet
    ORPHANED = 1  #: a CoS left the current supplier without the code; no WAN yet either
    WAITING_FOR_CODE = 2  #: WAN is there; only the install code is missing
    STRANDED = 3  #: the code cannot be had: waiting for WAN and a replacement visit
    COMMISSIONING = 4  #: SRV 8.11, HAN join and SRV 8.1.1 under way
    COMMISSIONED = 5  #: done; the site leaves the model


BACKLOG_STATES = tuple(s for s in State if s is not State.COMMISSIONED)
# Module-level names: an Enum attribute look-up costs ~200 ns on the hot path.
WAITING_FOR_WAN, ORPHANED, WAITING_FOR_CODE, STRANDED, COMMISSIONING, COMMISSIONED = State


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

    ``cos_hazard``: annual CoS hazard, 0.10 (range 0.04..0.22, H volumes / L denominator).
    ``cos_lead_wd``: CoS lead time in working days, uniform 1..5 (since July 2022, H).
    ``visit_lead_wd``: working days to book a replacement visit (L).
    ``visit_cost``: GBP per replacement visit, meters and labour (L; non-redeployable
    Comms Hub returns alone cost £30.87 single band / £58.75 dual band, M).
    """

    cos_hazard: float = 0.10
    cos_lead_wd: tuple[int, int] = (1, 5)
    visit_lead_wd: int = 10
    visit_cost: float = 250.0

    def __post_init__(self) -> None:
        check_range("rules.cos_hazard", self.cos_hazard, 0.0, 5.0)
        low, high = self.cos_lead_wd
        check_int("rules.cos_lead_wd[0]", low, 0, 250)
        check_int("rules.cos_lead_wd[1]", high, low, 250)
        check_int("rules.visit_lead_wd", self.visit_lead_wd, 0, 250)
        check_range("rules.visit_cost", self.visit_cost, 0.0)


class Site:
    """One install-and-leave site: its state and the times of its pending events."""

    __slots__ = ("number", "installed", "wan_at", "wan", "holds_code", "cos_count", "state",
                 "entered", "cos_at", "code_at", "code_ok", "commission_at", "visit_at",
                 "due", "kind", "attempts", "replaced", "last_request", "cos_agreed")

    def __init__(self, number: int, installed: float, wan_at: float, cos_agreed: float) -> None:
        self.number = number
        self.installed = installed
        self.wan_at = wan_at
        self.wan = False
        self.holds_code = True
        self.cos_count = 0
        self.state = WAITING_FOR_WAN
        self.entered = installed
        self.cos_at = cos_agreed
        self.cos_agreed = True  # cos_at is when the CoS is agreed: the lead time is still to add
        self.code_at = self.commission_at = self.visit_at = self.due = INF
        self.code_ok = self.replaced = False
        self.kind = WAN
        self.attempts = 0
        self.last_request: CodeRequest | None = None


class Observer(Protocol):
    """What drivers learn from the lifecycle: state changes and the end of a site."""

    def left(self, site: Site, state: State, entered: float, now: float) -> None: ...

    def done(self, site: Site, now: float) -> None: ...


class Lifecycle:
    """The site state machine: a policy, a commissioning strategy, rules and a clock."""

    def __init__(self, policy: Policy, commissioning: Commissioning, rules: SiteRules,
                 clock: WorkClock, draws: Draws, observer: Observer) -> None:
        self.policy = policy
        self.commissioning = commissioning
        self.rules = rules
        self.clock = clock
        self.draws = draws
        self.observer = observer
        self._cos_mean = YEAR / rules.cos_hazard if rules.cos_hazard > 0 else INF
        self._left = observer.left
        # Indexed by Event: WAN, COS, CODE, DONE, VISIT.
        self._handlers = (self.wan_arrives, self.change_of_supplier, self.code_resolved,
                          self._commissioned, self.replacement_visit)

    # -- entry points ---------------------------------------------------------------------
    def install(self, site: Site, now: float, past_cos: int = 0) -> float:
        """The site enters the model at ``now``; returns when its next event is due.

        A site from the historic backlog enters with ``past_cos`` changes of supplier
        behind it: its current supplier then lacks the code and asks for it now.
        """
        site.entered = now
        if site.wan_at <= now:
            site.wan = True
            site.wan_at = INF
        if past_cos:
            site.cos_count = past_cos - 1
            self.change_of_supplier(site, now)
        elif site.wan:
            self._commission(site, now)
        return self._next(site)

    def advance(self, site: Site, now: float) -> float:
        """Handle the site's earliest pending event (due at ``now``); next due time."""
        self._handlers[site.kind](site, now)
        return self._next(site)

    def inject(self, site: Site, event: Event, now: float) -> float:
        """A scripted event at ``now`` (a replay's timeline: WAN, CoS, a code obtained, a
        visit at a date the scenario gives instead of a sampled one); next due time.

        Drivers that script an event kind keep the sampled one out (``wan_at`` INF, CoS
        hazard 0); the handlers are those the sampled events run.
        """
        self._handlers[event](site, now)
        return self._next(site)

    def process(self, env: "simpy.Environment", site: Site, past_cos: int = 0):
        """The site's life as a SimPy process: what a replay runs, one site or a street.

        The population model drives the same methods from plain callbacks instead, to
        keep a million sites cheap; both wait only for the next due time.
        """
        if site.installed > env.now:
            yield env.timeout(site.installed - env.now)
        due = self.install(site, env.now, past_cos)
        while due < INF:
            yield env.timeout(due - env.now)
            due = self.advance(site, env.now)

    # -- events (public so that a replay can inject its timeline's own) -------------------
    def wan_arrives(self, site: Site, now: float) -> None:
        site.wan = True
        site.wan_at = INF
        if site.state is STRANDED:
            site.visit_at = self.clock.later(now, self.rules.visit_lead_wd)
        elif site.holds_code:
            self._commission(site, now)
        elif site.state is ORPHANED:
            self._enter(site, WAITING_FOR_CODE, now)

    def change_of_supplier(self, site: Site, now: float) -> None:
        """A CoS takes effect: the gaining supplier lacks the code and asks for it."""
        site.cos_count += 1
        site.holds_code = False
        site.commission_at = site.visit_at = INF
        site.cos_at = self._next_cos_agreed(now)
        site.cos_agreed = True
        request = self.policy.request(now, site.cos_count, self.clock, self.draws)
        site.last_request = request
        site.code_ok = request.success
        self._enter(site, WAITING_FOR_CODE if site.wan else ORPHANED, now)
        if request.resolved <= now:
            self.code_resolved(site, now)
        else:
            site.code_at = request.resolved

    def code_resolved(self, site: Site, now: float) -> None:
        site.code_at = INF
        if site.code_ok:
            site.holds_code = True
            if site.wan:
                self._commission(site, now)
            else:
                self._enter(site, WAITING_FOR_WAN, now)
            return
        self._enter(site, STRANDED, now)
        if site.wan:
            site.visit_at = self.clock.later(now, self.rules.visit_lead_wd)

    def replacement_visit(self, site: Site, now: float) -> None:
        """New meters installed by the current supplier, with WAN: commissioned on the visit."""
        site.visit_at = INF
        site.replaced = True
        site.holds_code = True
        self._enter(site, COMMISSIONED, now)

    # -- internals ------------------------------------------------------------------------
    def _commissioned(self, site: Site, now: float) -> None:
        self._enter(site, COMMISSIONED, now)

    def _commission(self, site: Site, now: float) -> None:
        outcome = self.commissioning.commission(now, self.clock, self.draws)
        site.attempts += outcome.attempts
        site.commission_at = outcome.done
        self._enter(site, COMMISSIONING, now)

    def _next_cos_agreed(self, now: float) -> float:
        """CoS is a Poisson process per site (memoryless), sampled only when needed."""
        return INF if self._cos_mean == INF else now + self.draws.exponential(self._cos_mean)

    def _effective(self, agreed: float) -> float:
        """A CoS agreed at ``agreed`` takes effect after the lead time (working days)."""
        if agreed == INF or agreed >= self.clock.horizon:
            return INF
        low, high = self.rules.cos_lead_wd
        return self.clock.later(agreed, self.draws.integer(low, high))

    def _enter(self, site: Site, state: State, now: float) -> None:
        if site.state is not state:
            if now > site.entered:  # a zero-length stay is no part of the backlog
                self._left(site, site.state, site.entered, now)
            site.state = state
            site.entered = now
        if state is COMMISSIONED:
            site.due = INF
            self.observer.done(site, now)

    def _next(self, site: Site) -> float:
        """Pick the earliest pending event; INF when the site is done."""
        if site.state is COMMISSIONED:
            return INF
        due, kind = site.wan_at, WAN
        if site.code_at < due:
            due, kind = site.code_at, CODE
        if site.commission_at < due:
            due, kind = site.commission_at, DONE
        if site.visit_at < due:
            due, kind = site.visit_at, VISIT
        if site.cos_at < due:
            if site.cos_agreed:  # the lead time is drawn only once the CoS could come first
                site.cos_at = self._effective(site.cos_at)
                site.cos_agreed = False
            if site.cos_at < due:
                due, kind = site.cos_at, COS
        site.due, site.kind = due, kind
        return due
