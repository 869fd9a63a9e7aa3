"""The numba population engine: the same meter life as the SimPy model, compiled.

:func:`run_replication` takes what :func:`sim.population.model.run_replication` takes and
returns the same :class:`~sim.population.model.Replication`. It samples the premises
with the SimPy model's own code (:meth:`PopulationModel.premises_draws`), packs the
parameters (the dataclasses both engines read) into arrays, runs the history and the run
through :func:`sim.population.kernel.run`, and summarises with the SimPy model's own
:func:`~sim.population.model.outcome`.

What the kernel knows of the model's inputs is declared here: :data:`READS` names every
parameter field it consumes and :data:`POLICY_KINDS` every policy class it runs. A new
parameter, policy, state or event that the kernel does not know fails
``tests/test_engine_crossvalidation.py`` until it does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sim.calendar import DAY
from sim.lifecycle import YEAR, Event, SampledCommissioning, State
from sim.policies import NoProcess, ParameterError, Policy, SmiInstallCodes, _AskTheInstaller
from sim.population import allocator, layout
from sim.population import kernel as k
from sim.population.model import BACKLOG_STATES, PopulationModel, PremisesDraws, Replication, outcome
from sim.population.params import PopulationParams
from sim.suppliers import Market
from sim.worktime import WorkClock

if [s.value for s in State] != list(range(k.COMMISSIONED + 1)) or len(BACKLOG_STATES) != k.N_BACKLOG_STATES:
    raise ImportError("sim.population.kernel's states no longer match sim.lifecycle.State")
if [e.value for e in Event] != [k.EV_WAN, k.EV_COS, k.EV_CODE, k.EV_DONE, k.EV_VISIT]:
    raise ImportError("sim.population.kernel's events no longer match sim.lifecycle.Event")
if k.METER.itemsize != 64:
    raise ImportError("sim.population.kernel.METER is no longer one 64-byte cache line")
if (k.CHAIN_WIDTH + k.CHAIN_WIDTH // 2) * 2 > 6 * 8:  # int16 chain and holders: words 0-5 of _Meters.cold
    raise ImportError("sim.population.kernel.CHAIN_WIDTH no longer fits a meter's cold cache line")

#: Every parameter field the kernel reads, by dataclass: the cross-validation test checks
#: that no field of these classes is missing (a new rule must reach both engines).
READS: dict[str, frozenset[str]] = {
    "PopulationParams": frozenset({
        "sites", "years", "installs_per_year", "install_and_leave_fraction", "install_profile",
        "historic_years", "gas_share", "split_supply", "igt_share", "igt_esme_lag_days", "epoch",
        "obligation_start", "market", "wan", "rules", "commissioning",
        "smets2_meters"}),  # smets2_meters: read by the report only, in either engine
    "WanArrival": frozenset({"reactive_fraction", "target_days", "reactive_on_target", "reactive_tail_days",
                             "proactive_min_days", "proactive_mean_days"}),
    "SiteRules": frozenset({"cos_hazard", "cos_lead_wd", "single_fuel_switch", "p_replace", "visit_lead_wd",
                            # costs: priced by the report from the counts, in either engine
                            "visit_cost", "scrap_cost", "stranded_cost_per_year", "day_without_smart_cost"}),
    "SampledCommissioning": frozenset({"p_join", "attempt_seconds", "retry_wd"}),
    "SupplierClass": frozenset({"name", "count", "share", "reply_per_wd", "p_reply", "forwards",
                                "field_per_wd"}),
}

#: Policy classes the kernel runs, with the ``params()`` names it reads.
POLICY_KINDS: dict[type[Policy], frozenset[str]] = {
    NoProcess: frozenset(),
    _AskTheInstaller: frozenset({"sla_wd", "reply_probability", "reply_mean_wd", "reply_wd", "p_identify_installer",
                                 "bulk_wd", "patience_wd", "give_up_wd", "p_escalated", "escalation_wd",
                                 "fixed_cost", "request_cost", "tracked"}),
    SmiInstallCodes: frozenset({"delay_wd", "coverage", "fixed_cost"}),
}

class EngineError(ParameterError):
    """The engine cannot run this policy or these parameters: the message says why."""


def policy_vector(policy: Policy) -> np.ndarray:
    """The policy as the kernel's parameter vector (``kernel.P_*``)."""
    P = np.zeros(k.P_SIZE)
    if isinstance(policy, NoProcess):
        P[k.P_KIND] = k.POLICY_NONE
    elif isinstance(policy, SmiInstallCodes):
        P[k.P_KIND] = k.POLICY_SMI
        P[k.P_DELAY], P[k.P_COVERAGE] = policy.delay_wd, policy.coverage
    elif isinstance(policy, _AskTheInstaller):
        P[k.P_KIND] = k.POLICY_ASK
        P[k.P_SLA], P[k.P_REPLY_MEAN], P[k.P_IDENTIFY] = policy.sla_wd, policy.reply_mean_wd, policy.identify
        P[k.P_REPLY_PROB] = -1.0 if policy.reply_probability is None else policy.reply_probability
        P[k.P_REPLY_WD] = -1.0 if policy.reply_wd is None else policy.reply_wd
        P[k.P_BULK], P[k.P_PATIENCE], P[k.P_GIVE_UP] = policy.bulk_wd, policy.patience_wd, policy.give_up_wd
        P[k.P_ESCALATED], P[k.P_ESCALATION_WD] = policy.p_escalated, policy.escalation_wd
        P[k.P_ROUTE] = float(policy.route_to_installer)
        P[k.P_TRACKED] = float(policy.tracked)
    else:
        raise EngineError(f"policy {policy.name!r} ({type(policy).__name__}) has no numba kernel yet "
                          "(allowed: run it with --engine simpy)")
    return P


