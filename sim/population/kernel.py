"""The meter lifecycle compiled with numba: the population engine's inner loop.

This is :mod:`sim.lifecycle` (with :mod:`sim.policies`, :mod:`sim.suppliers` and
:mod:`sim.worktime`) over arrays instead of objects, for populations of millions. The
SimPy lifecycle stays the reference: scenario replay runs it, and
``tests/test_engine_crossvalidation.py`` holds this kernel to it, policy by policy, state
by state. Each handler below names the method of :class:`~sim.lifecycle.Lifecycle` it
mirrors; change one, change both (the test fails until both agree).

Layout: meter i's hot state is record i of ``M`` (:data:`METER`: 64 bytes, one cache line,
the array aligned to 64), so an event costs one random memory access rather than one per
column array. Its cold state is apart: install time (``installed``), and in a second
cache line (one row of :attr:`sim.population.fast._Meters.cold`, which the four arrays
view) its chain of suppliers (row i of ``chain``, installer first, current last), the
suppliers holding its install code (row i of ``holders``), the time of its last gain
(``gained``) and of a failed request's late code (``late``). The three
pending actions (code reply, commissioning, replacement visit) are exclusive, so they
share one time, ``action_at``, whose kind follows from the state (:func:`_action`). Each
meter has its own SplitMix64 streams (``key``), as :class:`~sim.worktime.MeterDraws`:
draw n of stream k. Live meters wait in a calendar queue keyed by (due time, meter)
(:mod:`sim.population.calendar_queue`: a bucket a day, a small exact heap for the
current day), which pops in exactly a single heap's order; a meter rescheduled (a partner
moved by a dual-fuel switch) leaves a stale entry behind, dropped when its bucket is
moved or when it surfaces (as the SimPy model's stale events are).

Backlog counts and meter-days are accumulated per day as intervals close (no interval
list is kept), which is what keeps a GB run's memory near the per-meter state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from sim.population import calendar_queue

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
EV_LATE = 5  # the kernel's own: a tracked incident's code after the request failed (Event.CODE)

# Policy kinds (sim.population.fast.policy_vector packs a Policy into P).
POLICY_NONE, POLICY_ASK, POLICY_SMI = range(3)
(P_KIND, P_SLA, P_REPLY_PROB, P_REPLY_MEAN, P_IDENTIFY, P_BULK, P_PATIENCE, P_GIVE_UP, P_ESCALATED,
 P_ESCALATION_WD, P_ROUTE, P_DELAY, P_COVERAGE, P_REPLY_WD, P_TRACKED, P_SIZE) = range(16)

# Rules (SiteRules, SampledCommissioning and the run) packed into R.
(R_COS_MEAN, R_PAIR_COS_MEAN, R_DUAL, R_LEAD_LOW, R_LEAD_HIGH, R_P_REPLACE, R_VISIT_LEAD, R_P_JOIN,
 R_ATTEMPT_S, R_RETRY_WD, R_OBLIGATION, R_END, R_HORIZON, R_RECORD, R_SIZE) = range(15)

#: A meter's hot state: what every event reads, in one cache line.
METER = np.dtype([("wan_at", np.float64), ("entered", np.float64), ("cos_at", np.float64),
                  ("action_at", np.float64), ("key", np.uint64), ("partner", np.int32), ("drawn", np.int32),
                  ("policy_drawn", np.int32), ("heap", np.int32), ("attempts", np.int32), ("state", np.int8),
                  ("chain_len", np.int8), ("hold_len", np.int8), ("flags", np.uint8)])
# Bits of ``flags``.
WAN, HOLDS, COS_AGREED, CODE_OK, REPLACED = (np.uint8(1 << b) for b in range(5))

#: Suppliers remembered per meter. Past this many changes of supplier the oldest
#: non-installing supplier is forgotten (it can no longer be asked); at a CoS hazard of
#: 0.1 a year a meter reaches it after ~15 switches, about never in a run.
CHAIN_WIDTH = 16

# Counters returned in C.
(C_EVENTS, C_DIRECT, C_REPLACED, C_ATTEMPTS, C_REQUESTS, C_ESCALATIONS, C_DONE, C_GAINS, C_REPLACEMENTS,
 C_SIZE) = range(10)

# Helpers run without numba's reference counting: they allocate nothing, and the atomic
# incref/decref of every array they are handed cost half the loop's time. Only ``run``
# (and the two that grow arrays) keep it, outside the event loop. ``_nrt`` is numba's own
# (untyped) switch. numba passes a tuple of arrays by value, field by field: a call with
# ``S`` and ``W`` copies about 1.5 KB onto the stack. So what runs on every event (the
# loop's own steps: ``_advance``, ``_schedule``, ``_next``, and the queue's ``top`` and
# ``pop``) and the handlers of the commonest events (``_switch``, ``_code_resolved``) are
# inlined into the loop as ``_leaf``; rarer steps stay calls.
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
def _uniform(m):
    m.drawn += 1
    return _splitmix(m.key, m.drawn)


@_leaf
def _policy_uniform(m):
    m.policy_drawn += 1
    return _splitmix(~m.key, m.policy_drawn)


# -- flags -----------------------------------------------------------------------------------
@_leaf
def _has(m, bit):
    return (m.flags & bit) != 0


@_leaf
def _flag(m, bit, on):
    m.flags = (m.flags | bit) if on else (m.flags & ~bit)


# -- working days (sim.worktime.WorkClock) ----------------------------------------------------
@_helper
def _later(t, n, clk):
    """``n`` working days after ``t``, same time of day (WorkClock.later)."""
    number, working, wd_day = clk
    day = min(calendar_queue.day_of(t), number.size - 1)
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
    return number[min(calendar_queue.day_of(t), number.size - 1)]


@_leaf
def _is_working(t, number, working):
    return working[min(calendar_queue.day_of(t), number.size - 1)]


@_helper
def _at_working_day(t, k, clk):
    """Clock time of working day ``k`` at ``t``'s time of day, never before ``t``."""
    return _later(t, max(0, k - _number(t, clk[0])), clk)


