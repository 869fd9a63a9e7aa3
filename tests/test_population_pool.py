"""Workers kept between the runner's calls (``kept_workers``): the same processes serve each
call, the results are the serial run's bits, and a fault or the block's end ends them."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest

from sim import api
from sim.policies import make_policy
from sim.population import pool
from sim.population.model import Replication
from sim.population.params import PopulationParams
from sim.population.runner import Task, replication_seeds, run_tasks


def _where(task: Task, rep: Replication) -> tuple[int, int, np.ndarray]:
    """A reduction the workers run by name: the process that ran it, and what it found."""
    return os.getpid(), rep.events, rep.in_backlog_days


def _fault(task: Task, rep: Replication) -> None:
    if task.policy.name == "none":
        raise RuntimeError("a task's fault")


def _tasks(seed: int = 5) -> list[Task]:
    params = PopulationParams(sites=800, years=1.0)
    return [Task(params, make_policy(name), s) for name in ("none", "email-5wd") for s in replication_seeds(seed, 2)]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kept_workers_serve_every_call_with_the_serial_bits_and_end_with_the_block() -> None:
    tasks = _tasks()
    serial = run_tasks(tasks, workers=1, progress=False)
    with api.kept_workers():
        first = run_tasks(tasks, workers=2, progress=False, reduce=_where)
        held = pool.held_bytes()
        second = run_tasks(tasks, workers=2, progress=False, reduce=_where)
    workers = {pid for pid, _, _ in first}
    assert len(workers) == 2 and os.getpid() not in workers
    assert {pid for pid, _, _ in second} == workers  # the same processes, not new ones
    for rep, (_, events, days), (_, again, days_again) in zip(serial, first, second, strict=True):
        assert events == again == rep.events
        assert np.array_equal(days, rep.in_backlog_days) and np.array_equal(days_again, rep.in_backlog_days)
    assert held > 2 * 20 * 2**20  # two workers with Python, numpy and numba loaded
    assert pool.held_bytes() == 0  # no session open
    assert not any(_alive(pid) for pid in workers)


def test_without_a_session_each_call_forks_its_own_workers() -> None:
    first = run_tasks(_tasks(), workers=2, progress=False, reduce=_where)
    second = run_tasks(_tasks(), workers=2, progress=False, reduce=_where)
    assert not {pid for pid, _, _ in first} & {pid for pid, _, _ in second}
    assert not any(_alive(pid) for pid, _, _ in first + second)


def test_a_fault_ends_the_sessions_workers_and_the_next_call_forks_new_ones() -> None:
    with pool.kept_workers():
        before = {pid for pid, _, _ in run_tasks(_tasks(), workers=2, progress=False, reduce=_where)}
        with pytest.raises(RuntimeError, match="a task's fault"):
            run_tasks(_tasks(), workers=2, progress=False, reduce=_fault)
        assert not any(_alive(pid) for pid in before)
        after = run_tasks(_tasks(), workers=2, progress=False, reduce=_where)
    assert not {pid for pid, _, _ in after} & before
    assert [events for _, events, _ in after] == [rep.events for rep in run_tasks(_tasks(), workers=1, progress=False)]


def test_a_nested_block_leaves_the_workers_to_the_outer_one() -> None:
    with pool.kept_workers():
        with pool.kept_workers():
            inner = {pid for pid, _, _ in run_tasks(_tasks(), workers=2, progress=False, reduce=_where)}
        assert all(_alive(pid) for pid in inner)
        outer = {pid for pid, _, _ in run_tasks(_tasks(), workers=2, progress=False, reduce=_where)}
    assert outer == inner and not any(_alive(pid) for pid in inner)


def test_what_idle_kept_workers_hold_counts_as_available_to_the_next_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's idle workers hold memory the next call's workers reuse: the memory
    check adds it to what the machine reports available, and only then."""
    from sim.population import runner
    from sim.population.memory import StudyTooLarge, needed_bytes

    need = needed_bytes(800, "numba", 2)
    with pool.kept_workers():
        run_tasks(_tasks(), workers=2, progress=False, reduce=_where)
        held = pool.held_bytes()
        monkeypatch.setattr(runner, "available_bytes", lambda: need - held // 2)
        assert len(run_tasks(_tasks(), workers=2, progress=False, reduce=_where)) == 4
    with pytest.raises(StudyTooLarge, match="study too large for memory"):
        run_tasks(_tasks(), workers=2, progress=False, reduce=_where)


def test_a_fault_ends_only_the_pools_own_workers() -> None:
    """Another child of this process, started while the session's workers idle (a Dask
    cluster, say), outlives a fault that ends them."""
    with pool.kept_workers():
        workers = {pid for pid, _, _ in run_tasks(_tasks(), workers=2, progress=False, reduce=_where)}
        other = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,))
        other.start()
        try:
            with pytest.raises(RuntimeError, match="a task's fault"):
                run_tasks(_tasks(), workers=2, progress=False, reduce=_fault)
            assert not any(_alive(pid) for pid in workers)
            assert other.is_alive()
        finally:
            other.kill()
            other.join()
