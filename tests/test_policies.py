"""MP121 policies: parameters, outcomes against the working-day calendar, reply rates."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim.calendar import DAY, WorkingDayCalendar
from sim.policies import POLICIES, Email, NoProcess, ParameterError, SmiInstallCodes, SsiIncident, make_policy
from sim.suppliers import Market, SupplierClass
from sim.worktime import Draws, WorkClock

CAL = WorkingDayCalendar(dt.date(2025, 1, 1), years=6)
CLOCK = WorkClock(CAL)


def draws(seed: int = 0) -> Draws:
    return Draws(np.random.default_rng(seed))


class Chain:
    """A meter as a policy sees it: its suppliers since installation and the code holders."""

    def __init__(self, *chain: int, holders: tuple[int, ...] | None = None) -> None:
        self.chain = chain
        self.holders = holders or (chain[0],)


def market(n: int = 4, reply_per_wd: float = 0.0, p_reply: float = 1.0, forwards: bool = False) -> Market:
    return Market([SupplierClass(f"s{i}", 1, 1 / n, reply_per_wd, p_reply, forwards, 0.0) for i in range(n)])


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
    (lambda: Email(sla_wd=0), ["sla_wd", "0", "1..250"]),
    (lambda: Email(reply_mean_wd=[1]), ["reply_mean_wd", "not a number"]),
    (lambda: SsiIncident(fixed_cost=1e6), ["fixed_cost", "150000..350000"]),
    (lambda: Email(p_identify_installer=-0.1), ["p_identify_installer", "0..1"]),
    (lambda: SmiInstallCodes(coverage=2), ["coverage", "0..1"]),
    (lambda: Email(tracked=1), ["tracked", "true/false"]),
    (lambda: make_policy("none", sla_wd=5), ["none", "sla_wd"]),
])
def test_bad_parameters_name_parameter_and_range(make, words) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    for word in words:
        assert word in str(err.value)


def test_no_process_gives_no_code() -> None:
    outcome = NoProcess().request(Chain(0, 1), 10.0, True, market(), CLOCK, draws())
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
def test_a_breach_escalates_and_the_requester_gives_up_after_its_chases(day: int, seed: int, sla: int) -> None:
    """The installer never replies and escalation fails: breaches at each deadline, then give up."""
    policy = Email(sla_wd=sla, reply_probability=0.0, p_escalated=0.0, give_up_wd=3 * sla)
    outcome = policy.request(Chain(0, 1), day * DAY, True, market(), CLOCK, draws(seed))
    start = CAL.date_at(CLOCK.later(day * DAY, 0))
    assert not outcome.success and outcome.escalations == 2
    assert CAL.date_at(outcome.resolved) == CAL.add_working_days(start, 3 * sla)


def test_reply_time_does_not_depend_on_the_sla() -> None:
    """Same draws, same reply day for a 5- and a 10-day SLA when the reply beats both."""
    for seed in range(200):
        five = Email(sla_wd=5, reply_probability=1.0).request(Chain(0, 1), 0.0, True, market(), CLOCK, draws(seed))
        ten = Email(sla_wd=10, reply_probability=1.0).request(Chain(0, 1), 0.0, True, market(), CLOCK, draws(seed))
        if five.escalations == 0:
            assert five.resolved == ten.resolved


def test_outside_the_obligation_there_is_no_deadline_only_chasing() -> None:
    policy = Email(sla_wd=5, reply_probability=0.0, p_escalated=1.0, patience_wd=20, give_up_wd=40)
    outcome = policy.request(Chain(0, 1), 0.0, False, market(), CLOCK, draws())
    assert outcome.escalations == 0 and not outcome.success
    assert any("chased" in s.what for s in outcome.steps)


def test_the_search_never_asks_the_same_wrong_party_twice() -> None:
    """Installer 0, then 1, 2, 3; now with 4. Not identified: 3, then 2, 1, then the installer."""
    policy = Email(reply_probability=1.0, p_identify_installer=0.0)
    outcome = policy.request(Chain(0, 1, 2, 3, 4), 0.0, True, market(5), CLOCK, draws(3))
    sent = [s.what for s in outcome.steps if s.what.startswith("request sent")]
    assert sent == [f"request sent to the wrong supplier (supplier {s})" for s in (3, 2, 1)] + [
        "request sent to the installing supplier (supplier 0)"]
    assert outcome.success and outcome.attempts == 4


def test_a_supplier_that_forwards_gives_the_code_it_received() -> None:
    chain = Chain(0, 1, 2, holders=(0, 1))
    policy = Email(reply_probability=1.0, p_identify_installer=0.0)
    forwarded = policy.request(chain, 0.0, True, market(3, forwards=True), CLOCK, draws(1))
    assert forwarded.success and forwarded.attempts == 1
    kept = policy.request(chain, 0.0, True, market(3, forwards=False), CLOCK, draws(1))
    assert kept.success and kept.attempts == 2  # "we did not install it", then the installer


def test_ssi_always_reaches_the_installer() -> None:
    policy = SsiIncident(reply_probability=1.0)
    for s in range(50):
        outcome = policy.request(Chain(0, 1, 2, 3), 0.0, True, market(), CLOCK, draws(s))
        assert outcome.success and outcome.attempts == 1


def test_bulk_requests_go_out_on_batch_days() -> None:
    policy = Email(bulk_wd=5, reply_probability=1.0)
    for day in range(0, 40):
        sent = policy.request(Chain(0, 1), day * DAY, True, market(), CLOCK, draws(day)).steps[0].time
        date = CAL.date_at(sent)
        assert CAL.is_working_day(date) and CAL.working_day_number(date) % 5 == 0


def test_smi_codes_read_after_the_delay() -> None:
    t = CAL.time(dt.date(2025, 3, 7))  # a Friday
    outcome = SmiInstallCodes(delay_wd=1).request(Chain(0, 1), t, True, market(), CLOCK, draws())
    assert outcome.success and CAL.date_at(outcome.resolved) == dt.date(2025, 3, 10)
    assert not SmiInstallCodes(coverage=0.0).request(Chain(0, 1), t, True, market(), CLOCK, draws()).success


def test_reply_capacity_serves_one_request_a_working_day() -> None:
    """Capacity 1 a working day, 15 requests at once, instant replies: reply k on WD k."""
    start = CAL.time(dt.date(2025, 3, 3)) + 3600  # a Monday
    policy = Email(sla_wd=30, reply_probability=1.0, reply_mean_wd=0.0)
    shared = market(2, reply_per_wd=1.0)
    outcomes = [policy.request(Chain(0, 1), start, True, shared, CLOCK, draws(k)) for k in range(15)]
    for k, outcome in enumerate(outcomes):
        assert outcome.success
        assert CAL.date_at(outcome.resolved) == CAL.add_working_days(dt.date(2025, 3, 3), k)
    assert policy.request(Chain(0, 1), start, True, market(2, 1.0), CLOCK, draws()).resolved == start


def test_fractional_capacity_averages_out() -> None:
    """0.25 replies a working day: 8 requests take 32 working days."""
    policy = Email(sla_wd=250, reply_probability=1.0, reply_mean_wd=0.0)
    shared = market(2, reply_per_wd=0.25)
    start = CAL.time(dt.date(2025, 3, 3))
    last = max(policy.request(Chain(0, 1), start, True, shared, CLOCK, draws(k)).resolved for k in range(8))
    assert 28 <= CAL.working_days_between(dt.date(2025, 3, 3), CAL.date_at(last)) <= 32


def test_labels_show_the_sla_that_ran() -> None:
    assert make_policy("email-5wd", sla_wd=30).label() == "email-30wd"
    assert make_policy("ssi-5wd").label() == "ssi-5wd" and make_policy("none").label() == "none"


def test_a_tracked_incident_still_brings_a_late_code_an_email_does_not() -> None:
    """The installer replies on WD 100; the requester stops waiting on WD 60. The SSI
    incident stays open until its creator closes it (DCC preliminary assessment §3.2.4, §4),
    so the code still comes on WD 100; an untracked email reply is not matched any more."""
    start = CAL.time(dt.date(2025, 3, 3)) + 3600  # a Monday
    rules = dict(reply_probability=1.0, reply_wd=100, give_up_wd=60, p_escalated=0.0)
    ssi = SsiIncident(**rules).request(Chain(0, 1), start, False, market(), CLOCK, draws())
    email = Email(**rules).request(Chain(0, 1), start, False, market(), CLOCK, draws())
    for outcome in (ssi, email):
        assert not outcome.success
        assert CAL.date_at(outcome.resolved) == CAL.add_working_days(dt.date(2025, 3, 3), 60)
    assert CAL.date_at(ssi.late) == CAL.add_working_days(dt.date(2025, 3, 3), 100)
    assert ssi.steps[-1].what == "install code added to the open incident"
    assert email.late == float("inf")
