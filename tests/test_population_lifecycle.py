"""The per-meter lifecycle told one meter at a time, and the seam replay shares with it."""

import datetime as dt

import numpy as np
import simpy

from sim.calendar import DAY, WorkingDayCalendar
from sim.lifecycle import GAS, INF, Event, Lifecycle, Meter, SampledCommissioning, SiteRules, State
from sim.policies import Email, NoProcess, SmiInstallCodes
from sim.population.model import PopulationModel, sample_history
from sim.population.params import PopulationParams
from sim.suppliers import Market, MarketSpec, SupplierClass
from sim.worktime import Draws, WorkClock

CAL = WorkingDayCalendar(dt.date(2025, 1, 1), years=3)


class Log:
    def __init__(self) -> None:
        self.states: list[tuple[State, float, float]] = []
        self.finished: list[float] = []
        self.gains: list[float] = []

    def left(self, meter, state, entered, now) -> None:
        self.states.append((state, entered, now))

    def done(self, meter, now) -> None:
        self.finished.append(now)

    def gained(self, meter, now) -> None:
        self.gains.append(now)

    def requested(self, meter, request) -> None:
        return None

    def moved(self, meter) -> None:
        return None


def two_suppliers(field_per_wd: float = 0.0) -> Market:
    return Market([SupplierClass(n, 1, 0.5, 0.0, 1.0, False, field_per_wd) for n in ("a", "b")])


def life(policy, log: Log, market: Market | None = None, **rules) -> Lifecycle:
    return Lifecycle(policy, SampledCommissioning(p_join=1.0, attempt_seconds=600),
                     SiteRules(cos_hazard=0.0, cos_lead_wd=(1, 1), **rules), WorkClock(CAL),
                     Draws(np.random.default_rng(0)), log, market or two_suppliers())


def story(policy, wan_day: float, cos_day: float, **rules) -> tuple[Meter, Log]:
    log = Log()
    lifecycle = life(policy, log, **rules)
    env = simpy.Environment()
    install = CAL.time(dt.date(2025, 2, 3)) + 9 * 3600
    meter = Meter(1, install, install + wan_day * DAY, install + cos_day * DAY)
    env.process(lifecycle.process(env, meter))
    env.run()
    return meter, log


def test_cos_before_wan_code_from_the_smi_then_commissioned_when_wan_arrives() -> None:
    meter, log = story(SmiInstallCodes(delay_wd=2), wan_day=40, cos_day=4)  # Fri 7 Feb agreed
    assert [s for s, _, _ in log.states] == [State.WAITING_FOR_WAN, State.ORPHANED, State.WAITING_FOR_WAN,
                                             State.COMMISSIONING]
    assert CAL.date_at(log.states[0][2]) == dt.date(2025, 2, 10)  # next working day after Friday
    assert log.finished == [meter.installed + 40 * DAY + 600]
    assert meter.chain == (0, 1) and meter.holders == (0, 1) and log.gains == [log.states[0][2]]


def test_no_process_replaces_at_the_suppliers_pace_or_strands_the_meter() -> None:
    replaced, stranded = 0, 0
    for seed in range(20):
        log = Log()
        lifecycle = Lifecycle(NoProcess(), SampledCommissioning(p_join=1.0), SiteRules(cos_hazard=0.0, p_replace=0.5),
                              WorkClock(CAL), Draws(np.random.default_rng(seed)), log, two_suppliers(field_per_wd=1.0))
        meter = Meter(1, 0.0, 30 * DAY, INF)
        lifecycle.install(meter, 0.0)
        due = lifecycle.switch(meter, 2 * DAY, 1)
        while due < INF:
            due = lifecycle.advance(meter, due)
        if meter.state is State.COMMISSIONED:
            replaced += meter.replaced
            assert meter.replaced and CAL.date_at(log.finished[0]) >= CAL.add_working_days(CAL.date_at(30 * DAY), 10)
        else:
            stranded += 1
            assert meter.state is State.STRANDED  # left working as a non-smart meter
    assert replaced and stranded


def test_field_capacity_spreads_replacement_visits() -> None:
    """One visit a working day: ten meters needing a visit on the same day take ten days."""
    market = two_suppliers(field_per_wd=1.0)
    log = Log()
    lifecycle = life(NoProcess(), log, market, p_replace=1.0)
    visits = []
    for n in range(10):
        meter = Meter(n, 0.0, 0.0, INF, draws=Draws(np.random.default_rng(n)))
        meter.holds_code = False
        meter.wan = True
        lifecycle.code_resolved(meter, 5 * DAY)
        visits.append(CAL.date_at(meter.visit_at))
    assert len(set(visits)) == 10 and all(CAL.is_working_day(d) for d in visits)