@_helper
def _next_batch(t, every, clk):
    if every <= 1:
        return _later(t, 0, clk)
    number, working = clk[0], clk[1]
    day = min(calendar_queue.day_of(t), number.size - 1)
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
def _pick(m, cumulative, other_than):
    n = cumulative.size
    while True:
        u = _uniform(m)
        s = min(np.searchsorted(cumulative, u, side="right"), n - 1)
        if s != other_than or n == 1:
            return s


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


# -- the lifecycle (sim.lifecycle.Lifecycle) --------------------------------------------------
@_leaf
def _action(state):
    """The kind of a meter's pending action (its code, commissioning or visit), by state."""
    if state == COMMISSIONING:
        return EV_DONE
    if state == AWAITING_VISIT:
        return EV_VISIT
    return EV_CODE


@_helper
def _enter(S, W, i, state, now):
    """Lifecycle._enter (observer.left, observer.done)."""
    M = S[0]
    R, C, acc, out = W[0], W[2], W[3], W[4]
    m = M[i]
    if m.state != state:
        if now > m.entered:
            _left(R, acc, m.state, m.entered, now)
        m.state = state
        m.entered = now
    if state == COMMISSIONED:
        p = m.partner
        if p >= 0:
            M[p].partner = -1
            m.partner = -1
        n = C[C_DONE]
        out[0, n] = i  # the meter's row (exact as a float): its install time is read after the run
        out[1, n] = now
        C[C_DONE] = n + 1
        if _has(m, REPLACED):
            C[C_REPLACED] += 1
            out[2, C[C_REPLACEMENTS]] = now
            C[C_REPLACEMENTS] += 1
        C[C_ATTEMPTS] += m.attempts


@_helper
def _commission(S, W, i, now):
    """Lifecycle._commission with SampledCommissioning.commission."""
    R, clk = W[0], W[6]
    m = S[0][i]
    t, attempts = now, 1
    while _uniform(m) >= R[R_P_JOIN]:
        t = _later(t + R[R_ATTEMPT_S], int(R[R_RETRY_WD]), clk)
        attempts += 1
    m.attempts += attempts
    m.action_at = t + R[R_ATTEMPT_S]
    _enter(S, W, i, COMMISSIONING, now)


@_helper
def _book_visit(S, W, i, now):
    M, chain = S[0], S[2]
    R, mk, clk = W[0], W[5], W[6]
    s = chain[i, M[i].chain_len - 1]
    day = _book(mk[3], mk[4], mk[5], s, _number(now, clk[0]) + int(R[R_VISIT_LEAD]))
    M[i].action_at = _at_working_day(now, day, clk)


