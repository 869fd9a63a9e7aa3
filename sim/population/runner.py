"""Replications spread over local worker processes or a Dask cluster.

A task is (parameters, policy, seed); each replication gets its own stream from
``SeedSequence(seed).spawn``. Replication k uses the same stream under every policy
and parameter set (common random numbers), so comparisons are sharper. Tasks that
differ only in policy go to a worker together: the numba engine samples and runs their
history once (:func:`sim.population.fast.run_policies`), with the same bits as one at a
time. Results come back in task order whatever order workers finish in: same seed, same
output.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from sim.policies import Policy
from sim.population.memory import available_bytes, check_held, check_memory
from sim.population.model import DEFAULT_ENGINE, Replication, run_replication
from sim.population.params import PopulationParams
from sim.population.pool import held_bytes, run_on_pool
from sim.progress import bar as progress_bar


@dataclass(frozen=True)
class Task:
    params: PopulationParams
    policy: Policy
    seed: np.random.SeedSequence
    engine: str = DEFAULT_ENGINE  #: ``numba`` or ``simpy`` (sim.population.ENGINES)


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(replications)


#: What a worker hands back for each task: its replication, or what ``reduce`` made of it.
Reduce = Callable[[Task, Replication], Any]


def _run(tasks: Sequence[Task], reduce: Reduce | None = None) -> list[Any]:
    """Tasks that differ only in policy (:func:`_batches`), one replication each, or each
    replication reduced where it ran (:func:`each_result`'s ``reduce``)."""
    first = tasks[0]
    if first.engine == "numba" and len(tasks) > 1:
        from sim.population import fast

        reps = fast.run_policies(first.params, [task.policy for task in tasks], first.seed)
    else:
        reps = [run_replication(task.params, task.policy, task.seed, task.engine) for task in tasks]
    return reps if reduce is None else [reduce(task, rep) for task, rep in zip(tasks, reps, strict=True)]


def _batches(tasks: Sequence[Task]) -> list[list[int]]:
    """Indices of ``tasks`` grouped by (parameters, seed, engine), in order of first task."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, task in enumerate(tasks):
        seed = task.seed
        key = (id(task.params), task.engine, repr(seed.entropy), tuple(seed.spawn_key), seed.pool_size)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def run_tasks(tasks: Sequence[Task], workers: int | None = None, dask_address: str | None = None,
              progress: bool = True, reduce: Reduce | None = None) -> list[Any]:
    """Every task's replication, or what ``reduce`` made of it where it ran (as in
    :func:`each_result`), in task order, all held at once. Whole replications (about 16 MiB
    each at GB scale) beyond the memory available are refused before any task starts; a
    caller that reduces them checks what it keeps."""
    if tasks and reduce is None:
        check_held(max(task.params.sites for task in tasks), len(tasks))
    results: list[Any] = [None] * len(tasks)
    finished = [False] * len(tasks)

    def keep(i: int, result: Any) -> None:
        results[i], finished[i] = result, True

    each_result(tasks, keep, workers, dask_address, progress, reduce)
    assert all(finished)  # every task finished, or each_result raised
    return results


def each_result(tasks: Sequence[Task], done: Callable[[int, Any], object], workers: int | None = None,
                dask_address: str | None = None, progress: bool = True, reduce: Reduce | None = None) -> None:
    """Run every task, handing ``done(i, result)`` each replication as it finishes and keeping
    none, so a study of thousands of runs (a sweep saving them, calibration and sensitivity
    reducing them to figures) holds only those in flight.

    ``reduce(task, replication)``, a module-level function (it travels to the workers by
    name), runs where the replication ran, and ``done`` gets what it returns: a study that
    needs a few figures of each run ships those back, not the replication's 16 MiB (at GB
    scale, some 40 ms of pickling and copying a run, and the parent's CPU besides).

    A study too large for this machine's memory is refused before any task starts
    (:class:`~sim.population.memory.StudyTooLarge`).
    """
    parallel = 1 if dask_address else min(workers or os.cpu_count() or 1, max(1, len(tasks)))
    check_memory(tasks, parallel, available_bytes() + held_bytes())  # kept workers reuse what they hold
    if any(task.engine == "numba" for task in tasks):
        from sim.population import fast

        for task in tasks:
            if task.engine == "numba":
                fast.check(task.params, task.policy)
    bar = progress_bar(len(tasks), "replications", unit="run", quiet=not progress)

    def finish(i: int, result: Any) -> None:
        done(i, result)
        bar.update()

    batches = _batches(tasks)
    run = partial(_run, reduce=reduce)
    try:
        if dask_address:
            _on_dask(tasks, batches, dask_address, run, finish)
        elif (workers or os.cpu_count() or 1) <= 1 or len(batches) <= 1:
            for batch in batches:
                for i, result in zip(batch, run([tasks[i] for i in batch]), strict=True):
                    finish(i, result)
        else:
            run_on_pool(run, [([tasks[i] for i in batch], batch) for batch in batches],
                        min(workers or os.cpu_count() or 1, len(batches)), finish)
    finally:
        bar.close()


def _on_dask(tasks: Sequence[Task], batches: list[list[int]], address: str,
             run: Callable[[Sequence[Task]], list[Any]], finish: Callable[[int, Any], None]) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address, set_as_default=False, timeout="20s") as client:
        futures = client.map(run, [[tasks[i] for i in batch] for batch in batches], pure=False)
        index = {future.key: batch for future, batch in zip(futures, batches, strict=True)}
        finished = dask_completed(futures, loop=client.loop)
        del futures  # each result is released from the cluster once handed over
        for future in finished:
            for i, result in zip(index[future.key], future.result(), strict=True):
                finish(i, result)
            future.release()
