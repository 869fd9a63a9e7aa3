"""Choosing the population engine: each repeatable bit for bit, and a study too large for
memory refused before it starts, in one line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.policies import POLICIES, make_policy
from sim.population import fast, memory
from sim.population.model import Replication
from sim.population.params import PopulationParams
from sim.population.runner import Task, each_result, replication_seeds, run_tasks

SMALL = ["backlog", "--sites", "600", "--years", "1", "--replications", "2", "--workers", "1", "--quiet",
         "--policy", "none", "--policy", "email-5wd"]


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_same_seed_same_files_per_engine(engine: str, tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        result = CliRunner().invoke(main, [*SMALL, "--engine", engine, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name / "summary.json").read_bytes())
    assert outputs[0] == outputs[1]


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*SMALL, "--engine", "cython", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "cython" in result.output and "Traceback" not in result.output


def test_a_study_too_large_for_memory_is_refused_before_it_starts(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**30)
    out = tmp_path / "big"
    result = CliRunner().invoke(main, ["backlog", "--sites", "20000000", "--workers", "2", "--quiet",
                                       "--out", str(out)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "study too large for memory" in lines[0], result.output
    assert "20,000,000 sites" in lines[0] and "2 workers" in lines[0] and "GiB available" in lines[0]
    assert not (out / "summary.json").exists()


def test_the_estimate_scales_with_sites_and_workers() -> None:
    one = memory.needed_bytes(1_000_000, "numba", 1)
    assert memory.needed_bytes(2_000_000, "numba", 1) - one == 1_000_000 * memory.BYTES_PER_SITE["numba"]
    assert memory.needed_bytes(1_000_000, "numba", 2) == 2 * one
    assert memory.needed_bytes(1_000_000, "simpy", 1) > one


def test_policies_run_together_give_each_policy_its_own_bits() -> None:
    """A study runs one seed's policies together (history and premises sampled once, each
    policy restarted from the meters at the epoch): every result must be the bits of that
    policy run alone, whatever runs before it."""
    params, seed = PopulationParams(sites=3000, years=2.0), np.random.SeedSequence(5)
    policies = [make_policy(name) for name in reversed(list(POLICIES))]
    together = fast.run_policies(params, policies, seed)
    for policy, shared in zip(policies, together, strict=True):
        alone = fast.run_replication(params, policy, seed)
        for field in dataclasses.fields(alone):
            assert np.array_equal(getattr(alone, field.name), getattr(shared, field.name)), (policy.name, field.name)


def test_the_event_loop_resumes_exactly_where_it_stopped_to_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's event loop returns to ``kernel.run`` whenever its arrays must grow, and
    is called again from where it stopped. Started with room for one gain, it stops a dozen
    times a run: every result must still be the bits of a run that never stopped."""
    params, seed, policy = PopulationParams(sites=3000, years=2.0), np.random.SeedSequence(9), make_policy("email-5wd")
    whole = fast.run_replication(params, policy, seed)
    run: Callable[..., object] = fast.k.run

    def cramped(*args: object) -> object:
        return run(*args[:-1], np.empty(1))  # the last argument: the gains array

    monkeypatch.setattr(fast.k, "run", cramped)
    stopped = fast.run_replication(params, policy, seed)
    assert stopped.gain_days.size > 100  # enough gains to grow many times
    for field in dataclasses.fields(whole):
        assert np.array_equal(getattr(whole, field.name), getattr(stopped, field.name)), field.name


def test_whole_replications_that_overflow_memory_are_refused_before_they_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python API keeps every whole replication (16 MiB each at GB scale): 200 of them at
    1,000,000 sites do not fit in 2 GiB, though one run at a time would. (``hansim backlog``
    keeps each one's digest: ``test_population_report.py`` checks its own refusal.)"""
    from sim import api

    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**30)
    with pytest.raises(memory.StudyTooLarge) as refused:
        api.backlog(sites=1_000_000, replications=200, workers=1)
    assert "study too large for memory" in str(refused.value) and "\n" not in str(refused.value)
    assert "200 replications' results" in str(refused.value) and "1,000,000 sites" in str(refused.value)


def test_each_result_hands_over_every_replication_once_with_run_tasks_bits() -> None:
    """each_result (what sweeps and studies use, keeping no result) gives each task's bits."""
    params = PopulationParams(sites=800, years=1.0)
    tasks = [Task(params, make_policy(name), seed) for name in ("none", "email-5wd")
             for seed in replication_seeds(3, 2)]
    kept = run_tasks(tasks, workers=1, progress=False)
    seen: dict[int, Replication] = {}
    each_result(tasks, lambda i, rep: seen.setdefault(i, rep), workers=2, progress=False)
    assert sorted(seen) == list(range(len(tasks)))
    for i, rep in enumerate(kept):
        assert np.array_equal(rep.in_backlog_days, seen[i].in_backlog_days) and rep.events == seen[i].events


def _commissioned(task: Task, rep: Replication) -> tuple[str, int]:
    """A reduction the workers run by name (module level, as each_result asks)."""
    return task.policy.name, rep.commissioned


@pytest.mark.parametrize("workers", [1, 2])
def test_each_result_reduces_where_the_replication_ran(workers: int) -> None:
    """With ``reduce``, ``done`` gets reduce(task, replication) for every task, computed in
    the worker: what the parent would have made of the replication itself."""
    params = PopulationParams(sites=800, years=1.0)
    tasks = [Task(params, make_policy(name), seed) for name in ("none", "email-5wd")
             for seed in replication_seeds(4, 2)]
    kept = run_tasks(tasks, workers=1, progress=False)
    seen: dict[int, object] = {}
    each_result(tasks, lambda i, value: seen.setdefault(i, value), workers=workers, progress=False,
                reduce=_commissioned)
    assert seen == {i: (task.policy.name, rep.commissioned) for i, (task, rep) in enumerate(zip(tasks, kept))}