@_helper
def _holds(m, holders, i, s):
    for k in range(m.hold_len):
        if holders[i, k] == s:
            return True
    return False


@_helper
def _request(S, W, i, now, under_sla):
    """Policy.request: (resolved, success, late); messages and escalations into C."""
    M, chain, holders = S[0], S[2], S[3]
    P, C, mk, clk, asked = W[1], W[2], W[5], W[6], W[7]
    m = M[i]
    reply_book, reply_floor, reply_rate, forwards, p_reply = mk[0], mk[1], mk[2], mk[7], mk[8]
    kind = int(P[P_KIND])
    if kind == POLICY_NONE:
        return now, False, INF
    if kind == POLICY_SMI:
        delay = int(P[P_DELAY])
        at = _later(now, delay, clk) if delay else now
        return at, _policy_uniform(m) < P[P_COVERAGE], INF
    # _AskTheInstaller.request
    length = m.chain_len
    installer, current = chain[i, 0], chain[i, length - 1]
    n_asked = 0
    t = now
    messages = escalations = 0
    sla, patience_wd = int(P[P_SLA]), int(P[P_PATIENCE])
    while True:
        # _next_party
        found = _policy_uniform(m) < P[P_IDENTIFY]
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
        holds = _holds(m, holders, i, party) and (party == installer or forwards[party])
        first = _number(sent, clk[0]) + (0 if _is_working(sent, clk[0], clk[1]) else 1)
        probability = p_reply[party] if P[P_REPLY_PROB] < 0 else P[P_REPLY_PROB]
        replies = _policy_uniform(m) < probability
        delay = 0
        if P[P_REPLY_MEAN] > 0:
            delay = int(math.ceil(-P[P_REPLY_MEAN] * math.log(1.0 - _policy_uniform(m))))
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
                if _policy_uniform(m) < P[P_ESCALATED]:
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
def _add_holder(m, holders, i, s):
    if _holds(m, holders, i, s):
        return
    n = m.hold_len
    if n == holders.shape[1]:  # full: forget the oldest receiver, keep the installer
        for j in range(1, n - 1):
            holders[i, j] = holders[i, j + 1]
        n -= 1
    holders[i, n] = s
    m.hold_len = n + 1


@_leaf
def _code_resolved(S, W, i, now):
    """Lifecycle.code_resolved."""
    M, chain, holders = S[0], S[2], S[3]
    R = W[0]
    m = M[i]
    m.action_at = INF  # a planned visit too: the code cancels it
    if _has(m, CODE_OK):
        S[4][i] = INF
        _flag(m, HOLDS, True)
        _add_holder(m, holders, i, chain[i, m.chain_len - 1])
        if _has(m, WAN):
            _commission(S, W, i, now)
        else:
            _enter(S, W, i, WAITING_FOR_WAN, now)
        return
    if _uniform(m) < R[R_P_REPLACE]:
        _enter(S, W, i, AWAITING_VISIT, now)
        if _has(m, WAN):
            _book_visit(S, W, i, now)
    else:
        _enter(S, W, i, STRANDED, now)


@_helper
def _ask(S, W, i, now):
    """Lifecycle._ask."""
    m = S[0][i]
    under_sla = S[1][i] >= W[0][R_OBLIGATION]
    resolved, success, late = _request(S, W, i, now, under_sla)
    _flag(m, CODE_OK, success)
    S[4][i] = late  # pending only once the request failed (stranded or awaiting a visit): _late
    _enter(S, W, i, WAITING_FOR_CODE if _has(m, WAN) else ORPHANED, now)
    if resolved <= now:
        _code_resolved(S, W, i, now)
    else:
        m.action_at = resolved


@_leaf
def _switch(S, W, gains, i, now, gainer):
    """Lifecycle._switch (observer.gained)."""
    M, gained, chain, holders = S[0], S[1], S[2], S[3]
    R, C = W[0], W[2]
    m = M[i]
    n = m.chain_len
    if n == chain.shape[1]:  # full: forget the oldest non-installing supplier
        for j in range(1, n - 1):
            chain[i, j] = chain[i, j + 1]
        n -= 1
    chain[i, n] = gainer
    m.chain_len = n + 1
    gained[i] = now
    _flag(m, HOLDS, False)
    m.action_at = INF
    mean = R[R_COS_MEAN] if m.partner < 0 else R[R_PAIR_COS_MEAN]
    m.cos_at = INF if mean == INF else now - mean * math.log(1.0 - _uniform(m))
    _flag(m, COS_AGREED, True)
    if R[R_RECORD] != 0.0:
        gains[C[C_GAINS]] = now
        C[C_GAINS] += 1
    if _holds(m, holders, i, gainer):
        _flag(m, HOLDS, True)
        if _has(m, WAN):
            _commission(S, W, i, now)
        else:
            _enter(S, W, i, WAITING_FOR_WAN, now)
        return
    _ask(S, W, i, now)


