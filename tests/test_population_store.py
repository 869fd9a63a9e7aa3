"""Where a sweep keeps each replication: read off the task alone, one file per run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.policies import POLICIES, make_policy
from sim.population.params import PopulationParams
from sim.population.runner import Task, replication_seeds
from sim.population.store import replication_file

RUNS = Path("runs")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), reps=st.integers(1, 12), sites=st.lists(st.integers(1, 10**6), min_size=1,
                                                                                max_size=3, unique=True))
def test_every_run_of_a_sweep_has_its_own_file(seed: int, reps: int, sites: list[int]) -> None:
    """Parameter sets x policies x replications map one to one onto files, and replication
    k is file k of its run's folder (so a resumed sweep finds it)."""
    tasks = [Task(PopulationParams(sites=n), make_policy(name), s)
             for n in sites for name in POLICIES for s in replication_seeds(seed, reps)]
    files = [replication_file(RUNS, task) for task in tasks]
    assert len(set(files)) == len(tasks)
    assert [f.name for f in files] == [f"rep-{k:04d}.npz" for _ in sites for _ in POLICIES for k in range(reps)]
    assert len({f.parent for f in files}) == len(sites) * len(POLICIES)


@pytest.mark.parametrize("seed", [np.random.SeedSequence(5), replication_seeds(5, 2)[1].spawn(1)[0]])
def test_a_seed_that_is_no_sweep_replication_is_refused(seed: np.random.SeedSequence) -> None:
    with pytest.raises(ValueError, match="not a sweep's replication seed"):
        replication_file(RUNS, Task(PopulationParams(sites=100), make_policy("none"), seed))
