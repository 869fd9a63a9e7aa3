"""Working-day arithmetic on the simulation clock, O(1) per call.

SLAs, CoS lead times and visit lead times are counted in working days, but the clock
is in seconds and population runs ask millions of times. :class:`WorkClock` tabulates
:meth:`WorkingDayCalendar.add_working_days_index` once per distinct offset and then
answers scalar questions with a list look-up, keeping the time of day.
"""

from __future__ import annotations

from math import log

import numpy as np

from sim.calendar import DAY, WorkingDayCalendar


class WorkClock:
    """``later(t, n)``: the same time of day ``n`` working days after clock time ``t``."""

    def __init__(self, calendar: WorkingDayCalendar) -> None:
        self.calendar = calendar
        self._days = np.arange(calendar.days - 60)  # margin so the look-ups stay inside
        self._tables: dict[int, list[int]] = {}
        rolled = self._table(0)
        working = np.asarray(rolled) == self._days
        self._number: list[int] = np.cumsum(working).tolist()  # working days up to and incl. day
        self._is_working: list[bool] = working.tolist()

    def _table(self, n: int) -> list[int]:
        table = self._tables.get(n)
        if table is None:
            if n == 0:
                table = self.calendar.add_working_days_index(self._days, 0).tolist()
            else:
                # Past the calendar's last working day: a day beyond the horizon (never reached).
                inside = np.asarray(self._number) + n <= self._number[-1]
                result = np.full(len(self._days), len(self._days) + 2 * n + 7)
                result[inside] = self.calendar.add_working_days_index(self._days[inside], n)
                table = result.tolist()
            self._tables[n] = table
        return table

    def working_days(self, days: int) -> np.ndarray:
        """Boolean mask: is day index 0..days-1 a working day?"""
        return np.asarray(self._is_working[:days], bool)

    @property
    def horizon(self) -> float:
        """Latest clock time the tables cover."""
        return float(len(self._days) - 1) * DAY

    def later(self, t: float, n: int) -> float:
        """``n`` working days after ``t`` (n = 0: ``t`` itself if a working day, else the next)."""
        day = int(t // DAY)
        if n == 0 and self._is_working[day]:
            return t
        target = self._table(n)[day]
        return t + (target - day) * DAY

    def number(self, t: float) -> int:
        """Working days from the epoch up to and including ``t``'s day."""
        return self._number[int(t // DAY)]

    def is_working(self, t: float) -> bool:
        return self._is_working[int(t // DAY)]

    def next_batch(self, t: float, every: int) -> float:
        """When a request made at ``t`` goes out if requests are batched every ``every`` WD."""
        if every <= 1:
            return self.later(t, 0)
        day = int(t // DAY)
        number = self._number[day]
        first = number if self._is_working[day] else number + 1
        send = -(-first // every) * every
        return self.later(t, send - number) if send > number else t


class Draws:
    """Scalar random draws served from numpy blocks: one numpy call per 65,536 draws.

    Scalar ``Generator`` calls cost about a microsecond each; population runs make
    millions, so they are drawn in blocks from the replication's own stream.
    """

    BLOCK = 1 << 16

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._block: list[float] = []

    def uniform(self) -> float:
        if not self._block:
            self._block = self.rng.random(self.BLOCK).tolist()
        return self._block.pop()

    def exponential(self, mean: float) -> float:
        return -mean * log(1.0 - self.uniform())

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in ``low..high`` inclusive."""
        return low + int(self.uniform() * (high - low + 1))


class MeterDraws(Draws):
    """One meter's own random stream: draw n of the stream keyed ``key`` (SplitMix64).

    Regimes compared with common random numbers differ in what they draw for a meter;
    with one shared stream every later meter would then see other numbers. A stream per
    meter (and per purpose) keeps each meter's draws its own, whatever the others do.
    """

    __slots__ = ("key", "n")
    _MASK = (1 << 64) - 1

    def __init__(self, key: int) -> None:  # no numpy generator: draws are computed
        self.key = key & self._MASK
        self.n = 0

    def uniform(self) -> float:
        self.n += 1
        z = (self.key + self.n * 0x9E3779B97F4A7C15) & self._MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self._MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self._MASK
        return ((z ^ (z >> 31)) >> 11) * 2.0 ** -53
