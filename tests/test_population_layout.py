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