def check(params: PopulationParams, policy: Policy) -> None:
    """Raise :class:`EngineError` if the kernel cannot run this policy or commissioning."""
    policy_vector(policy)
    if type(params.commissioning) is not SampledCommissioning:
        raise EngineError(f"commissioning {type(params.commissioning).__name__} has no numba kernel "
                          "(allowed: SampledCommissioning, or --engine simpy)")


def _rules(params: PopulationParams, clock: WorkClock, end: float, obligation: float, record: bool) -> np.ndarray:
    rules, commissioning = params.rules, params.commissioning
    R = np.zeros(k.R_SIZE)
    dual = 1 - rules.single_fuel_switch
    R[k.R_COS_MEAN] = YEAR / rules.cos_hazard if rules.cos_hazard > 0 else np.inf
    R[k.R_PAIR_COS_MEAN] = R[k.R_COS_MEAN] * (1 + dual)
    R[k.R_DUAL] = dual
    R[k.R_LEAD_LOW], R[k.R_LEAD_HIGH] = rules.cos_lead_wd
    R[k.R_P_REPLACE], R[k.R_VISIT_LEAD] = rules.p_replace, rules.visit_lead_wd
    R[k.R_P_JOIN], R[k.R_ATTEMPT_S] = commissioning.p_join, commissioning.attempt_seconds
    R[k.R_RETRY_WD] = commissioning.retry_wd
    R[k.R_OBLIGATION], R[k.R_END], R[k.R_HORIZON] = obligation, end, clock.horizon
    R[k.R_RECORD] = float(record)
    return R


