"""Replications on disk, one file each, so that a killed sweep resumes where it stopped.

A run's folder name is a hash of everything that decides its result (all parameters,
the policy and its parameters, the seed): a changed sweep file never reuses stale runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from sim.output import atomic_write
from sim.policies import Policy
from sim.population.model import Replication
from sim.population.params import PopulationParams, as_dict
from sim.population.runner import Task


def run_key(params: PopulationParams, policy: Policy, seed: int, engine: str = "numba") -> str:
    spec = {"params": as_dict(params), "policy": policy.name, "policy_params": policy.params(), "seed": seed,
            "engine": engine}  # the engines agree in distribution, not bit for bit
    text = json.dumps(spec, sort_keys=True, default=list)
    return f"{policy.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def replication_path(folder: Path, index: int) -> Path:
    return folder / f"rep-{index:04d}.npz"


def replication_file(runs: Path, task: Task) -> Path:
    """Where a sweep keeps ``task``'s replication under its ``runs`` folder: the run's folder
    (:func:`run_key`, with the sweep's seed) and the replication's number, both read off the
    task's seed (replication k of ``SeedSequence(seed)``), so a worker finds the file
    from the task alone."""
    seed = task.seed
    if len(seed.spawn_key) != 1 or not isinstance(seed.entropy, int):
        raise ValueError(f"not a sweep's replication seed (replication k of SeedSequence(seed)): {seed}")
    return replication_path(runs / run_key(task.params, task.policy, seed.entropy, task.engine), seed.spawn_key[0])


def save(path: Path, rep: Replication) -> None:
    data = io.BytesIO()
    # Any: numpy's stub lets the ** arrays fill its keyword-only allow_pickle: bool too.
    arrays: dict[str, Any] = {k: np.asarray(v) for k, v in dataclasses.asdict(rep).items()}
    np.savez(data, **arrays)
    atomic_write(path, data.getvalue(), parents=True)  # the run's own folder


def saved(runs: Path, task: Task, rep: Replication) -> Path:
    """``rep`` saved to its :func:`replication_file`: a sweep's reduction (``each_result``'s
    ``reduce``, as ``partial(saved, runs)``), so a local worker writes its own
    replication's file instead of pickling 16 MiB to the parent, which would then save it
    while the workers wait for the cores it takes."""
    path = replication_file(runs, task)
    save(path, rep)
    return path


def load(path: Path) -> Replication:
    with np.load(path) as data:
        values = {}
        for field in dataclasses.fields(Replication):
            value = data[field.name]
            values[field.name] = value if value.ndim else value.item()
    return Replication(**values)
