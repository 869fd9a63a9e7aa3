"""Every entry point holds against generated hostile input: no crash, no hang, no leftover.

A bounded number of examples per target keeps this fast in CI; ``benchmarks/fuzz.py``
runs the same targets (``tests/_fuzz_support.py``) much longer and prints its figures.
"""

from __future__ import annotations

import pytest
from _fuzz_support import TARGETS, run_one
from hypothesis import HealthCheck, given, settings

EXAMPLES = {"cli-options": 15, "duis-http": 40, "http-head": 40, "population-set": 30}  # a CLI run ~0.5 s, an HTTP client ~0.2-0.8 s
DEFAULT_EXAMPLES = 60


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_entry_point_holds(name: str) -> None:
    target = TARGETS[name]

    @settings(max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(target.inputs)
    def holds(value) -> None:
        outcome = run_one(target, value)
        assert outcome.kind in ("accepted", "refused"), f"{outcome.kind}: {outcome.detail}\ninput: {value!r:.300}"

    holds()
