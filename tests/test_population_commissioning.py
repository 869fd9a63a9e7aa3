"""The commissioning seam: frame-level joins behind the lifecycle, and calibration from them."""

import datetime as dt
import random

import numpy as np
import simpy

from han.installcode import InstallCode
from sim.calendar import DAY, WorkingDayCalendar
from sim.commissioning import DCC_SECONDS, JoinCommissioning, calibrate
from sim.han_join import FrameLevelJoin
from sim.lifecycle import Lifecycle, Site, SiteRules, State
from sim.policies import SmiInstallCodes
from sim.worktime import Draws, WorkClock

CAL = WorkingDayCalendar(dt.date(2025, 1, 1), years=2)
CHF, ESME = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-B1"


class Done:
    def __init__(self) -> None:
        self.at: list[float] = []

    def left(self, site, state, entered, now) -> None:
        pass

    def done(self, site, now) -> None:
        self.at.append(now)


def replay_one_site(commissioning: JoinCommissioning) -> tuple[Site, Done]:
    seen = Done()
    life = Lifecycle(SmiInstallCodes(), commissioning, SiteRules(cos_hazard=0.0), WorkClock(CAL),
                     Draws(np.random.default_rng(5)), seen)
    env = simpy.Environment()
    site = Site(1, 10 * DAY, 40 * DAY, float("inf"))
    env.process(life.process(env, site))
    env.run()
    return site, seen


def test_a_replay_commissions_through_the_frame_level_join() -> None:
    code = InstallCode.generate(16, random.Random(3))
    frames = FrameLevelJoin()
    site, seen = replay_one_site(JoinCommissioning(frames, CHF, ESME, code))
    [report] = frames.reports
    assert report.joined and report.start == 40 * DAY  # the join ran when WAN arrived
    assert seen.at == [40 * DAY + report.duration + DCC_SECONDS]
    assert site.state is State.COMMISSIONED and site.attempts == 1


def test_a_wrong_install_code_fails_every_join_and_the_site_stays_in_the_backlog() -> None:
    rng = random.Random(4)
    frames = FrameLevelJoin()
    commissioning = JoinCommissioning(frames, CHF, ESME, InstallCode.generate(16, rng),
                                      meter_code=InstallCode.generate(16, rng), max_attempts=2)
    site, seen = replay_one_site(commissioning)
    assert [r.reason for r in frames.reports] == ["wrong link key"] * 2
    assert seen.at == [] and site.state is State.COMMISSIONING
    # The retry came one working day after the first join's window closed.
    first, second = frames.reports
    assert CAL.date_at(second.start) == CAL.add_working_days(CAL.date_at(first.start + 3600), 1)


def test_calibration_reads_the_join_success_rate_off_the_frame_level_model() -> None:
    clean = calibrate(loss=0.0, joins=10)
    assert clean.p_join == 1.0 and DCC_SECONDS < clean.attempt_seconds < DCC_SECONDS + 5
    lossy = calibrate(loss=0.45, joins=30, seed=1)
    assert 0.05 < lossy.p_join < 1.0
    assert lossy.attempt_seconds > clean.attempt_seconds  # retries inside the join take longer
