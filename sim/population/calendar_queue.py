"""The population kernel's event queue: a calendar queue with exact (due time, tag) order.

A binary heap of every live meter (150k to 500k entries at GB scale) costs some 18 levels a
pop and a push, most of them cache misses, and grows with the population. But nearly all
of a meter's events are due days to years ahead, and the kernel only ever needs today's.
So entries due after the current day wait in one bucket a day (a singly-linked list
through a pool of entries, recycled through a free list); a small binary heap holds
every entry due on or before the current day, in exact (due, tag) order. When that heap
runs dry the current day advances to the next non-empty bucket, whose entries are moved
into the heap (stale ones dropped) and heapified in place.

Invariant: every bucket entry's day (``int(due // DAY)``) is after the current day, and
every heap entry's is on or before it. So the heap's root is the earliest entry of all,
and entries pop in exactly the (due, tag) order a single heap gives: results stay the
same bit for bit. ``tests/test_calendar_queue.py`` holds the pop order to Python's
``heapq``.

An entry's tag is its meter (high 32 bits) and the meter's ``heap`` version when pushed
(low 32 bits). Pushing bumps the version; so does rescheduling a meter from outside
(:func:`sim.population.kernel._advance`, a dual-fuel partner). An entry whose version is
no longer its meter's is stale: dropped when its bucket is moved or when it surfaces, as
the SimPy model's stale events are. ``meters`` is any record array with an int32
``heap`` field (the kernel's ``METER``).

The queue is a tuple of arrays (numba passes tuples of arrays without boxing):
``(hkey, htag, pool, pdue, head, state)``: the heap's due times and tags; the pool, one
row of 4 words an entry (its due time's bits, tag, link to the next entry of its day,
and padding), so that an entry is one cache line, not three; ``pdue``, the pool's due
times (column 0 of ``pool`` seen as floats); each day's first pool entry (-1: empty);
and ``state`` (:data:`SIZE`, :data:`DAY`, :data:`FREE`, :data:`TOP`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

DAY = 86400.0

#: Columns of a pool entry (``pool``; its due time is ``pdue[e, DUE]``).
DUE, TAG, NEXT = range(3)
_WIDTH = 4  # words a pool entry: 32 bytes, so no entry straddles two cache lines

#: Slots of the queue's ``state`` array: heap size, current day, first free pool entry
#: (-1: none), pool entries ever used.
SIZE, DAY_NOW, FREE, TOP = range(4)

_LOW = np.int64(0xFFFFFFFF)

# As in the kernel: helpers allocate nothing, so they run without reference counting.
_jit: Any = njit
_helper = _jit(cache=True, _nrt=False)
_leaf = _jit(cache=True, inline="always", _nrt=False)


@njit(cache=True)
def new(days: int, capacity: int) -> tuple[Any, ...]:
    """An empty queue with a bucket for each of days 0 to ``days`` (entries due later share
    the last: the kernel pushes none), current day 0, room for ``capacity`` entries."""
    capacity = max(capacity, 16)
    state = np.zeros(4, np.int64)
    state[FREE] = -1
    pool = np.empty((capacity, _WIDTH), np.int64)
    return (np.empty(capacity), np.empty(capacity, np.int64), pool, pool.view(np.float64),
            np.full(max(days, 0) + 1, -1, np.int64), state)


@njit(cache=True)
def _grown(a, n):
    b = np.empty((n,) + a.shape[1:], a.dtype)
    b[:a.shape[0]] = a
    return b


@njit(cache=True)
def room(queue: tuple[Any, ...], extra: int) -> tuple[Any, ...]:
    """The queue with room for ``extra`` more pushes (arrays doubled when short). The heap
    is never smaller than the pool, so a whole bucket always fits into it."""
    hkey, htag, pool, pdue, head, state = queue
    if state[TOP] + extra > pool.shape[0]:  # free entries are used first: TOP is an upper bound
        pool = _grown(pool, pool.shape[0] * 2 + extra)
        pdue = pool.view(np.float64)
    if state[SIZE] + extra > hkey.size or pool.shape[0] > hkey.size:
        n = max(hkey.size * 2 + extra, pool.shape[0])
        hkey, htag = _grown(hkey, n), _grown(htag, n)
    return (hkey, htag, pool, pdue, head, state)


@_helper
def short(queue, extra):
    """Whether :func:`room` must grow the queue before ``extra`` more pushes (a call
    without reference counting, unlike :func:`room`)."""
    return queue[5][TOP] + extra > queue[2].shape[0] or queue[5][SIZE] + extra > queue[0].size


@_leaf
def day_of(t):
    """``int(t // DAY)``, exactly, without the libm ``fmod`` call numba makes for a float's
    floor division: the rounded quotient is never below the true one's floor (rounding is
    monotone and whole days are exact), and one above it only just under a whole day,
    where ``d * DAY`` (exact) tells."""
    d = math.floor(t / DAY)
    return d - 1 if d * DAY > t else d


@_leaf
def _before(key, tag, hkey, htag, j):
    return key < hkey[j] or (key == hkey[j] and tag < htag[j])


@_helper
def _sift_up(hkey, htag, pos, key, tag):
    while pos > 0:
        parent = (pos - 1) >> 1
        if not _before(key, tag, hkey, htag, parent):
            break
        hkey[pos], htag[pos] = hkey[parent], htag[parent]
        pos = parent
    hkey[pos], htag[pos] = key, tag


@_helper
def _sift_down(hkey, htag, pos, size, key, tag):
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and _before(hkey[child + 1], htag[child + 1], hkey, htag, child):
            child += 1
        if _before(key, tag, hkey, htag, child):
            break
        hkey[pos], htag[pos] = hkey[child], htag[child]
        pos = child
    hkey[pos], htag[pos] = key, tag


@_helper
def push(queue, meters, i, due):
    """Meter ``i`` due at ``due``: a new entry, and every earlier one of the meter stale.
    The caller has made :func:`room`."""
    hkey, htag, pool, pdue, head, state = queue
    meters[i].heap += 1
    tag = (np.int64(i) << 32) | (np.int64(meters[i].heap) & _LOW)
    day = min(day_of(due), head.size - 1)  # due times are finite
    if day <= state[DAY_NOW]:
        size = state[SIZE]
        state[SIZE] = size + 1
        _sift_up(hkey, htag, size, due, tag)
        return
    e = state[FREE]
    if e >= 0:
        state[FREE] = pool[e, NEXT]
    else:
        e = state[TOP]
        state[TOP] = e + 1
    pdue[e, DUE], pool[e, TAG], pool[e, NEXT] = due, tag, head[day]
    head[day] = e


@_leaf
def pop(queue):
    """Drop the root entry (the one :func:`top` returned)."""
    hkey, htag, state = queue[0], queue[1], queue[5]
    size = state[SIZE] - 1
    state[SIZE] = size
    if size > 0:
        _sift_down(hkey, htag, 0, size, hkey[size], htag[size])


@_leaf
def _live(meters, tag):
    return (tag & _LOW) == (np.int64(meters[tag >> 32].heap) & _LOW)


@_helper
def _next_day(queue, meters):
    """Advance the current day to the next non-empty bucket and heapify its live entries
    (the heap is empty). False when no bucket is left."""
    hkey, htag, pool, pdue, head, state = queue
    d = state[DAY_NOW] + 1
    while d < head.size and head[d] < 0:
        d += 1
    if d >= head.size:
        state[DAY_NOW] = head.size
        return False
    state[DAY_NOW] = d
    e = head[d]
    head[d] = -1
    n = 0
    free = state[FREE]
    while e >= 0:
        following, tag = pool[e, NEXT], pool[e, TAG]
        if _live(meters, tag):
            hkey[n], htag[n] = pdue[e, DUE], tag
            n += 1
        pool[e, NEXT] = free
        free = e
        e = following
    state[FREE] = free
    state[SIZE] = n
    for pos in range(n // 2 - 1, -1, -1):  # Floyd's heapify: linear in the bucket
        _sift_down(hkey, htag, pos, n, hkey[pos], htag[pos])
    return True


@_leaf
def top(queue, meters):
    """The meter of the earliest live entry (stale ones dropped on the way), its due time
    at ``queue[0][0]``; -1 when the queue is empty."""
    htag, state = queue[1], queue[5]
    while True:
        while state[SIZE] > 0:
            if _live(meters, htag[0]):
                return htag[0] >> 32
            pop(queue)
        if not _next_day(queue, meters):
            return np.int64(-1)