class _Run:
    """One clock (history or run): its calendar tables, market and rules. The policy comes
    with each :meth:`run`: what is sampled before it does not depend on the policy."""

    def __init__(self, params: PopulationParams, seed: np.random.SeedSequence, epoch: dt.date, days: int,
                 record: bool) -> None:
        self.sampler = PopulationModel(params, NoProcess(), seed, epoch=epoch, days=days)  # its sampling, its rng
        clock = self.sampler.clock
        number = np.asarray(clock._number, np.int64)
        self.clk = (number, np.asarray(clock._is_working, np.bool_),
                    np.asarray(clock.calendar._working_index, np.int64))
        self.market: Market = self.sampler.market
        self.width = int(number[-1]) + 2_000
        self.end = days * DAY
        obligation = (dt.date.fromisoformat(params.obligation_start) - epoch).days * DAY
        self.R = _rules(params, clock, self.end, obligation, record)
        self.days = days

    def _books(self) -> tuple[np.ndarray, ...]:
        """The market as the kernel reads it, with empty reply and visit books (a run fills them)."""
        market, width = self.market, self.width
        behaviour = market.behaviour
        return (np.zeros((len(behaviour), width), np.int64), np.zeros(len(behaviour), np.int64),
                np.asarray(market._reply, float), np.zeros((len(behaviour), width), np.int64),
                np.zeros(len(behaviour), np.int64), np.asarray(market._field, float),
                np.asarray(market._cumulative, float), np.array([c.forwards for c in behaviour], np.bool_),
                np.array([c.p_reply for c in behaviour], float))

    def new_meters(self, meters: int, profile: tuple[float, ...]) -> _Plan:
        """The premises for about ``meters`` meters, sampled as the SimPy model samples them
        (installers picked by market share from the same stream, vectorised)."""
        draws = self.sampler.premises_draws(meters, profile)
        keep = layout.premises_kept(draws.igt, draws.dual, meters)
        draws = PremisesDraws(*(a[:keep] for a in draws))
        rng, cumulative = self.sampler.rng, np.asarray(self.market._cumulative, float)
        first = _pick(rng, cumulative, np.zeros(0, np.int64), keep)
        other = _pick(rng, cumulative, first, keep)
        return _Plan(draws, first, other, self.end,
                     layout.seconds(draws.installed, draws.igt, draws.dual, draws.esme_lag, self.end))

    def no_meters(self) -> _Plan:
        """No premises (every modelled site was installed in the history)."""
        none = np.zeros(0)
        draws = PremisesDraws(none, none, none.astype(bool), none.astype(bool), none.astype(bool), none,
                              np.zeros((0, 2), np.int64))
        return _Plan(draws, np.zeros(0, np.int64), np.zeros(0, np.int64), self.end, 0)

    def run(self, meters: _Meters, order: np.ndarray, resume: np.ndarray,
            policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        acc = np.zeros((4, len(BACKLOG_STATES), self.days + 1))
        out = np.empty((3, order.size + resume.size))
        gains = np.empty(max(16, order.size // 4))
        counts, gains = k.run(meters.M, meters.installed, meters.gained, meters.chain, meters.holders, meters.late,
                              self.R,
                              policy_vector(policy), self._books(), self.clk, order, resume, policy.process,
                              acc, out, gains)
        return counts, gains[:counts[k.C_GAINS]], acc, out


class _Plan(NamedTuple):
    """Premises to install on one clock: their draws, the installer of the first meter, a
    second installer (for a split supply or the IGT's ESME), the clock's end and how many
    premises have a second meter before it (:mod:`sim.population.layout`)."""

    draws: PremisesDraws
    first: np.ndarray
    other: np.ndarray
    end: float
    seconds: int

    @property
    def size(self) -> int:
        """Meters: one a premises, plus the second ones."""
        return self.draws.installed.size + self.seconds


def _pick(rng: np.random.Generator, cumulative: np.ndarray, other_than: np.ndarray, n: int) -> np.ndarray:
    """``n`` suppliers by market share, never ``other_than`` (Market.pick, vectorised: a
    uniform for each premises, then again for those that drew ``other_than``)."""
    picked = np.empty(n, np.int64)
    todo = np.arange(n)
    while todo.size:
        todo = layout.pick_round(cumulative, rng.random(todo.size), other_than, todo, picked)
    return picked


class _Meters:
    """The kernel's per-meter arrays (see :mod:`sim.population.kernel`): the history's
    meters, then, once it has run, its survivors moved to the first rows and the run's
    meters after them (:meth:`settle`). Rows for both clocks' meters are reserved at once,
    but only those written are paged in: the run reuses the rows of the history's
    commissioned meters, and the rest are never touched."""

    def __init__(self, history: _Plan, run: _Plan) -> None:
        capacity = history.size + run.size
        self._M = _aligned(capacity, k.METER)
        self._installed = np.empty(capacity)
        # The rest of a meter's cold state shares one cache line (a row of 8 words): its
        # chain of suppliers and the holders of its install code (words 0-5, as int16), the
        # time of its last gain (word 6) and of a failed request's late code (word 7). A
        # change of supplier reads and writes all four: one memory access, not four.
        self._cold = _aligned(8 * capacity, np.dtype(np.uint64)).reshape(capacity, 8)
        self.first_new = history.size
        self.settled = False  # the run's meters not yet in their rows (settle)
        self._rows(history.size)
        self.run_plan: _Plan | None = run  # for settle() and restore(); dropped when no policy follows
        self._pack(0, history)

    def _rows(self, n: int) -> None:
        """The arrays as their first ``n`` rows (the meters in use)."""
        self.M, self.installed, self.cold = self._M[:n], self._installed[:n], self._cold[:n]
        suppliers, times = self.cold.view(np.int16), self.cold.view(np.float64)
        self.chain = suppliers[:, :k.CHAIN_WIDTH]
        self.holders = suppliers[:, k.CHAIN_WIDTH:k.CHAIN_WIDTH + k.CHAIN_WIDTH // 2]
        self.gained, self.late = times[:, 6], times[:, 7]

    def settle(self, survivors: np.ndarray) -> np.ndarray:
        """After the history: its open meters (``survivors``, ascending) moved to the first
        rows, in order, and the run's meters packed after them; their new rows."""
        assert self.run_plan is not None, "settle() after the run's plan was dropped"
        layout.compact(self._M, self._installed, self._cold, survivors)
        self.first_new = survivors.size
        self.settled = True
        self._rows(survivors.size + self.run_plan.size)
        self._pack(self.first_new, self.run_plan)
        return np.arange(survivors.size)

    def _pack(self, start: int, plan: _Plan) -> None:
        layout.pack(self.M, self.installed, self.gained, self.late, self.chain, self.holders, start,
                    *plan.draws, plan.first, plan.other, plan.end)

    def order(self, rows: slice) -> np.ndarray:
        """Rows ``rows`` by install time (a premises' ESME before its GSME: row order)."""
        return rows.start + np.argsort(self.installed[rows], kind="stable")

    def open(self, rows: slice) -> np.ndarray:
        return rows.start + np.flatnonzero(self.M["state"][rows] != k.COMMISSIONED)

    def _changing(self) -> tuple[np.ndarray, ...]:
        """What a run changes (the install times it only reads), each as rows of a 2-D array
        (a record as its 8 words)."""
        return (self.M.view(np.uint64).reshape(-1, 8), self.cold)

    def state(self, survivors: np.ndarray) -> tuple[np.ndarray, ...]:
        """What :meth:`restore` needs to put the meters back as they are at the epoch: the
        survivors' rows (a run touches no other historic meter: the rest are commissioned,
        partners unlinked). The run's rows are packed afresh from their plan."""
        return tuple(layout.take(a, survivors) for a in self._changing())

    def restore(self, survivors: np.ndarray, state: tuple[np.ndarray, ...]) -> None:
        """Rows ``survivors`` back to ``state``; once settled, the run's rows packed afresh."""
        for a, saved in zip(self._changing(), state, strict=True):
            layout.put(a, survivors, saved)
        if self.settled:
            assert self.run_plan is not None, "restore() after the run's plan was dropped"
            self._pack(self.first_new, self.run_plan)

    def shift(self, rows: np.ndarray, by: float) -> None:
        """Meters ``rows``' times moved by ``by`` seconds (onto another clock)."""
        layout.shift(self.M, self.installed, self.gained, self.late, rows, by)


def _aligned(n: int, dtype: np.dtype) -> np.ndarray:
    """``n`` uninitialised records starting on a cache line (so each record is one line)."""
    raw = np.empty(n * dtype.itemsize + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + n * dtype.itemsize].view(dtype)


def run_replication(params: PopulationParams, policy: Policy, seed: np.random.SeedSequence) -> Replication:
    """One replication (:func:`sim.population.model.run_replication`'s contract), compiled."""
    return run_policies(params, (policy,), seed)[0]


def run_policies(params: PopulationParams, policies: Sequence[Policy],
                 seed: np.random.SeedSequence) -> list[Replication]:
    """:func:`run_replication` under each policy from one seed, bit for bit, sampling and
    running the history once.

    The history runs under no process from its own child stream, as in the SimPy model,
    so every policy with the same seed starts from the same historic backlog; the run's
    premises come from the run's stream before any policy acts. Neither depends on the
    policy, so a study of several policies shares them: each policy's run starts from a
    copy of the meters at the epoch.
    """
    for policy in policies:
        check(params, policy)  # refuse what the kernel lacks before any work
    allocator.keep_freed_memory()
    main, meters, survivors, _ = at_epoch(params, seed)
    order = meters.order(slice(meters.first_new, meters.M.size))
    saved = meters.state(survivors) if len(policies) > 1 else None
    if saved is None:
        meters.run_plan = None  # no restore: its memory back before the run
    results = []
    for n, policy in enumerate(policies):
        if n and saved is not None:
            meters.restore(survivors, saved)
        counts, gains, acc, out = main.run(meters, order, survivors, policy)
        results.append(_summary(main, meters, survivors, counts, gains, acc, out))
    return results


def at_epoch(params: PopulationParams, seed: np.random.SeedSequence) -> tuple[_Run, _Meters, np.ndarray, np.ndarray]:
    """Every meter at the epoch: the history run, the run's premises sampled. The run's
    clock, the meters, the history's survivors (on the run's clock) and its counters."""
    history_seed, run_seed = (np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, j))
                              for j in (0, 1))
    epoch = dt.date.fromisoformat(params.epoch)
    history_days = int(round(params.historic_years * 365.25))
    history = _Run(params, history_seed, epoch - dt.timedelta(days=history_days), history_days, record=False)
    main = _Run(params, run_seed, epoch, params.days, record=True)
    new_count = params.sites - params.historic_sites
    meters = _Meters(history.new_meters(params.historic_sites, (1.0,)),
                     main.new_meters(new_count, params.install_profile) if new_count > 0 else main.no_meters())
    old = slice(0, meters.first_new)
    counts = history.run(meters, meters.order(old), np.zeros(0, np.int64), NoProcess())[0]
    survivors = meters.settle(meters.open(old))
    meters.shift(survivors, -history_days * DAY)  # onto the run's clock
    return main, meters, survivors, counts


def _summary(run: _Run, meters: _Meters, survivors: np.ndarray, counts: np.ndarray, gains: np.ndarray,
             acc: np.ndarray, out: np.ndarray) -> Replication:
    new = meters.installed[meters.first_new:]
    open_installed = layout.close_open(meters.M, meters.installed, survivors, meters.first_new, acc, run.days)
    grid = np.arange(run.days + 1) * DAY
    count_in, sum_in, count_out, sum_out = np.cumsum(acc, axis=2)
    backlog = np.rint(count_in - count_out).astype(np.int64)
    site_days = (grid * count_in - sum_in - (grid * count_out - sum_out)) / DAY
    done = int(counts[k.C_DONE])
    # outcome keeps none of the arrays it is given (views of this run's buffers): it derives new ones
    done_installed = meters.installed[out[0, :done].astype(np.int64)]  # the kernel records rows
    return outcome(backlog, site_days, done_installed, out[1, :done], open_installed, run.end, gains,
                   out[2, :int(counts[k.C_REPLACEMENTS])],
                   installed=int(np.count_nonzero(new < run.end)), historic=survivors.size,
                   replaced=int(counts[k.C_REPLACED]), requests=int(counts[k.C_REQUESTS]),
                   escalations=int(counts[k.C_ESCALATIONS]), join_attempts=int(counts[k.C_ATTEMPTS]),
                   events=int(counts[k.C_EVENTS]), direct_events=int(counts[k.C_DIRECT]))


def parameter_fields() -> dict[str, frozenset[str]]:
    """Every field of the dataclasses both engines read (for the cross-validation test)."""
    from sim.lifecycle import SiteRules
    from sim.population.params import WanArrival
    from sim.suppliers import SupplierClass

    classes = (PopulationParams, WanArrival, SiteRules, SampledCommissioning, SupplierClass)
    return {c.__name__: frozenset(f.name for f in dataclasses.fields(c)) for c in classes}


__all__ = ["POLICY_KINDS", "READS", "EngineError", "at_epoch", "check", "parameter_fields",
           "policy_vector", "run_policies", "run_replication"]
