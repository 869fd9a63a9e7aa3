"""MP121 policies: parameters, outcomes against the working-day calendar, reply rates."""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim.calendar import DAY, WorkingDayCalendar
from sim.policies import POLICIES, Email, NoProcess, ParameterError, SmiInstallCodes, SsiIncident, make_policy
from sim.worktime import Draws, WorkClock

CAL = WorkingDayCalendar(dt.date(2025, 1, 1), years=6)
CLOCK = WorkClock(CAL)


def draws(seed: int = 0) -> Draws:
    return Draws(np.random.default_rng(seed))


def test_cli_names_build_the_right_regimes() -> None:
    assert set(POLICIES) == {"none", "email-5wd", "email-10wd", "ssi-5wd", "smi-codes"}
    assert isinstance(make_policy("none"), NoProcess)
    assert make_policy("email-5wd").sla_wd == 5
    assert make_policy("email-10wd").sla_wd == 10
    assert isinstance(make_policy("ssi-5wd"), SsiIncident) and make_policy("ssi-5wd").sla_wd == 5
    assert isinstance(make_policy("smi-codes"), SmiInstallCodes)
    assert make_policy("email-10wd", reply_probability=0.5).reply_probability == 0.5


@pytest.mark.parametrize(("make", "words"), [
    (lambda: make_policy("email-9wd"), ["email-9wd", "email-10wd", "smi-codes"]),
    (lambda: Email(reply_probability=1.5), ["reply_probability", "1.5", "0..1"]),
    (lambda: Email(sla_wd=-1), ["sla_wd", "-1", "0..250"]),
    (lambda: Email(p_identify_installer=-0.1), ["p_identify_installer", "0..1"]),
    (lambda: SmiInstallCodes(coverage=2), ["coverage", "0..1"]),
    (lambda: make_policy("none", sla_wd=5), ["none", "sla_wd"]),
])
def test_bad_parameters_name_parameter_and_range(make, words) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    for word in words:
        assert word in str(err.value)


def test_no_process_books_a_replacement_at_once() -> None:
    outcome = NoProcess().request(10.0, 1, CLOCK, draws())
    assert (outcome.resolved, outcome.success) == (10.0, False)


def test_work_clock_agrees_with_published_bank_holidays() -> None:
    # 24 Dec 2025 (Wed) + 1 WD: 25-26 Dec are bank holidays, 27-28 a weekend.
    t = CAL.time(dt.date(2025, 12, 24)) + 3600
    assert CAL.date_at(CLOCK.later(t, 1)) == dt.date(2025, 12, 29)
    assert CLOCK.later(t, 1) % DAY == 3600  # keeps the time of day
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
    assert CAL.date_at(CLOCK.later(CAL.time(dt.date(2026, 4, 2)), 1)) == dt.date(2026, 4, 7)


@settings(max_examples=60, deadline=None)
@given(day=st.integers(0, 365 * 4), n=st.integers(0, 30))
def test_work_clock_matches_the_calendar(day: int, n: int) -> None:
    date = CAL.date(day)
    assert CAL.date_at(CLOCK.later(day * DAY + 60, n)) == CAL.add_working_days(date, n)


@settings(max_examples=40, deadline=None)
@given(day=st.integers(0, 365 * 4), seed=st.integers(0, 1000), sla=st.sampled_from([5, 10]))
def test_email_replies_come_within_the_sla_in_working_days(day: int, seed: int, sla: int) -> None:
    start = CAL.date(day)
    outcome = Email(sla_wd=sla, reply_probability=1.0, reply_delay=0.5).request(day * DAY, 1, CLOCK, draws(seed))
    assert outcome.resolved >= day * DAY
    assert CAL.working_days_between(start, CAL.date_at(outcome.resolved)) <= sla
    if not outcome.success:  # gave up: exactly at the SLA's end
        assert CAL.date_at(outcome.resolved) == CAL.add_working_days(start, sla)


