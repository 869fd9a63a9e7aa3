"""The population kernel's event queue: a calendar queue with exact (due time, tag) order.

A binary heap of every live meter (150k to 500k entries at GB scale) costs some 18 levels a
pop and a push, most of them cache misses, and grows with the population. But nearly all
of a meter's events are due days to years ahead, and the kernel only ever needs today's.
So entries due after the current day wait in one bucket a day (a linked list of chunks
of 7 entries each, from a pool of chunks recycled through a free list: moving a bucket
follows one link, one cache miss, every 7 entries rather than every entry); a small
binary heap holds
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
``(hkey, htag, pool, pdue, head, state)``: the heap's due times and tags; the pool, a
row of 16 words a chunk (:data:`NEXT`, :data:`COUNT`, then the entries from
:data:`FIRST`); ``pdue``, the same rows seen as floats, for the due times; each day's
latest chunk (-1: empty), the one its next entry goes to; and ``state`` (:data:`SIZE`,
:data:`DAY_NOW`, :data:`FREE`, :data:`TOP`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

DAY = 86400.0

#: Words of a pool chunk (a row of ``pool``): the next chunk of its day (or of the free
#: list), its entries' count, then :data:`ENTRIES` entries as (due time's bits, tag)
#: pairs: due time ``pdue[c, FIRST + 2 * s]``, tag ``pool[c, FIRST + 2 * s + 1]``.
NEXT, COUNT, FIRST = range(3)
ENTRIES = 7
_WIDTH = FIRST + 2 * ENTRIES  # 16 words, 128 bytes: a day's entries are read 7 at a time

#: Slots of the queue's ``state`` array: heap size, current day, first free chunk (-1:
#: none), chunks ever used.
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
    chunks = capacity // ENTRIES + max(days, 0) + 2  # full chunks, and one part-full a day
    pool = np.empty((chunks, _WIDTH), np.int64)
    return (np.empty(chunks * ENTRIES), np.empty(chunks * ENTRIES, np.int64), pool, pool.view(np.float64),
            np.full(max(days, 0) + 1, -1, np.int64), state)


@njit(cache=True)
def _grown(a, n):
    b = np.empty((n,) + a.shape[1:], a.dtype)
    b[:a.shape[0]] = a
    return b


@njit(cache=True)
def room(queue: tuple[Any, ...], extra: int) -> tuple[Any, ...]:
    """The queue with room for ``extra`` more pushes (arrays doubled when short). The heap
    holds as many entries as the pool's chunks can, so a whole bucket always fits into it."""
    hkey, htag, pool, pdue, head, state = queue
    if state[TOP] + extra > pool.shape[0]:  # a push takes a chunk at most; free ones first
        pool = _grown(pool, pool.shape[0] * 2 + extra)
        pdue = pool.view(np.float64)
    if state[SIZE] + extra > hkey.size or ENTRIES * pool.shape[0] > hkey.size:
        n = max(hkey.size * 2 + extra, ENTRIES * pool.shape[0])
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
    c = head[day]
    if c < 0 or pool[c, COUNT] == ENTRIES:  # the day's first entry, or its chunk is full
        fresh = state[FREE]
        if fresh >= 0:
            state[FREE] = pool[fresh, NEXT]
        else:
            fresh = state[TOP]
            state[TOP] = fresh + 1
        pool[fresh, NEXT], pool[fresh, COUNT] = c, 0
        head[day] = c = fresh
    slot = pool[c, COUNT]
    pdue[c, FIRST + 2 * slot], pool[c, FIRST + 2 * slot + 1] = due, tag
    pool[c, COUNT] = slot + 1


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
    c = head[d]
    head[d] = -1
    n = 0
    free = state[FREE]
    while c >= 0:
        for slot in range(pool[c, COUNT]):
            tag = pool[c, FIRST + 2 * slot + 1]
            if _live(meters, tag):
                hkey[n], htag[n] = pdue[c, FIRST + 2 * slot], tag
                n += 1
        following = pool[c, NEXT]
        pool[c, NEXT] = free
        free = c
        c = following
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
