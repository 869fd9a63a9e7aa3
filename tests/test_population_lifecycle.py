"""The site lifecycle told one site at a time through its SimPy process (the replay seam)."""

import datetime as dt

import numpy as np
import simpy

from sim.calendar import DAY, WorkingDayCalendar
from sim.lifecycle import INF, Event, Lifecycle, SampledCommissioning, Site, SiteRules, State
from sim.policies import Email, NoProcess, SmiInstallCodes
from sim.population.model import PopulationModel
from sim.population.params import PopulationParams
from sim.worktime import Draws, WorkClock

CAL = WorkingDayCalendar(dt.date(2025, 1, 1), years=3)


class Log:
    def __init__(self) -> None:
        self.states: list[tuple[State, float, float]] = []
        self.finished: list[float] = []

    def left(self, site, state, entered, now) -> None:
        self.states.append((state, entered, now))

    def done(self, site, now) -> None:
        self.finished.append(now)


def story(policy, wan_day: float, cos_day: float, **rules) -> tuple[Site, Log]:
    log = Log()
    life = Lifecycle(policy, SampledCommissioning(p_join=1.0, attempt_seconds=600),
                     SiteRules(cos_hazard=0.0, cos_lead_wd=(1, 1), **rules), WorkClock(CAL),
                     Draws(np.random.default_rng(0)), log)
    env = simpy.Environment()
    install = CAL.time(dt.date(2025, 2, 3)) + 9 * 3600
    site = Site(1, install, install + wan_day * DAY, install + cos_day * DAY)
    env.process(life.process(env, site))
    env.run()
    return site, log


def test_cos_before_wan_code_from_the_smi_then_commissioned_when_wan_arrives() -> None:
    site, log = story(SmiInstallCodes(delay_wd=2), wan_day=40, cos_day=4)  # Fri 7 Feb agreed
    names = [s for s, _, _ in log.states]
    assert names == [State.WAITING_FOR_WAN, State.ORPHANED, State.WAITING_FOR_WAN, State.COMMISSIONING]
    cos_effective = log.states[0][2]
    assert CAL.date_at(cos_effective) == dt.date(2025, 2, 10)  # next working day after Friday
    assert CAL.date_at(log.states[1][2]) == CAL.add_working_days(dt.date(2025, 2, 10), 2)
    wan = log.states[2][2]
    assert wan == site.installed + 40 * DAY
    assert log.finished == [wan + 600]
    assert site.state is State.COMMISSIONED and not site.replaced and site.cos_count == 1


def test_no_process_strands_the_site_until_a_replacement_visit_after_wan() -> None:
    site, log = story(NoProcess(), wan_day=30, cos_day=2, visit_lead_wd=10)
    assert [s for s, _, _ in log.states] == [State.WAITING_FOR_WAN, State.STRANDED]
    wan = site.installed + 30 * DAY
    visit = log.finished[0]
    assert CAL.date_at(visit) == CAL.add_working_days(CAL.date_at(wan), 10)
    assert site.replaced and site.state is State.COMMISSIONED


def test_wan_already_there_with_the_code_commissions_at_once() -> None:
    site, log = story(Email(), wan_day=-1, cos_day=INF)
    assert [s for s, _, _ in log.states] == [State.COMMISSIONING]
    assert log.finished == [site.installed + 600]


def test_every_modelled_site_is_commissioned_or_still_in_the_backlog() -> None:
    params = PopulationParams(sites=3000, years=1.0, rules=SiteRules(cos_hazard=0.5))
    model = PopulationModel(params, Email(), np.random.SeedSequence(3))
    rep = model.run()
    assert rep.installed + rep.historic == params.sites
    assert rep.commissioned + rep.backlog[:, -1].sum() == params.sites
    assert rep.replaced <= rep.commissioned


def test_scripted_events_through_inject_tell_the_same_story_as_sampled_ones() -> None:
    """Lifecycle.inject (the replay's seam): the same CoS and WAN at the same times, scripted
    instead of scheduled in the Site, give the same states at the same times."""
    sampled_site, sampled = story(SmiInstallCodes(delay_wd=2), wan_day=40, cos_day=4)
    cos_at, wan_at = sampled.states[0][2], sampled.states[2][2]
    log = Log()
    life = Lifecycle(SmiInstallCodes(delay_wd=2), SampledCommissioning(p_join=1.0, attempt_seconds=600),
                     SiteRules(cos_hazard=0.0), WorkClock(CAL), Draws(np.random.default_rng(0)), log)
    site = Site(1, sampled_site.installed, INF, INF)
    due = life.install(site, site.installed)
    assert due == INF  # nothing is pending until the script says so
    due = life.inject(site, Event.COS, cos_at)
    assert site.state is State.ORPHANED and due == site.code_at
    due = life.advance(site, due)
    assert site.state is State.WAITING_FOR_WAN and due == INF
    due = life.inject(site, Event.WAN, wan_at)
    life.advance(site, due)
    assert log.states == sampled.states and log.finished == sampled.finished