def test_email_success_rate_matches_its_formula() -> None:
    """P(code) = reply_probability x P(Exp(1) <= 1/reply_delay) for the installer asked."""
    policy = Email(sla_wd=10, reply_probability=0.8, reply_delay=0.5)
    d = draws(7)
    n = 20_000
    ok = sum(policy.request(0.0, 1, CLOCK, d).success for _ in range(n))
    p = 0.8 * (1 - math.exp(-1 / 0.5))
    assert abs(ok / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_wrong_supplier_says_we_did_not_install_it_and_is_asked_again() -> None:
    policy = Email(reply_probability=1.0, reply_delay=0.1, p_identify_installer=0.0, max_attempts=3)
    outcome = policy.request(0.0, 2, CLOCK, draws(3))
    assert not outcome.success and outcome.attempts == 3
    assert sum("did not install" in s.what for s in outcome.steps) == 3
    # With one CoS the losing supplier is the installer: identified whatever the chance.
    assert policy.request(0.0, 1, CLOCK, draws(3)).success


def test_ssi_always_reaches_the_installer() -> None:
    policy = SsiIncident(reply_probability=1.0, reply_delay=0.0)
    assert all(policy.request(0.0, 4, CLOCK, draws(s)).success for s in range(50))


def test_bulk_requests_go_out_on_batch_days() -> None:
    policy = Email(bulk_wd=5, reply_probability=1.0)
    for day in range(0, 40):
        sent = policy.request(day * DAY, 1, CLOCK, draws(day)).steps[0].time
        date = CAL.date_at(sent)
        assert CAL.is_working_day(date) and CAL.working_day_number(date) % 5 == 0
        wait = CAL.working_days_between(CAL.date(day), date)
        assert wait < 5 if CAL.is_working_day(CAL.date(day)) else 1 <= wait <= 5


def test_smi_codes_read_after_the_delay() -> None:
    t = CAL.time(dt.date(2025, 3, 7))  # a Friday
    outcome = SmiInstallCodes(delay_wd=1).request(t, 3, CLOCK, draws())
    assert outcome.success and CAL.date_at(outcome.resolved) == dt.date(2025, 3, 10)
    assert not SmiInstallCodes(coverage=0.0).request(t, 1, CLOCK, draws()).success


def test_reply_capacity_serves_one_request_a_working_day_then_the_sla_runs_out() -> None:
    """Capacity 1 a working day, 15 requests at once, instant replies: reply k on WD k."""
    start = CAL.time(dt.date(2025, 3, 3)) + 3600  # a Monday
    policy = Email(sla_wd=10, reply_probability=1.0, reply_delay=0.0, capacity_per_wd=100.0).for_run(0.01)
    outcomes = [policy.request(start, 1, CLOCK, draws(k)) for k in range(15)]
    for k, outcome in enumerate(outcomes[:11]):
        assert outcome.success
        assert CAL.date_at(outcome.resolved) == CAL.add_working_days(dt.date(2025, 3, 3), k)
    assert not any(o.success for o in outcomes[11:])  # pushed past the 10-WD SLA
    fresh = Email(sla_wd=10, reply_probability=1.0, reply_delay=0.0, capacity_per_wd=100.0).for_run(0.01)
    assert fresh.request(start, 1, CLOCK, draws()).resolved == start  # every run starts clean


def test_fractional_capacity_averages_out() -> None:
    """0.25 replies a working day: 8 requests take 32 working days."""
    policy = Email(sla_wd=250, reply_probability=1.0, reply_delay=0.0, capacity_per_wd=0.25).for_run(1.0)
    start = CAL.time(dt.date(2025, 3, 3))
    last = max(policy.request(start, 1, CLOCK, draws(k)).resolved for k in range(8))
    assert 28 <= CAL.working_days_between(dt.date(2025, 3, 3), CAL.date_at(last)) <= 32
