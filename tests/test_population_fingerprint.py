"""Both population engines' results pinned bit for bit across versions.

The cross-validation tests hold the engines to each other in distribution, and the
engine tests hold each run to itself within one version. Neither notices a change that
moves every result a little: a refactoring of the kernel or of the sampling that was
meant to change nothing. These fingerprints do. Each is a sha256 over every field of
every policy's :class:`~sim.population.model.Replication` (names, dtypes, shapes and
bytes), for fixed parameters and seeds.

A change that is meant to move the results (a model fix, a new rule) updates the
fingerprints in the same commit and says why in its message; the CHANGELOG says which
figures moved. To print the new ones: ``python -m pytest tests/test_population_fingerprint.py -q``
(the failure shows each case's new value).
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from sim.policies import POLICIES, make_policy
from sim.population import fast
from sim.population.model import Replication
from sim.population.model import run_replication as simpy_replication
from sim.population.params import PopulationParams

#: (engine, sites, years, seed) -> the first 16 hex digits of the sha256 of its results
#: under every policy in :data:`sim.policies.POLICIES`, in that order.
PINNED: dict[tuple[str, int, float, int], str] = {
    ("numba", 20_000, 5.0, 1): "cd83a7598c376144",
    ("numba", 20_000, 5.0, 2026): "6f965c44b10959ab",
    ("simpy", 2_000, 2.0, 1): "e1d2b01ec0d81c9a",
}


def fingerprint(replications: list[Replication]) -> str:
    """sha256 over every field of each replication: its name, then its dtype, shape and
    bytes (arrays and numbers alike, as numpy sees them)."""
    digest = hashlib.sha256()
    for rep in replications:
        for field in dataclasses.fields(rep):
            value = np.asarray(getattr(rep, field.name))
            digest.update(f"{field.name}:{value.dtype.str}:{value.shape}:".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()[:16]


def _results(engine: str, params: PopulationParams, seed: int) -> list[Replication]:
    policies = [make_policy(name) for name in POLICIES]
    if engine == "numba":
        return fast.run_policies(params, policies, np.random.SeedSequence(seed))
    return [simpy_replication(params, policy, np.random.SeedSequence(seed), "simpy") for policy in policies]


@pytest.mark.parametrize(("engine", "sites", "years", "seed"), list(PINNED))
def test_results_are_the_pinned_bits(engine: str, sites: int, years: float, seed: int) -> None:
    params = PopulationParams(sites=sites, years=years)
    got = fingerprint(_results(engine, params, seed))
    assert got == PINNED[engine, sites, years, seed], (
        f"{engine} engine, {sites:,} sites, {years:g} years, seed {seed}: results are {got}, pinned "
        f"{PINNED[engine, sites, years, seed]}. If this change is meant to move them, update PINNED and say why.")


def test_the_fingerprint_sees_one_bit() -> None:
    """The hash covers every field: one changed bit anywhere changes it."""
    rep = _results("numba", PopulationParams(sites=600, years=1.0), 3)[:1]
    before = fingerprint(rep)
    for field in dataclasses.fields(rep[0]):
        value = getattr(rep[0], field.name)
        flipped: object
        if isinstance(value, np.ndarray):
            if value.size == 0:
                continue
            flipped = value.copy()
            flipped.view(np.uint8)[-1] ^= 1
        else:
            flipped = value + 1
        changed = dataclasses.replace(rep[0], **{field.name: flipped})  # type: ignore[arg-type]
        assert fingerprint([changed]) != before, field.name
