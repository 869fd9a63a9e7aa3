"""Working days against the bank holidays published for England and Wales."""

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.calendar import DAY, WorkingDayCalendar

D = dt.date
CAL = WorkingDayCalendar(D(2022, 1, 1), years=6)

# As published on GOV.UK for England and Wales.
PUBLISHED = {
    2022: [D(2022, 1, 3), D(2022, 4, 15), D(2022, 4, 18), D(2022, 5, 2), D(2022, 6, 2),
           D(2022, 6, 3), D(2022, 8, 29), D(2022, 9, 19), D(2022, 12, 26), D(2022, 12, 27)],
    2023: [D(2023, 1, 2), D(2023, 4, 7), D(2023, 4, 10), D(2023, 5, 1), D(2023, 5, 8),
           D(2023, 5, 29), D(2023, 8, 28), D(2023, 12, 25), D(2023, 12, 26)],
    2026: [D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25),
           D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28)],
}


def test_weekday_bank_holidays_match_published_dates() -> None:
    for year, published in PUBLISHED.items():
        days = [D(year, 1, 1) + dt.timedelta(n) for n in range(365)]
        off = [d for d in days if d.weekday() < 5 and not CAL.is_working_day(d)]
        assert off == published, year


def test_adding_working_days_skips_easter_and_christmas() -> None:
    assert CAL.add_working_days(D(2026, 4, 2), 1) == D(2026, 4, 7)
    assert CAL.add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 29)
    assert CAL.add_working_days(D(2026, 12, 24), 10) == D(2027, 1, 12)  # 1 Jan off
    assert CAL.add_working_days(D(2026, 12, 26), 0) == D(2026, 12, 29)


@given(start=st.integers(0, 365 * 4), n=st.integers(0, 300))
def test_add_then_count_round_trips(start: int, n: int) -> None:
    day = CAL.date(start)
    later = CAL.add_working_days(day, n)
    assert CAL.is_working_day(later)
    if n:
        assert CAL.working_days_between(day, later) == n
    vector = CAL.add_working_days_index(np.array([start, start]), np.array([n, n]))
    assert [CAL.date(i) for i in vector] == [later, later]


def test_clock_conversion() -> None:
    assert CAL.time(D(2022, 1, 2)) == DAY
    assert CAL.date_at(DAY * 1.5) == D(2022, 1, 2)