@_leaf
def _next(S, W, i):
    """Lifecycle._next: the earliest pending event (due, kind); due INF when the meter is done."""
    R, clk = W[0], W[6]
    m = S[0][i]
    if m.state == COMMISSIONED:
        return INF, EV_DONE
    due, kind = m.wan_at, EV_WAN
    late = _late(m, S[4], i)
    if late < due:
        due, kind = late, EV_CODE
    if m.action_at < due:
        due, kind = m.action_at, _action(m.state)
    if m.cos_at < due:
        if _has(m, COS_AGREED):  # Lifecycle._effective: the lead time, drawn once the CoS could come first
            agreed = m.cos_at
            if agreed == INF or agreed >= R[R_HORIZON]:
                m.cos_at = INF
            else:
                low, high = int(R[R_LEAD_LOW]), int(R[R_LEAD_HIGH])
                lead = low + int(_uniform(m) * (high - low + 1))
                m.cos_at = _later(agreed, lead, clk)
            _flag(m, COS_AGREED, False)
        if m.cos_at < due:
            due, kind = m.cos_at, EV_COS
    return due, kind


@_leaf
def _late(m, late, i):
    """When a failed request's tracked incident still brings the code (Lifecycle: code_at
    after a failure); INF when none is pending. ``late`` is read only then: it lies apart
    from the meter's record, a cache miss most events need not pay."""
    return late[i] if m.state == STRANDED or m.state == AWAITING_VISIT else INF


@_leaf
def _kind(m, due, late, i):
    """The kind of the event a meter's live heap entry at ``due`` is for: what :func:`_next`
    chose (its fields have not changed since, or the entry would be stale)."""
    if m.wan_at == due:
        return EV_WAN
    if _late(m, late, i) == due:
        return EV_LATE
    if m.action_at == due:
        return _action(m.state)
    return EV_COS


@_leaf
def _advance(S, W, gains, queue, i, now):
    """Lifecycle.advance: handle the meter's event due ``now`` and schedule its next."""
    M, chain = S[0], S[2]
    R, mk = W[0], W[5]
    m = M[i]
    kind = _kind(m, now, S[4], i)
    if kind == EV_WAN:  # Lifecycle.wan_arrives
        _flag(m, WAN, True)
        m.wan_at = INF
        if m.state == AWAITING_VISIT:
            _book_visit(S, W, i, now)
        elif _has(m, HOLDS):
            _commission(S, W, i, now)
        elif m.state == ORPHANED:
            _enter(S, W, i, WAITING_FOR_CODE, now)
    elif kind == EV_COS:  # Lifecycle.change_of_supplier, sampled
        losing = chain[i, m.chain_len - 1]
        gainer = _pick(m, mk[6], losing)
        p = np.int64(m.partner)  # a meter index is int64 everywhere (one compiled version)
        if p >= 0 and _uniform(m) < R[R_DUAL] and chain[p, M[p].chain_len - 1] == losing:
            _switch(S, W, gains, p, now, gainer)
            M[p].heap += 1  # PopulationModel.reschedule (observer.moved): its old entry is stale
            _schedule(S, W, gains, queue, p)
        _switch(S, W, gains, i, now, gainer)
    elif kind == EV_LATE:  # Lifecycle.code_resolved: the open incident's code
        _flag(m, CODE_OK, True)
        _code_resolved(S, W, i, now)
    elif kind == EV_CODE:
        _code_resolved(S, W, i, now)
    elif kind == EV_DONE:  # Lifecycle._commissioned
        _enter(S, W, i, COMMISSIONED, now)
    else:  # Lifecycle.replacement_visit
        m.action_at = INF
        _flag(m, REPLACED, True)
        _flag(m, HOLDS, True)
        _enter(S, W, i, COMMISSIONED, now)
    _schedule(S, W, gains, queue, i)


