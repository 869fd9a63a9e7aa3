"""The kernel's per-meter arrays, written from the sampled premises and read at the end.

:mod:`sim.population.fast` samples premises with the SimPy model's own code
(:meth:`~sim.population.model.PopulationModel.premises_draws`); these compiled passes turn
them into the kernel's rows (:data:`sim.population.kernel.METER` and the cold columns) in
one pass each, rather than a numpy pass and a temporary array per field: at GB scale the
temporaries cost more than the arithmetic. Each pass does exactly the arithmetic of the
vectorised code it replaced, in the same order, so the results are the same bits.

Rows of one clock: premises j's first meter (the ESME; the GSME of an IGT new build) is
row ``start + j``; premises with a second meter (dual fuel's GSME, or the IGT's ESME when
it comes before the clock's end) have it after all first meters, in premises order. The
history's meters are written from row 0; once it has run, :func:`compact` moves its
open meters to the first rows and the run's are written after them, in the rows of the
history's commissioned meters (:meth:`sim.population.fast._Meters.settle`): a GB run
touches 683,000 rows rather than 999,000.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.population.kernel import COMMISSIONED, DAY, HOLDS, INF


@njit(cache=True)
def premises_kept(igt, dual, meters):
    """Premises started below ``meters`` meters (each IGT or dual-fuel premises counts two)."""
    count = 0
    for j in range(igt.size):
        if count >= meters:
            return j
        count += 2 if igt[j] or dual[j] else 1
    return igt.size


@njit(cache=True)
def seconds(installed, igt, dual, esme_lag, end):
    """Premises with a second meter on this clock."""
    n = 0
    for j in range(installed.size):
        if dual[j] or (igt[j] and installed[j] + esme_lag[j] < end):
            n += 1
    return n


#: Buckets of :func:`pick_round`'s guide table (a power of two, so ``u * GUIDE`` and
#: ``b / GUIDE`` are exact).
GUIDE = 64


@njit(cache=True)
def pick_round(cumulative, u, other_than, todo, picked):
    """One round of :meth:`sim.suppliers.Market.pick` for premises ``todo``, with uniforms
    ``u`` (one each, in order): ``picked`` filled where the supplier differs from
    ``other_than`` (empty: any will do); the premises left to draw again.

    The supplier is the first share past u (numpy's searchsorted "right"), at most the
    last. A guide table finds it in a step or two where a binary search took five
    unpredictable branches: ``guide[b]`` is the first share past ``b / GUIDE``, never
    past the answer for any u in bucket b, and a scan up from it stops at the answer."""
    last = cumulative.size - 1
    guide = np.empty(GUIDE, np.int64)
    s = 0
    for b in range(GUIDE):
        while s < last and cumulative[s] <= b / GUIDE:
            s += 1
        guide[b] = s
    again = np.empty(todo.size, np.int64)
    n = 0
    for j in range(todo.size):
        i = todo[j]
        s = guide[int(u[j] * GUIDE)]
        while s < last and cumulative[s] <= u[j]:
            s += 1
        if other_than.size == 0 or s != other_than[i] or last == 0:
            picked[i] = s
        else:
            again[n] = i
            n += 1
    return again[:n]


@njit(cache=True)
def _row(M, installed_out, gained, late, chain, holders, i, at, wan_at, installer, partner, key):
    """Row ``i``: installed at ``at``, not yet installed in the kernel's eyes, holding its
    installer's code, waiting for its WAN."""
    m = M[i]
    m.wan_at = wan_at
    m.entered = INF
    m.cos_at = INF
    m.action_at = INF
    m.key = np.uint64(key)
    m.partner = partner
    m.drawn = 0
    m.policy_drawn = 0
    m.heap = 0
    m.attempts = 0
    m.state = 0
    m.chain_len = 1
    m.hold_len = 1
    m.flags = HOLDS
    installed_out[i] = at
    gained[i] = -INF
    late[i] = INF  # a failed tracked request's code still to come
    chain[i, 0] = installer
    holders[i, 0] = installer


@njit(cache=True)
def pack(M, installed_out, gained, late, chain, holders, start,
         installed, wan_at, igt, dual, split, esme_lag, keys, first, other, end):
    """Write the rows of one clock's premises from ``start``: each premises' meters with
    their install time, WAN time (an IGT's GSME also waits for the ESME's Comms Hub),
    installer, random-stream key and partner (dual fuel only)."""
    n = installed.size
    second = start + n
    for j in range(n):
        esme_at = installed[j] + esme_lag[j]
        ready = max(wan_at[j], esme_at) if igt[j] else wan_at[j]
        has_second = dual[j] or (igt[j] and esme_at < end)
        partner = second if dual[j] else -1
        _row(M, installed_out, gained, late, chain, holders, start + j, installed[j], ready, first[j], partner,
             keys[j, 0])
        if has_second:
            _row(M, installed_out, gained, late, chain, holders, second, esme_at if igt[j] else installed[j],
                 ready, other[j] if igt[j] or split[j] else first[j], start + j if dual[j] else -1, keys[j, 1])
            second += 1


@njit(cache=True)
def take(a, rows):
    """Rows ``rows`` of the 2-D array ``a`` (numpy's fancy indexing of rows is several times slower)."""
    out = np.empty((rows.size, a.shape[1]), a.dtype)
    for j in range(rows.size):
        out[j] = a[rows[j]]
    return out


@njit(cache=True)
def put(a, rows, saved):
    """Rows ``rows`` of ``a`` set to ``saved`` (what :func:`take` returned)."""
    for j in range(rows.size):
        a[rows[j]] = saved[j]


@njit(cache=True)
def compact(M, installed, cold, rows):
    """Rows ``rows`` (ascending) moved to rows 0 to ``rows.size - 1``, in order, their
    partners renumbered: the history's survivors before the run's meters, whose rows
    follow them. Order is kept, so ties in the event queue (broken by row) fall as
    before. A survivor's partner is a survivor (commissioning unlinks both), so it has a
    new row too; and each row moves down, never onto a survivor not yet moved."""
    for j in range(rows.size):
        i = rows[j]
        if i != j:
            M[j] = M[i]
            installed[j] = installed[i]
            cold[j] = cold[i]
        p = M[j].partner
        if p >= 0:
            M[j].partner = np.searchsorted(rows, p)


@njit(cache=True)
def shift(M, installed, gained, late, rows, by):
    """Rows ``rows``' clock times moved by ``by`` seconds (onto another clock)."""
    for i in rows:
        m = M[i]
        m.wan_at += by
        m.entered += by
        m.cos_at += by
        m.action_at += by
        installed[i] += by
        gained[i] += by
        late[i] += by


@njit(cache=True)
def close_open(M, installed, survivors, first_new, acc, days):
    """The meters open at the end (the survivors', then the run's, in row order): each one's
    interval in its state, entered and never left, into ``acc`` as the kernel records closed
    ones; their install times, in that order."""
    n_open = 0
    for i in survivors:
        if M[i].state != COMMISSIONED:
            n_open += 1
    for i in range(first_new, M.size):
        if M[i].state != COMMISSIONED:
            n_open += 1
    out = np.empty(n_open)
    j = 0
    for part in range(2):
        rows = survivors if part == 0 else np.arange(first_new, M.size)
        for i in rows:
            m = M[i]
            if m.state == COMMISSIONED:
                continue
            e = max(m.entered, 0.0)
            x = e / DAY
            if x <= days:  # ceil(x) <= days
                day = int(math.ceil(x))
                acc[0, m.state, day] += 1.0
                acc[1, m.state, day] += e
            out[j] = installed[i]
            j += 1
    return out


__all__ = ["close_open", "compact", "pack", "pick_round", "premises_kept", "put", "seconds", "shift", "take"]
