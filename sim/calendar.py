"""Working days in England and Wales: what every SLA, lead time and replay step counts in.

The simulation clock (one SimPy ``Environment``) runs in seconds from an epoch date at
00:00; this calendar converts between that clock, dates and working days. Bank holidays
come from the ``holidays`` package (GB, England). Look-ups are O(1) and vectorised with
numpy so that population runs can add working days to a million sites at once.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import holidays
import numpy as np

#: Seconds in a day: the simulation clock's unit is the second.
DAY = 86_400.0


class WorkingDayCalendar:
    """Working days (Monday to Friday, not an England and Wales bank holiday) from ``epoch``."""

    def __init__(self, epoch: dt.date, years: int = 40, subdivision: str = "ENG") -> None:
        self.epoch = epoch
        self.days = (dt.date(epoch.year + years, 12, 31) - epoch).days + 1
        self.subdivision = subdivision

    @cached_property
    def _bank_holidays(self) -> holidays.HolidayBase:
        years = range(self.epoch.year, self.epoch.year + self.days // 365 + 2)
        return holidays.country_holidays("GB", subdiv=self.subdivision, years=years)

    @cached_property
    def _is_working(self) -> np.ndarray:
        dates = np.arange(self.days)
        weekday = (self.epoch.weekday() + dates) % 7
        working = weekday < 5
        for day in self._bank_holidays:
            index = (day - self.epoch).days
            if 0 <= index < self.days:
                working[index] = False
        return working

    @cached_property
    def _working_before(self) -> np.ndarray:
        """_working_before[i]: working days strictly before day index i."""
        return np.concatenate(([0], np.cumsum(self._is_working)))

    @cached_property
    def _working_index(self) -> np.ndarray:
        """Day index of the k-th working day (k from 0)."""
        return np.flatnonzero(self._is_working)

    # -- dates ----------------------------------------------------------------------------
    def index(self, day: dt.date) -> int:
        i = (day - self.epoch).days
        if not 0 <= i < self.days:
            raise ValueError(f"{day} is outside the calendar ({self.epoch} + {self.days} days)")
        return i

    def date(self, index: int) -> dt.date:
        return self.epoch + dt.timedelta(days=int(index))

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self._is_working[self.index(day)])

    def bank_holiday(self, day: dt.date) -> str | None:
        """The bank holiday's name, or None."""
        return self._bank_holidays.get(day)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n >= 1); n = 0 gives ``day`` rolled forward."""
        return self.date(int(self.add_working_days_index(np.asarray(self.index(day)), n)))

    def add_working_days_index(self, index: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """Vectorised :meth:`add_working_days` on day indices."""
        if np.any(np.asarray(n) < 0):
            raise ValueError("working days to add must be >= 0")
        index = np.asarray(index)
        base = self._working_before[index + 1]  # working days up to and including the day
        rolled = np.where(np.asarray(n) == 0, self._working_before[index], base + np.asarray(n) - 1)
        return self._working_index[rolled]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        if end <= start:
            return 0
        return int(self._working_before[self.index(end) + 1] - self._working_before[self.index(start) + 1])

    def working_day_number(self, day: dt.date) -> int:
        """Working day N of the run: the epoch's first working day is day 1."""
        return int(self._working_before[self.index(day) + 1])

    # -- the simulation clock -------------------------------------------------------------
    def time(self, day: dt.date) -> float:
        """Clock time (seconds) at 00:00 on ``day``."""
        return self.index(day) * DAY

    def date_at(self, time: float) -> dt.date:
        return self.date(int(time // DAY))
