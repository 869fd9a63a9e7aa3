"""The population kernel's calendar queue pops in exactly the order of one binary heap.

The reference is Python's ``heapq`` on (due time, meter, version) with the kernel's rule
for stale entries (a meter's earlier entries die when it is pushed again or rescheduled
from outside). Random sequences of pushes, reschedules and pops, with ties in due time,
day boundaries, due times in the past and past the last bucket, and the queue growing
from its smallest size, must give the same pops.
"""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.population import calendar_queue as cq
from sim.population import kernel

DAYS = 6  # buckets 0..6; due times up to day 9 share the last
METERS = 12
DAY = cq.DAY

# Few distinct times within a day, so that ties (one due time, several meters) are common.
_due = st.builds(lambda day, part: day * DAY + part, st.integers(-2, DAYS + 3),
                 st.sampled_from([0.0, 1.0, 0.5 * DAY, DAY - 1e-6, 3600.0])) | st.floats(-DAY, (DAYS + 3) * DAY)
_op = (st.tuples(st.just("push"), st.integers(0, METERS - 1), _due)
       | st.tuples(st.just("stale"), st.integers(0, METERS - 1), st.just(0.0))
       | st.tuples(st.just("pop"), st.just(0), st.just(0.0)))


class _Reference:
    """heapq over (due, meter, version); an entry is live while its version is the meter's."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, int]] = []
        self.version = [0] * METERS

    def push(self, i: int, due: float) -> None:
        self.version[i] += 1
        heapq.heappush(self.heap, (due, i, self.version[i]))

    def stale(self, i: int) -> None:
        self.version[i] += 1

    def pop(self) -> tuple[float, int] | None:
        while self.heap:
            due, i, version = heapq.heappop(self.heap)
            if version == self.version[i]:
                return due, i
        return None


def _pop(queue: tuple[np.ndarray, ...], meters: np.ndarray) -> tuple[float, int] | None:
    i = int(cq.top(queue, meters))
    if i < 0:
        return None
    due = float(queue[0][0])
    cq.pop(queue)
    return due, i


@settings(max_examples=300, deadline=None)
@given(st.lists(_op, max_size=160))
def test_pops_in_the_order_of_one_heap(ops: list[tuple[str, int, float]]) -> None:
    queue = cq.new(DAYS, 1)
    meters = np.zeros(METERS, kernel.METER)
    reference = _Reference()
    for op, i, due in ops:
        if op == "push":
            if cq.short(queue, 1):
                queue = cq.room(queue, 1)
            cq.push(queue, meters, i, due)
            reference.push(i, due)
        elif op == "stale":  # rescheduled from outside (a dual-fuel partner): no new entry
            meters[i]["heap"] += 1
            reference.stale(i)
        else:
            assert _pop(queue, meters) == reference.pop()
    while (expected := reference.pop()) is not None:  # drain both: the rest in order too
        assert _pop(queue, meters) == expected
    assert _pop(queue, meters) is None


def test_a_whole_bucket_fits_the_heap_after_growth() -> None:
    """Many entries on one later day, pushed through growth, all come back in order."""
    queue = cq.new(DAYS, 1)
    meters = np.zeros(2000, kernel.METER)
    rng = np.random.default_rng(3)
    dues = 3 * DAY + rng.integers(0, 50, meters.size) * 60.0  # many ties within day 3
    for i, due in enumerate(dues):
        if cq.short(queue, 1):
            queue = cq.room(queue, 1)
        cq.push(queue, meters, i, due)
    popped = [_pop(queue, meters) for _ in range(meters.size)]
    assert popped == sorted((float(d), i) for i, d in enumerate(dues))
    assert _pop(queue, meters) is None


_near_midnight = st.builds(lambda day, steps: float(np.nextafter(day * DAY, np.inf if steps > 0 else -np.inf))
                           if steps else day * DAY, st.integers(-4000, 40_000), st.integers(-1, 1))


@settings(max_examples=2000, deadline=None)
@given(_near_midnight | st.floats(-1e10, 1e10))
def test_day_of_is_python_floor_division(t: float) -> None:
    """The kernel's day of a time is exactly Python's ``int(t // DAY)``, a whole day's last
    representable instant included (where the rounded quotient is already the next day)."""
    assert cq.day_of(t) == int(t // DAY)
