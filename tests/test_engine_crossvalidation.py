"""The numba engine against the SimPy lifecycle (the reference), for every registered policy.

Same parameters, independent seeds, a few replications each: time to commission by a
two-sample Kolmogorov-Smirnov test, backlog by state at each year's end, replacements,
install-code messages and gains, each agreeing within the replications' confidence
intervals. A policy, state, event or parameter that one engine lacks fails here.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from scipy import stats as sps

from sim.lifecycle import SampledCommissioning, SiteRules, State
from sim.policies import POLICIES, make_policy
from sim.population import fast, model
from sim.population.model import BACKLOG_STATES, Replication
from sim.population.params import PopulationParams, WanArrival

REPS = 8
#: Short WAN delays and a busy market so that a small run visits every state.
PARAMS = PopulationParams(
    sites=4000, years=3.0, historic_years=2.0,
    wan=WanArrival(target_days=30, reactive_tail_days=30, proactive_min_days=30, proactive_mean_days=200),
    rules=SiteRules(cos_hazard=0.3), commissioning=SampledCommissioning(p_join=0.9))
#: Two-sided level per comparison: dozens are made, so each is held at 99.9%.
ALPHA = 0.001


@cache
def runs(policy: str, engine: str) -> tuple[Replication, ...]:
    seeds = np.random.SeedSequence(101 if engine == "numba" else 202).spawn(REPS)
    return tuple(model.run_replication(PARAMS, make_policy(policy), s, engine) for s in seeds)


def agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Means of two sets of replications differ by less than the Welch interval's half width."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    if se == 0:
        return bool(a.mean() == b.mean())
    return bool(abs(a.mean() - b.mean()) <= sps.t.ppf(1 - ALPHA / 2, a.size + b.size - 2) * se)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_time_to_commission_distributions_agree(policy: str) -> None:
    a = np.concatenate([r.ttc_days for r in runs(policy, "numba")])
    b = np.concatenate([r.ttc_days for r in runs(policy, "simpy")])
    # Censored meters (inf) sort last in both, so the KS statistic covers them too.
    big = 1e9
    result = sps.ks_2samp(np.minimum(a, big), np.minimum(b, big))
    assert result.pvalue > ALPHA, (policy, result, a.size, b.size)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_backlog_by_state_and_year_agrees(policy: str) -> None:
    ends = [int(round(y * 365.25)) for y in range(1, int(PARAMS.years) + 1)]
    for state in BACKLOG_STATES:
        for day in ends:
            a = [r.backlog[state, day] for r in runs(policy, "numba")]
            b = [r.backlog[state, day] for r in runs(policy, "simpy")]
            assert agree(a, b), (policy, State(state).name, day, np.mean(a), np.mean(b))
        a = [r.site_days[state, -1] for r in runs(policy, "numba")]
        b = [r.site_days[state, -1] for r in runs(policy, "simpy")]
        assert agree(a, b), (policy, State(state).name, "meter-days", np.mean(a), np.mean(b))


@pytest.mark.parametrize("policy", list(POLICIES))
def test_counts_agree(policy: str) -> None:
    for name in ("replaced", "requests", "escalations", "historic", "installed", "commissioned",
                 "join_attempts", "events"):
        a = [getattr(r, name) for r in runs(policy, "numba")]
        b = [getattr(r, name) for r in runs(policy, "simpy")]
        assert agree(a, b), (policy, name, np.mean(a), np.mean(b))
    a = [r.gain_days.size for r in runs(policy, "numba")]
    b = [r.gain_days.size for r in runs(policy, "simpy")]
    assert agree(a, b), (policy, "gains", np.mean(a), np.mean(b))


def test_every_state_is_visited_by_both_engines() -> None:
    """A state only one engine can reach would pass the comparisons above as 0 == 0."""
    for engine in ("numba", "simpy"):
        seen = set()
        for policy in POLICIES:
            for r in runs(policy, engine):
                seen |= {s for s in BACKLOG_STATES if r.site_days[s, -1] > 0}
        assert seen == set(BACKLOG_STATES), (engine, sorted(State(s).name for s in set(BACKLOG_STATES) - seen))


def test_the_engine_reads_every_parameter() -> None:
    """A new parameter field must be read by the kernel (and declared in fast.READS)."""
    assert fast.parameter_fields() == fast.READS


def test_the_engine_runs_every_registered_policy() -> None:
    for name, (cls, _) in POLICIES.items():
        kinds = [k for k in fast.POLICY_KINDS if issubclass(cls, k)]
        assert kinds, f"policy {name!r} has no numba kernel"
        assert set(make_policy(name).params()) <= fast.POLICY_KINDS[kinds[0]], name
        fast.policy_vector(make_policy(name))


def test_same_seed_same_result_bit_for_bit() -> None:
    seed = np.random.SeedSequence(5)
    a = fast.run_replication(PARAMS, make_policy("email-5wd"), seed)
    b = fast.run_replication(PARAMS, make_policy("email-5wd"), seed)
    for f in dataclasses.fields(Replication):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert np.array_equal(x, y), f.name