@_leaf
def _schedule(S, W, gains, queue, i):
    """Lifecycle._next then PopulationModel._schedule_due: meter ``i`` waits for its next
    event unless it is done, that is past the end, or it is the end of its commissioning
    (finished at once: it touches nothing shared)."""
    R, C = W[0], W[2]
    due, kind = _next(S, W, i)
    if due >= R[R_END]:
        return
    if kind == EV_DONE:  # Lifecycle._commissioned, at once (no recursion: numba's cache needs none)
        C[C_EVENTS] += 1
        C[C_DIRECT] += 1
        _enter(S, W, i, COMMISSIONED, due)
        return
    calendar_queue.push(queue, S[0], i, due)


@_helper
def _events(S, W, gains, queue, order, when, cursor):
    """The event loop from where ``cursor`` (next premises, its meters) left it: True at the
    end, False when ``gains`` or the queue must grow first. :func:`run` grows them, so the
    loop itself runs without reference counting. ``when`` is ``installed[order]``."""
    M = S[0]
    R, C = W[0], W[2]
    end = R[R_END]
    k, n = cursor[0], cursor[1]
    n_new = order.size
    t_install = when[k] if k < n_new else INF
    while True:
        if n < 0:  # the next premises: its meters, installed at one time
            n = 0
            t_install = when[k] if k < n_new else INF
            while k + n < n_new and when[k + n] == t_install:
                n += 1
        # an event pushes its meter and maybe its partner; a premises, its meters
        if C[C_GAINS] + 4 >= gains.size or calendar_queue.short(queue, max(n, 2)):
            cursor[0], cursor[1] = k, n
            return False
        top = calendar_queue.top(queue, M)
        t_event = queue[0][0] if top >= 0 else INF
        if t_install >= end and t_event >= end:
            return True
        if t_install <= t_event:  # PopulationModel._install: one premises' meters
            for j in range(k, k + n):
                m = M[order[j]]
                mean = R[R_COS_MEAN] if m.partner < 0 else R[R_PAIR_COS_MEAN]
                m.cos_at = INF if mean == INF else t_install - mean * math.log(1.0 - _uniform(m))
                _flag(m, COS_AGREED, True)
            for j in range(k, k + n):  # Lifecycle.install, each meter of the premises
                i = order[j]
                m = M[i]
                if m.state == COMMISSIONED:
                    continue
                m.entered = t_install
                if m.wan_at <= t_install:
                    _flag(m, WAN, True)
                    m.wan_at = INF
                    _commission(S, W, i, t_install)
                C[C_EVENTS] += 1
                _schedule(S, W, gains, queue, i)
            k += n
            n = -1
            continue
        calendar_queue.pop(queue)
        C[C_EVENTS] += 1
        _advance(S, W, gains, queue, top, t_event)


@njit(cache=True)
def run(M, installed, gained, chain, holders, late, R, P, mk, clk, order, resume, process, acc, out, gains):
    """Run the meters from clock 0 to R[R_END]; (counters, gains).

    Meters ``resume`` are the historic backlog, resumed at 0 (Lifecycle.resume); meters
    ``order`` are installed at ``installed``, in that order (by time). ``gains`` grows as
    needed and comes back with the counters.
    """
    C = np.zeros(C_SIZE, np.int64)
    S = (M, gained, chain, holders, late)  # per meter; ``installed`` is read here alone
    W = (R, P, C, acc, out, mk, clk, np.empty(CHAIN_WIDTH + 1, np.int64))  # the last: asked parties
    queue = calendar_queue.new(int(R[R_END] // DAY), order.size + resume.size)
    for i in resume:  # Lifecycle.resume
        if C[C_GAINS] + 4 >= gains.size:
            gains = _grow(gains, C[C_GAINS] + 4)
        M[i].entered = 0.0
        s = M[i].state
        if process and (s == STRANDED or s == ORPHANED or s == WAITING_FOR_CODE):
            _ask(S, W, i, 0.0)
        _schedule(S, W, gains, queue, i)
    cursor = np.array([0, -1], np.int64)  # the next premises, and its meters (-1: not counted yet)
    when = installed[order]  # install times in order: read in sequence, not at random
    while not _events(S, W, gains, queue, order, when, cursor):
        if C[C_GAINS] + 4 >= gains.size:
            gains = _grow(gains, C[C_GAINS] + 4)
        queue = calendar_queue.room(queue, max(cursor[1], 2))
    return C, gains
