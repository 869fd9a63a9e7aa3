"""The kernel's vectorised sampling passes against the SimPy model's own scalar code."""

from __future__ import annotations

import bisect

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.population import layout

shares = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=40)
uniforms = st.lists(st.floats(0.0, 1.0, allow_nan=False, exclude_max=True), min_size=1, max_size=200)


@settings(max_examples=300, deadline=None)
@given(shares, uniforms, st.booleans())
def test_pick_round_picks_as_market_pick_does(weights: list[float], us: list[float], avoid: bool) -> None:
    """Each premises gets the supplier :meth:`sim.suppliers.Market.pick` would give for the
    same uniform (bisect right over the cumulative shares, at most the last), and those that
    drew the supplier to avoid are handed back in order. Zero shares (ties in the cumulative
    shares) and uniforms on a share's edge included."""
    total = sum(weights) or 1.0
    cumulative = np.array([sum(weights[:i + 1]) / total for i in range(len(weights))])
    edges = [c for c in cumulative if c < 1.0]
    u = np.array(us + edges)
    last = cumulative.size - 1
    expected = [min(bisect.bisect_right(list(cumulative), x), last) for x in u]
    other_than = np.array([expected[0]] * u.size, np.int64) if avoid else np.zeros(0, np.int64)
    picked = np.full(u.size, -1, np.int64)
    again = layout.pick_round(cumulative, u, other_than, np.arange(u.size), picked)
    redraw = [i for i, s in enumerate(expected) if avoid and s == expected[0] and last > 0]
    assert again.tolist() == redraw
    assert all(picked[i] == (-1 if i in redraw else expected[i]) for i in range(u.size))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.data())
def test_compact_moves_rows_down_in_order_and_renumbers_partners(n: int, data: st.DataObject) -> None:
    """compact against numpy's own fancy indexing: the chosen rows (partners chosen with
    their partner, as commissioning unlinks both) come first, in order, every word the
    same, each partner link pointing at its partner's new row."""
    from sim.population.kernel import METER

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    M = np.zeros(n, METER)
    M.view(np.uint8)[:] = rng.integers(0, 256, M.nbytes, dtype=np.uint8)
    order = rng.permutation(n)
    M["partner"] = -1
    for a, b in zip(order[0:n - 1:2], order[1:n:2]):
        if data.draw(st.booleans()):
            M["partner"][a], M["partner"][b] = b, a
    keep = np.zeros(n, bool)
    for i in range(n):
        if data.draw(st.booleans()):
            keep[i] = True
            if M["partner"][i] >= 0:
                keep[M["partner"][i]] = True
    rows = np.flatnonzero(keep)
    installed, cold = rng.random(n), rng.integers(0, 2**63, (n, 8), dtype=np.uint64)
    expected_M, expected_installed, expected_cold = M[rows].copy(), installed[rows], cold[rows]
    new_row = {int(old): j for j, old in enumerate(rows)}
    expected_M["partner"] = [new_row[int(p)] if p >= 0 else -1 for p in expected_M["partner"]]
    layout.compact(M, installed, cold, rows)
    k = rows.size
    assert M[:k].tobytes() == expected_M.tobytes()
    assert np.array_equal(installed[:k], expected_installed) and np.array_equal(cold[:k], expected_cold)


def test_the_historys_open_meters_take_the_first_rows_with_their_partners() -> None:
    """After the history (a real GB-shaped run, small): its open meters are rows 0 to s-1,
    each partner link mutual and within them, the run's meters after them."""
    from sim.population import fast
    from sim.population.kernel import COMMISSIONED
    from sim.population.params import PopulationParams

    _, meters, survivors, _ = fast.at_epoch(PopulationParams(sites=20_000, years=2.0), np.random.SeedSequence(8))
    s = meters.first_new
    assert np.array_equal(survivors, np.arange(s)) and s > 0
    assert not np.any(meters.M["state"][:s] == COMMISSIONED)
    partners = meters.M["partner"][:s]
    linked = np.flatnonzero(partners >= 0)
    assert linked.size > 0 and np.all(partners[linked] < s)
    assert np.array_equal(partners[partners[linked]], linked)
    assert meters.M.size == s + meters.run_plan.size