def test_a_dual_fuel_switch_moves_both_meters_a_single_fuel_switch_one() -> None:
    moved = {True: 0, False: 0}
    for seed in range(40):
        log = Log()
        lifecycle = Lifecycle(Email(), SampledCommissioning(), SiteRules(single_fuel_switch=0.5), WorkClock(CAL),
                              Draws(np.random.default_rng(seed)), log, two_suppliers())
        esme, gsme = Meter(1, 0.0, INF, INF), Meter(2, 0.0, INF, INF, fuel=GAS)
        esme.partner, gsme.partner = gsme, esme
        lifecycle.install(esme, 0.0)
        lifecycle.install(gsme, 0.0)
        lifecycle.change_of_supplier(esme, DAY)
        both = gsme.cos_count == 1
        moved[both] += 1
        assert esme.supplier == 1 and gsme.supplier == (1 if both else 0)  # split supply when one moves
    assert moved[True] and moved[False]


def test_scripted_events_through_inject_tell_the_same_story_as_sampled_ones() -> None:
    """Lifecycle.inject/switch (the replay's seam) and sampled events give the same states."""
    sampled_meter, sampled = story(SmiInstallCodes(delay_wd=2), wan_day=40, cos_day=4)
    cos_at, wan_at = sampled.states[0][2], sampled.states[2][2]
    log = Log()
    lifecycle = life(SmiInstallCodes(delay_wd=2), log)
    meter = Meter(1, sampled_meter.installed, INF, INF)
    assert lifecycle.install(meter, meter.installed) == INF  # nothing pending until the script says
    due = lifecycle.switch(meter, cos_at, 1)
    assert meter.state is State.ORPHANED and due == meter.code_at
    assert lifecycle.advance(meter, due) == INF
    due = lifecycle.inject(meter, Event.WAN, wan_at)
    lifecycle.advance(meter, due)
    assert log.states == sampled.states and log.finished == sampled.finished


def test_history_is_sampled_by_the_lifecycle_and_every_meter_is_accounted_for() -> None:
    params = PopulationParams(sites=3000, years=1.0, historic_years=2.0)
    historic = sample_history(params, np.random.SeedSequence(3))
    assert historic and all(m.installed < 0 and m.state is not State.COMMISSIONED for m in historic)
    assert {m.state for m in historic} <= {State.WAITING_FOR_WAN, State.STRANDED, State.AWAITING_VISIT,
                                           State.COMMISSIONING}
    rep = PopulationModel(params, Email(), np.random.SeedSequence(4)).run(historic)
    assert rep.historic == len(historic)
    assert rep.commissioned + rep.backlog[:, -1].sum() == rep.historic + rep.installed
    assert rep.replaced <= rep.commissioned


def test_market_defaults_add_up() -> None:
    spec = MarketSpec()
    assert abs(sum(c.count * c.share for c in spec.classes) - 1) < 1e-9
    assert len(Market.of(spec, 1.0)) == 22


def test_a_late_code_from_an_open_incident_commissions_a_stranded_meter_or_cancels_the_visit() -> None:
    """SSI: the requester stops waiting on WD 60 (stranded, or a visit planned), the code
    the incident still brings on WD 100 commissions the meter; by email the meter stays
    stranded, or is replaced."""
    from sim.policies import SsiIncident

    rules = dict(reply_probability=1.0, reply_wd=100, give_up_wd=60, p_escalated=0.0)
    outcomes = {}
    for name, policy in (("ssi", SsiIncident(**rules)), ("email", Email(**rules))):
        for p_replace, field in ((0.0, 0.0), (1.0, 1 / 200)):  # a visit ~200 WD out
            log = Log()
            lifecycle = life(policy, log, two_suppliers(field_per_wd=field), p_replace=p_replace)
            meter = Meter(1, 0.0, 5 * DAY, INF, draws=Draws(np.random.default_rng(1)))
            lifecycle.install(meter, 0.0)
            meter.state, meter.wan = State.WAITING_FOR_WAN, True
            due = lifecycle.switch(meter, 7 * DAY, 1)  # Wed 8 Jan 2025
            while due < INF:
                due = lifecycle.advance(meter, due)
            outcomes[name, p_replace] = (meter.state, meter.replaced,
                                         CAL.working_days_between(CAL.date_at(7 * DAY), CAL.date_at(log.finished[0]))
                                         if log.finished else None)
    assert outcomes["ssi", 0.0] == outcomes["ssi", 1.0] == (State.COMMISSIONED, False, 100)
    assert outcomes["email", 0.0] == (State.STRANDED, False, None)
    assert outcomes["email", 1.0][:2] == (State.COMMISSIONED, True) and outcomes["email", 1.0][2] > 100
