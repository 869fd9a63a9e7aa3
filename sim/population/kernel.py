"""The meter lifecycle compiled with numba: the population engine's inner loop.

This is :mod:`sim.lifecycle` (with :mod:`sim.policies`, :mod:`sim.suppliers` and
:mod:`sim.worktime`) over arrays instead of objects, for populations of millions. The
SimPy lifecycle stays the reference: scenario replay runs it, and
``tests/test_engine_crossvalidation.py`` holds this kernel to it, policy by policy, state
by state. Each handler below names the method of :class:`~sim.lifecycle.Lifecycle` it
mirrors; change one, change both (the test fails until both agree).

Layout: meter i's times are row i of ``F`` (float64, columns ``F_*``), its flags and
counters row i of ``N`` (int32, columns ``I_*``: half the
cache lines of int64 for the row touched at random per event), its chain of suppliers row i of
``chain`` (installer first, current last) and the suppliers holding its install code
row i of ``holders``. Each meter has its own SplitMix64 streams (``keys``), as
:class:`~sim.worktime.MeterDraws`: draw n of stream k. Live meters wait in an indexed
binary heap keyed by (due time, meter); a partner moved by a dual-fuel switch leaves a
stale entry behind, dropped when it surfaces (as the SimPy model's stale events are).

Backlog counts and meter-days are accumulated per day as intervals close (no interval
list is kept), which is what keeps a GB run's memory near the per-meter state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

DAY = 86400.0
INF = math.inf

# Meter states and event kinds: the numbers of sim.lifecycle.State and sim.lifecycle.Event
# (fast.py checks they match at import).
# States are numpy integers, not Python ints: numba types a Python int constant as a literal and
# compiled ``_enter`` (and all it calls) once per state.
WAITING_FOR_WAN, ORPHANED, WAITING_FOR_CODE, AWAITING_VISIT, STRANDED, COMMISSIONING, COMMISSIONED = (
    np.int64(s) for s in range(7))
N_BACKLOG_STATES = 6
EV_WAN, EV_COS, EV_CODE, EV_DONE, EV_VISIT = range(5)

# Policy kinds (sim.population.fast.policy_vector packs a Policy into P).
POLICY_NONE, POLICY_ASK, POLICY_SMI = range(3)
(P_KIND, P_SLA, P_REPLY_PROB, P_REPLY_MEAN, P_IDENTIFY, P_BULK, P_PATIENCE, P_GIVE_UP, P_ESCALATED,
 P_ESCALATION_WD, P_ROUTE, P_DELAY, P_COVERAGE, P_REPLY_WD, P_TRACKED, P_SIZE) = range(16)

# Rules (SiteRules, SampledCommissioning and the run) packed into R.
(R_COS_MEAN, R_PAIR_COS_MEAN, R_DUAL, R_LEAD_LOW, R_LEAD_HIGH, R_P_REPLACE, R_VISIT_LEAD, R_P_JOIN,
 R_ATTEMPT_S, R_RETRY_WD, R_OBLIGATION, R_END, R_HORIZON, R_RECORD, R_SIZE) = range(15)

# Per-meter columns.
(F_INSTALLED, F_WAN_AT, F_ENTERED, F_COS_AT, F_CODE_AT, F_COMMISSION_AT, F_VISIT_AT, F_DUE,
 F_GAINED_AT, F_LATE_CODE_AT, F_SIZE) = range(11)
(I_STATE, I_KIND, I_WAN, I_HOLDS, I_COS_AGREED, I_CODE_OK, I_REPLACED, I_ATTEMPTS, I_PARTNER,
 I_CHAIN_LEN, I_HOLD_LEN, I_DRAWN, I_POLICY_DRAWN, I_HEAP, I_SIZE) = range(15)

#: Suppliers remembered per meter. Past this many changes of supplier the oldest
#: non-installing supplier is forgotten (it can no longer be asked); at a CoS hazard of
#: 0.1 a year a meter reaches it after ~15 switches, about never in a run.
CHAIN_WIDTH = 16

# Counters returned in C.
(C_EVENTS, C_DIRECT, C_REPLACED, C_ATTEMPTS, C_REQUESTS, C_ESCALATIONS, C_DONE, C_GAINS, C_REPLACEMENTS,
 C_HEAP, C_SIZE) = range(11)

# Helpers run without numba's reference counting: they allocate nothing, and the atomic
# incref/decref of every array they are handed cost half the loop's time. Only ``run``
# (and the two that grow arrays) keep it. ``_nrt`` is numba's own (untyped) switch.
_jit: Any = njit
_helper = _jit(cache=True, _nrt=False)
_leaf = _jit(cache=True, inline="always", _nrt=False)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


# -- random streams (sim.worktime.MeterDraws) -------------------------------------------------
@_leaf
def _splitmix(key, n):
    z = key + np.uint64(n) * _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return float((z ^ (z >> _S31)) >> _S11) * 2.0 ** -53


@_leaf
def _uniform(N, keys, i):
    N[i, I_DRAWN] += 1
    return _splitmix(keys[i], N[i, I_DRAWN])


@_leaf
def _policy_uniform(N, keys, i):
    N[i, I_POLICY_DRAWN] += 1
    return _splitmix(~keys[i], N[i, I_POLICY_DRAWN])


# -- working days (sim.worktime.WorkClock) ----------------------------------------------------
@_helper
def _later(t, n, clk):
    """``n`` working days after ``t``, same time of day (WorkClock.later)."""
    number, working, wd_day = clk
    day = min(int(t // DAY), number.size - 1)
    if n == 0:
        if working[day]:
            return t
        k = number[day]  # working days up to the day: the next one is wd_day[k]
        target = wd_day[k] if k < wd_day.size else number.size + 7
    else:
        k = number[day] + n
        target = wd_day[k - 1] if k <= number[number.size - 1] else number.size + 2 * n + 7
    return t + (target - day) * DAY


@_leaf
def _number(t, number):
    return number[min(int(t // DAY), number.size - 1)]


@_leaf
def _is_working(t, number, working):
    return working[min(int(t // DAY), number.size - 1)]


@_helper
def _at_working_day(t, k, clk):
    """Clock time of working day ``k`` at ``t``'s time of day, never before ``t``."""
    return _later(t, max(0, k - _number(t, clk[0])), clk)


