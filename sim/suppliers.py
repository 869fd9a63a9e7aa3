"""Suppliers as parties: market shares, install-code reply capacity, field capacity, habits.

MP121's answer depends on who is asked and how much they can do: the seeds say the email
route "was highly dependent on the willingness of the installing Supplier to respond", one
supplier saw 45% of its gains uncommissioned, and MP281 (a later proposal) says the email
route cannot cope with more than about 7,000 devices a year for one supplier. So each
supplier is a party with its own share, reply capacity, chance of replying, habit of
forwarding a code it once received, and field capacity for replacement visits.

Capacities are GB figures per working day; :meth:`Market.for_run` scales them to a
run's modelled meters and gives each run fresh booking books (so replications share
nothing). A booking takes the first working day at or after the asked one with a free
slot: day n has floor((n + 1) c) - floor(n c) slots, c a day on average (c may be < 1).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sim.policies import ParameterError, check_int, check_range
from sim.worktime import Draws


@dataclass(frozen=True)
class SupplierClass:
    """``count`` suppliers alike: each with ``share`` of the market and these habits.

    ``reply_per_wd``: install-code replies a working day, GB (0: unlimited).
    ``p_reply``: chance it replies to a request at all before any escalation.
    ``forwards``: passes on a code it received from an earlier supplier (else it answers
    "we did not install it" like any other non-installer).
    ``field_per_wd``: replacement visits a working day for meters it gained without a code.
    """

    name: str
    count: int
    share: float
    reply_per_wd: float
    p_reply: float
    forwards: bool
    field_per_wd: float

    def __post_init__(self) -> None:
        check_int(f"market.{self.name}.count", self.count, 1, 200)
        check_range(f"market.{self.name}.share", self.share, 0.0, 1.0)
        check_range(f"market.{self.name}.reply_per_wd", self.reply_per_wd, 0.0)
        check_range(f"market.{self.name}.p_reply", self.p_reply, 0.0, 1.0)
        if not isinstance(self.forwards, bool):
            raise ParameterError(f"market.{self.name}.forwards = {self.forwards!r} is not true/false")
        check_range(f"market.{self.name}.field_per_wd", self.field_per_wd, 0.0)


def _large() -> SupplierClass:
    # Six large suppliers hold ~84% of GB meters (Ofgem market shares, M); reply capacity
    # 28 a working day = MP281's ~7,000 devices a year for one supplier (M).
    return SupplierClass("large", 6, 0.14, 28.0, 0.9, True, 8.0)


def _small() -> SupplierClass:
    # A tail of small suppliers (~16% together, M); capacity and willingness assumed (L).
    return SupplierClass("small", 16, 0.01, 4.0, 0.7, False, 1.0)


@dataclass(frozen=True)
class MarketSpec:
    """The supplier classes of a run; shares must add up to 1 (within 0.001)."""

    large: SupplierClass = field(default_factory=_large)
    small: SupplierClass = field(default_factory=_small)

    def __post_init__(self) -> None:
        total = sum(c.count * c.share for c in self.classes)
        if abs(total - 1.0) > 1e-3:
            raise ParameterError(f"market shares add up to {total:.4g} (allowed: count x share summed "
                                 "over market.large and market.small = 1)")

    @property
    def classes(self) -> tuple[SupplierClass, ...]:
        return (self.large, self.small)


class Market:
    """The suppliers of one run, numbered 0..n-1, with their booking books.

    ``behaviour[i]`` is supplier i's class; ``scale`` turns GB capacities into the run's.
    """

    def __init__(self, behaviour: list[SupplierClass], scale: float = 1.0) -> None:
        self.behaviour = behaviour
        shares = [c.share for c in self.behaviour]
        total = sum(shares)
        self._cumulative = [sum(shares[:i + 1]) / total for i in range(len(shares))]
        self._reply = [c.reply_per_wd * scale for c in self.behaviour]
        self._field = [c.field_per_wd * scale for c in self.behaviour]
        self._reply_book: list[dict[int, int]] = [{} for _ in self.behaviour]
        self._field_book: list[dict[int, int]] = [{} for _ in self.behaviour]
        self._reply_floor = [0] * len(self.behaviour)  # first day that may still have a slot
        self._field_floor = [0] * len(self.behaviour)

    @classmethod
    def of(cls, spec: MarketSpec, scale: float) -> Market:
        """The GB market of ``spec``, every class expanded to its ``count`` suppliers."""
        return cls([c for c in spec.classes for _ in range(c.count)], scale)

    def __len__(self) -> int:
        return len(self.behaviour)

    def pick(self, draws: Draws, other_than: int = -1) -> int:
        """A supplier drawn by market share (never ``other_than``: a gain is from someone else)."""
        while True:
            s = min(bisect.bisect_right(self._cumulative, draws.uniform()), len(self.behaviour) - 1)
            if s != other_than or len(self.behaviour) == 1:
                return s

    def book_reply(self, supplier: int, day: int) -> int:
        """Working day number on which ``supplier`` replies, asked to reply on ``day``."""
        return _book(self._reply_book[supplier], self._reply, self._reply_floor, supplier, day)

    def book_visit(self, supplier: int, day: int) -> int:
        """Working day number of a replacement visit by ``supplier``, wanted on ``day``."""
        return _book(self._field_book[supplier], self._field, self._field_floor, supplier, day)


def _book(book: dict[int, int], rates: list[float], floors: list[int], supplier: int, day: int) -> int:
    rate = rates[supplier]
    if not rate:
        return day
    day = max(day, floors[supplier])
    while book.get(day, 0) >= math.floor((day + 1) * rate) - math.floor(day * rate):
        day += 1
    taken = book.get(day, 0) + 1
    book[day] = taken
    if day == floors[supplier] and taken >= math.floor((day + 1) * rate) - math.floor(day * rate):
        floors[supplier] = day + 1  # a full first day: later bookings start after it
    return day