@_helper
def _next_batch(t, every, clk):
    if every <= 1:
        return _later(t, 0, clk)
    number, working = clk[0], clk[1]
    day = min(int(t // DAY), number.size - 1)
    k = number[day]
    first = k if working[day] else k + 1
    send = -(-first // every) * every
    return _later(t, send - k, clk) if send > k else t


# -- suppliers (sim.suppliers.Market) ---------------------------------------------------------
@_helper
def _book(book, floors, rates, s, day):
    """First working day at or after ``day`` with a free slot for supplier ``s``."""
    rate = rates[s]
    if rate == 0.0:
        return day
    day = max(day, floors[s])
    width = book.shape[1]
    while day < width and book[s, day] >= math.floor((day + 1) * rate) - math.floor(day * rate):
        day += 1
    if day >= width:
        return day  # beyond the calendar: never reached in the run
    book[s, day] += 1
    if day == floors[s] and book[s, day] >= math.floor((day + 1) * rate) - math.floor(day * rate):
        floors[s] = day + 1
    return day


@_helper
def _pick(N, keys, i, cumulative, other_than):
    n = cumulative.size
    while True:
        u = _uniform(N, keys, i)
        s = min(np.searchsorted(cumulative, u, side="right"), n - 1)
        if s != other_than or n == 1:
            return s


# -- the queue of live meters ----------------------------------------------------------------
# A binary heap of (due time, meter, version) in three arrays of its own, so that sifting
# reads contiguous memory rather than meters' rows. A meter's entry is live while its
# version equals the meter's I_HEAP; rescheduling bumps that, leaving the old entry stale
# (dropped when it surfaces), as the SimPy model's stale events are.
@_leaf
def _before(key, meter, hkey, hval, j):
    return key < hkey[j] or (key == hkey[j] and meter < hval[j])


@_helper
def _heap_push(heap, C, N, i, due):
    hkey, hval, hver = heap
    N[i, I_HEAP] += 1
    pos = C[C_HEAP]
    C[C_HEAP] = pos + 1
    while pos > 0:
        parent = (pos - 1) >> 1
        if not _before(due, i, hkey, hval, parent):
            break
        hkey[pos], hval[pos], hver[pos] = hkey[parent], hval[parent], hver[parent]
        pos = parent
    hkey[pos], hval[pos], hver[pos] = due, i, N[i, I_HEAP]


@_helper
def _heap_pop(heap, C):
    """Drop the root entry."""
    hkey, hval, hver = heap
    size = C[C_HEAP] - 1
    C[C_HEAP] = size
    if size == 0:
        return
    key, meter, version = hkey[size], hval[size], hver[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and (hkey[child + 1] < hkey[child]
                                 or (hkey[child + 1] == hkey[child] and hval[child + 1] < hval[child])):
            child += 1
        if _before(key, meter, hkey, hval, child):
            break
        hkey[pos], hval[pos], hver[pos] = hkey[child], hval[child], hver[child]
        pos = child
    hkey[pos], hval[pos], hver[pos] = key, meter, version


@_helper
def _heap_top(heap, C, N):
    """The meter due first (stale entries dropped on the way), or -1."""
    hkey, hval, hver = heap
    while C[C_HEAP] > 0:
        if hver[0] == N[hval[0], I_HEAP]:
            return hval[0]
        _heap_pop(heap, C)
    return -1


@njit(cache=True)
def _heap_room(heap, C, extra):
    """The heap with room for ``extra`` more entries (doubled when short)."""
    hkey, hval, hver = heap
    if C[C_HEAP] + extra <= hkey.size:
        return heap
    n = hkey.size * 2 + extra
    k2, v2, r2 = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)
    k2[:hkey.size], v2[:hkey.size], r2[:hkey.size] = hkey, hval, hver
    return (k2, v2, r2)


# -- recording (sim.population.model._Recorder) -----------------------------------------------
@_helper
def _left(R, acc, state, entered, now):
    """An interval in ``state`` closed: into the per-day counts and meter-day sums."""
    if R[R_RECORD] == 0.0 or now <= 0.0:
        return
    days = acc.shape[2] - 1
    e = max(entered, 0.0)
    k = int(math.ceil(e / DAY))
    if k <= days:
        acc[0, state, k] += 1.0
        acc[1, state, k] += e
    k = int(math.ceil(now / DAY))
    if k <= days:
        acc[2, state, k] += 1.0
        acc[3, state, k] += now


@njit(cache=True)
def _grow(a, n):
    if n < a.size:
        return a
    b = np.empty(a.size * 2 + 16)
    b[:a.size] = a
    return b


@njit(cache=True)
def new_meters(F, N, chain, holders, installed, wan_at, installer, partner):
    """Every meter's row written once, in row order: not yet installed, holding its
    installer's code, waiting for its WAN (one pass, rather than a pass a column)."""
    for i in range(F.shape[0]):
        F[i, :] = INF
        F[i, F_INSTALLED] = installed[i]
        F[i, F_WAN_AT] = wan_at[i]
        F[i, F_GAINED_AT] = -INF
        N[i, :] = 0
        N[i, I_HOLDS] = 1
        N[i, I_PARTNER] = partner[i]
        N[i, I_CHAIN_LEN] = 1
        N[i, I_HOLD_LEN] = 1
        chain[i, :] = 0
        chain[i, 0] = installer[i]
        holders[i, :] = 0
        holders[i, 0] = installer[i]


# -- the lifecycle (sim.lifecycle.Lifecycle) --------------------------------------------------
@_helper
def _enter(F, N, R, acc, C, out, i, state, now):
    """Lifecycle._enter (observer.left, observer.done)."""
    if N[i, I_STATE] != state:
        if now > F[i, F_ENTERED]:
            _left(R, acc, N[i, I_STATE], F[i, F_ENTERED], now)
        N[i, I_STATE] = state
        F[i, F_ENTERED] = now
    if state == COMMISSIONED:
        F[i, F_DUE] = INF
        p = N[i, I_PARTNER]
        if p >= 0:
            N[p, I_PARTNER] = -1
            N[i, I_PARTNER] = -1
        n = C[C_DONE]
        out[0, n] = F[i, F_INSTALLED]
        out[1, n] = now
        C[C_DONE] = n + 1
        if N[i, I_REPLACED]:
            C[C_REPLACED] += 1
            out[2, C[C_REPLACEMENTS]] = now
            C[C_REPLACEMENTS] += 1
        C[C_ATTEMPTS] += N[i, I_ATTEMPTS]


@_helper
def _commission(F, N, R, acc, C, out, keys, i, now, clk):
    """Lifecycle._commission with SampledCommissioning.commission."""
    t, attempts = now, 1
    while _uniform(N, keys, i) >= R[R_P_JOIN]:
        t = _later(t + R[R_ATTEMPT_S], int(R[R_RETRY_WD]), clk)
        attempts += 1
    N[i, I_ATTEMPTS] += attempts
    F[i, F_COMMISSION_AT] = t + R[R_ATTEMPT_S]
    _enter(F, N, R, acc, C, out, i, COMMISSIONING, now)


@_helper
def _book_visit(F, N, R, i, now, clk, chain, mk):
    s = chain[i, N[i, I_CHAIN_LEN] - 1]
    day = _book(mk[3], mk[4], mk[5], s, _number(now, clk[0]) + int(R[R_VISIT_LEAD]))
    F[i, F_VISIT_AT] = _at_working_day(now, day, clk)


@_helper
def _holds(holders, N, i, s):
    for k in range(N[i, I_HOLD_LEN]):
        if holders[i, k] == s:
            return True
    return False


@_helper
def _request(N, P, C, keys, i, now, under_sla, chain, holders, mk, clk, asked):
    """Policy.request: (resolved, success, late); messages and escalations into C."""
    reply_book, reply_floor, reply_rate, forwards, p_reply = mk[0], mk[1], mk[2], mk[7], mk[8]
    kind = int(P[P_KIND])
    if kind == POLICY_NONE:
        return now, False, INF
    if kind == POLICY_SMI:
        delay = int(P[P_DELAY])
        at = _later(now, delay, clk) if delay else now
        return at, _policy_uniform(N, keys, i) < P[P_COVERAGE], INF
    # _AskTheInstaller.request
    length = N[i, I_CHAIN_LEN]
    installer, current = chain[i, 0], chain[i, length - 1]
    n_asked = 0
    t = now
    messages = escalations = 0
    sla, patience_wd = int(P[P_SLA]), int(P[P_PATIENCE])
    while True:
        # _next_party
        found = _policy_uniform(N, keys, i) < P[P_IDENTIFY]
        installer_asked = False
        for k in range(n_asked):
            if asked[k] == installer:
                installer_asked = True
        party = -1
        if not installer_asked and (P[P_ROUTE] != 0.0 or found):
            party = installer
        else:
            for j in range(length - 2, -1, -1):
                s = chain[i, j]
                if s == current:
                    continue
                seen = False
                for k in range(n_asked):
                    if asked[k] == s:
                        seen = True
                if not seen:
                    party = s
                    break
            if party < 0 and not installer_asked and installer != current:
                party = installer
        if party < 0:
            break
        asked[n_asked] = party
        n_asked += 1
        bulk = int(P[P_BULK])
        sent = _next_batch(t, bulk, clk) if bulk else _later(t, 0, clk)
        sent = max(sent, t)
        messages += 1
        holds = _holds(holders, N, i, party) and (party == installer or forwards[party])
        first = _number(sent, clk[0]) + (0 if _is_working(sent, clk[0], clk[1]) else 1)
        probability = p_reply[party] if P[P_REPLY_PROB] < 0 else P[P_REPLY_PROB]
        replies = _policy_uniform(N, keys, i) < probability
        delay = 0
        if P[P_REPLY_MEAN] > 0:
            delay = int(math.ceil(-P[P_REPLY_MEAN] * math.log(1.0 - _policy_uniform(N, keys, i))))
        if P[P_REPLY_WD] >= 0:  # pinned (a scenario's): drawn anyway, so the streams stay aligned
            delay = int(P[P_REPLY_WD])
        reply = _book(reply_book, reply_floor, reply_rate, party, first + delay) if replies else -1
        patience = sla if under_sla else patience_wd
        limit = first + int(P[P_GIVE_UP])
        deadline = min(first + patience, limit)
        while reply < 0 or reply > deadline:
            if deadline >= limit:
                C[C_REQUESTS] += messages
                C[C_ESCALATIONS] += escalations
                # a tracked incident stays open: its code still comes (CodeRequest.late)
                late = _at_working_day(sent, reply, clk) if P[P_TRACKED] != 0.0 and reply >= 0 and holds else INF
                return _at_working_day(sent, deadline, clk), False, late
            messages += 1
            if under_sla:
                escalations += 1
                if _policy_uniform(N, keys, i) < P[P_ESCALATED]:
                    late = deadline + int(P[P_ESCALATION_WD])
                    reply = late if reply < 0 else min(reply, late)
            deadline = min(deadline + patience, limit)
        answered = _at_working_day(sent, reply, clk)
        if holds:
            C[C_REQUESTS] += messages
            C[C_ESCALATIONS] += escalations
            return answered, True, INF
        t = answered
    C[C_REQUESTS] += messages
    C[C_ESCALATIONS] += escalations
    return t, False, INF


@_helper
def _add_holder(N, holders, i, s):
    if _holds(holders, N, i, s):
        return
    n = N[i, I_HOLD_LEN]
    if n == holders.shape[1]:  # full: forget the oldest receiver, keep the installer
        for j in range(1, n - 1):
            holders[i, j] = holders[i, j + 1]
        n -= 1
    holders[i, n] = s
    N[i, I_HOLD_LEN] = n + 1


@_helper
def _code_resolved(S, W, i, now):
    """Lifecycle.code_resolved."""
    F, N, chain, holders, keys = S
    R, P, C, acc, out, mk, clk, _ = W
    F[i, F_CODE_AT] = INF
    if N[i, I_CODE_OK]:
        F[i, F_VISIT_AT] = INF
        N[i, I_HOLDS] = 1
        _add_holder(N, holders, i, chain[i, N[i, I_CHAIN_LEN] - 1])
        if N[i, I_WAN]:
            _commission(F, N, R, acc, C, out, keys, i, now, clk)
        else:
            _enter(F, N, R, acc, C, out, i, WAITING_FOR_WAN, now)
        return
    if _uniform(N, keys, i) < R[R_P_REPLACE]:
        _enter(F, N, R, acc, C, out, i, AWAITING_VISIT, now)
        if N[i, I_WAN]:
            _book_visit(F, N, R, i, now, clk, chain, mk)
    else:
        _enter(F, N, R, acc, C, out, i, STRANDED, now)
    if F[i, F_LATE_CODE_AT] < INF:  # the incident is still open: its code comes later
        F[i, F_CODE_AT] = F[i, F_LATE_CODE_AT]
        N[i, I_CODE_OK] = 1
        F[i, F_LATE_CODE_AT] = INF


@_helper
def _ask(S, W, i, now):
    """Lifecycle._ask."""
    F, N, chain, holders, keys = S
    R, P, C, acc, out, mk, clk, _ = W
    under_sla = F[i, F_GAINED_AT] >= R[R_OBLIGATION]
    resolved, success, late = _request(N, P, C, keys, i, now, under_sla, chain, holders, mk, clk, W[7])
    N[i, I_CODE_OK] = success
    F[i, F_LATE_CODE_AT] = late
    _enter(F, N, R, acc, C, out, i, WAITING_FOR_CODE if N[i, I_WAN] else ORPHANED, now)
    if resolved <= now:
        _code_resolved(S, W, i, now)
    else:
        F[i, F_CODE_AT] = resolved


@_helper
def _switch(S, W, gains, i, now, gainer):
    """Lifecycle._switch (observer.gained)."""
    F, N, chain, holders, keys = S
    R, P, C, acc, out, mk, clk, _ = W
    n = N[i, I_CHAIN_LEN]
    if n == chain.shape[1]:  # full: forget the oldest non-installing supplier
        for j in range(1, n - 1):
            chain[i, j] = chain[i, j + 1]
        n -= 1
    chain[i, n] = gainer
    N[i, I_CHAIN_LEN] = n + 1
    F[i, F_GAINED_AT] = now
    N[i, I_HOLDS] = 0
    F[i, F_COMMISSION_AT] = INF
    F[i, F_VISIT_AT] = INF
    F[i, F_CODE_AT] = INF
    mean = R[R_COS_MEAN] if N[i, I_PARTNER] < 0 else R[R_PAIR_COS_MEAN]
    F[i, F_COS_AT] = INF if mean == INF else now - mean * math.log(1.0 - _uniform(N, keys, i))
    N[i, I_COS_AGREED] = 1
    if R[R_RECORD] != 0.0:
        gains[C[C_GAINS]] = now
        C[C_GAINS] += 1
    if _holds(holders, N, i, gainer):
        N[i, I_HOLDS] = 1
        if N[i, I_WAN]:
            _commission(F, N, R, acc, C, out, keys, i, now, clk)
        else:
            _enter(F, N, R, acc, C, out, i, WAITING_FOR_WAN, now)
        return
    _ask(S, W, i, now)


@_helper
def _next(S, W, i):
    """Lifecycle._next: the earliest pending event; INF when the meter is done."""
    F, N, chain, holders, keys = S
    R, clk = W[0], W[6]
    if N[i, I_STATE] == COMMISSIONED:
        return INF
    due, kind = F[i, F_WAN_AT], EV_WAN
    if F[i, F_CODE_AT] < due:
        due, kind = F[i, F_CODE_AT], EV_CODE
    if F[i, F_COMMISSION_AT] < due:
        due, kind = F[i, F_COMMISSION_AT], EV_DONE
    if F[i, F_VISIT_AT] < due:
        due, kind = F[i, F_VISIT_AT], EV_VISIT
    if F[i, F_COS_AT] < due:
        if N[i, I_COS_AGREED]:  # Lifecycle._effective: the lead time, drawn once the CoS could come first
            agreed = F[i, F_COS_AT]
            if agreed == INF or agreed >= R[R_HORIZON]:
                F[i, F_COS_AT] = INF
            else:
                low, high = int(R[R_LEAD_LOW]), int(R[R_LEAD_HIGH])
                lead = low + int(_uniform(N, keys, i) * (high - low + 1))
                F[i, F_COS_AT] = _later(agreed, lead, clk)
            N[i, I_COS_AGREED] = 0
        if F[i, F_COS_AT] < due:
            due, kind = F[i, F_COS_AT], EV_COS
    F[i, F_DUE] = due
    N[i, I_KIND] = kind
    return due


@_helper
def _advance(S, W, gains, heap, i, now):
    """Lifecycle.advance: handle the meter's earliest event and set its next."""
    F, N, chain, holders, keys = S
    R, P, C, acc, out, mk, clk, _ = W
    kind = N[i, I_KIND]
    if kind == EV_WAN:  # Lifecycle.wan_arrives
        N[i, I_WAN] = 1
        F[i, F_WAN_AT] = INF
        if N[i, I_STATE] == AWAITING_VISIT:
            _book_visit(F, N, R, i, now, clk, chain, mk)
        elif N[i, I_HOLDS]:
            _commission(F, N, R, acc, C, out, keys, i, now, clk)
        elif N[i, I_STATE] == ORPHANED:
            _enter(F, N, R, acc, C, out, i, WAITING_FOR_CODE, now)
    elif kind == EV_COS:  # Lifecycle.change_of_supplier, sampled
        losing = chain[i, N[i, I_CHAIN_LEN] - 1]
        gainer = _pick(N, keys, i, mk[6], losing)
        p = np.int64(N[i, I_PARTNER])  # a meter index is int64 everywhere (one compiled version)
        if p >= 0 and _uniform(N, keys, i) < R[R_DUAL] and chain[p, N[p, I_CHAIN_LEN] - 1] == losing:
            _switch(S, W, gains, p, now, gainer)
            _next(S, W, p)
            N[p, I_HEAP] += 1  # PopulationModel.reschedule (observer.moved): its old entry is stale
            if N[p, I_STATE] != COMMISSIONED:
                _schedule(S, W, gains, heap, p)
        _switch(S, W, gains, i, now, gainer)
    elif kind == EV_CODE:
        _code_resolved(S, W, i, now)
    elif kind == EV_DONE:  # Lifecycle._commissioned
        _enter(F, N, R, acc, C, out, i, COMMISSIONED, now)
    else:  # Lifecycle.replacement_visit
        F[i, F_VISIT_AT] = INF
        N[i, I_REPLACED] = 1
        N[i, I_HOLDS] = 1
        _enter(F, N, R, acc, C, out, i, COMMISSIONED, now)
    _next(S, W, i)


@_helper
def _schedule(S, W, gains, heap, i):
    """PopulationModel._schedule_due: meter ``i`` waits for F_DUE unless that is past the end
    or the end of its commissioning (finished at once: it touches nothing shared)."""
    F, N = S[0], S[1]
    R, C = W[0], W[2]
    due = F[i, F_DUE]
    if due >= R[R_END]:
        return
    if N[i, I_KIND] == EV_DONE:  # Lifecycle._commissioned, at once (no recursion: numba's cache needs none)
        C[C_EVENTS] += 1
        C[C_DIRECT] += 1
        _enter(F, N, R, W[3], C, W[4], i, COMMISSIONED, due)
        return
    _heap_push(heap, C, N, i, due)


@njit(cache=True)
def run(F, N, chain, holders, keys, R, P, mk, clk, order, resume, process, acc, out, gains):
    """Run the meters from clock 0 to R[R_END]; (counters, gains).

    Meters ``resume`` are the historic backlog, resumed at 0 (Lifecycle.resume); meters
    ``order`` are installed at F_INSTALLED, in that order (by time). ``gains`` grows as
    needed and comes back with the counters.
    """
    C = np.zeros(C_SIZE, np.int64)
    S = (F, N, chain, holders, keys)
    W = (R, P, C, acc, out, mk, clk, np.empty(CHAIN_WIDTH + 1, np.int64))  # the last: asked parties
    size = order.size + resume.size + 16
    heap = (np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64))
    for i in resume:  # Lifecycle.resume
        gains = _grow(gains, C[C_GAINS] + 4)
        F[i, F_ENTERED] = 0.0
        s = N[i, I_STATE]
        if process and (s == STRANDED or s == ORPHANED or s == WAITING_FOR_CODE):
            _ask(S, W, i, 0.0)
        _next(S, W, i)
        _schedule(S, W, gains, heap, i)
    end = R[R_END]
    k = 0
    n_new = order.size
    while True:
        gains = _grow(gains, C[C_GAINS] + 4)
        heap = _heap_room(heap, C, 4)
        t_install = F[order[k], F_INSTALLED] if k < n_new else INF
        top = _heap_top(heap, C, N)
        t_event = heap[0][0] if top >= 0 else INF
        if t_install >= end and t_event >= end:
            break
        if t_install <= t_event:  # PopulationModel._install: one premises' meters
            start = k
            while k < n_new and F[order[k], F_INSTALLED] == t_install:
                i = order[k]
                k += 1
                mean = R[R_COS_MEAN] if N[i, I_PARTNER] < 0 else R[R_PAIR_COS_MEAN]
                F[i, F_COS_AT] = INF if mean == INF else t_install - mean * math.log(1.0 - _uniform(N, keys, i))
                N[i, I_COS_AGREED] = 1
            for j in range(start, k):  # Lifecycle.install, each meter of the premises
                i = order[j]
                if N[i, I_STATE] == COMMISSIONED:
                    continue
                F[i, F_ENTERED] = t_install
                if F[i, F_WAN_AT] <= t_install:
                    N[i, I_WAN] = 1
                    F[i, F_WAN_AT] = INF
                    _commission(F, N, R, acc, C, out, keys, i, t_install, clk)
                C[C_EVENTS] += 1
                _next(S, W, i)
                _schedule(S, W, gains, heap, i)
            continue
        i = top
        _heap_pop(heap, C)
        C[C_EVENTS] += 1
        _advance(S, W, gains, heap, i, t_event)
        if N[i, I_STATE] != COMMISSIONED:
            _schedule(S, W, gains, heap, i)
    return C, gains
