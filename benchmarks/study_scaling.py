"""Scaling of a study (calibration or sensitivity) on a Dask LocalCluster, and what a
100,000-run study needs (issue 17, item 5).

The same batch of study runs (parameter points x regimes x replications, common random
numbers) runs on a LocalCluster of 1 worker process, then of 2, ...; it prints runs a
second, the speed-up over 1 worker, the parallel efficiency, and checks that every
cluster size gives the same figures bit for bit. It then times one GB-scale run
(1,000,000 sites, 5 years, email-10wd, the default engine) in this process and, from its
CPU seconds, estimates the worker cores a 100,000-run study needs.

Usage: PYTHONPATH=. python3 benchmarks/study_scaling.py [--sites N] [--points N] [--workers 1,2]
Figures depend on the machine and on whatever else runs on it: say so when quoting.
"""

from __future__ import annotations

import argparse
import logging
import math
import time

import numpy as np

from sim.policies import make_policy
from sim.population.memory import BASELINE_BYTES, BYTES_PER_SITE
from sim.population.model import DEFAULT_ENGINE, run_replication
from sim.population.params import PopulationParams
from sim.population.sensitivity import points_of, sample
from sim.population.study import Range, Study, evaluate

ENGINE_TARGET_CPU_S = 0.7  # issue 17: the compiled engine's target a run at GB scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--points", type=int, default=4, help="Morris trajectories (points = r (D + 1))")
    parser.add_argument("--workers", default="1,2", help="cluster sizes to measure, comma-separated")
    parser.add_argument("--study-runs", type=int, default=100_000, help="the study to size a cluster for")
    parser.add_argument("--hours", type=float, default=1.0, help="wanted wall time of that study")
    parser.add_argument("--gb-sites", type=int, default=1_000_000, help="sites of the GB-scale run timed")
    args = parser.parse_args()
    from distributed import LocalCluster

    study = Study(PopulationParams(sites=args.sites, years=args.years), ("none", "email-10wd"), 1, 1)
    ranges = [Range("install_and_leave_fraction", 0.02, 0.12), Range("rules.p_replace", 0.2, 0.8)]
    points = points_of(ranges, sample("morris", ranges, args.points, 1))
    runs = len(points) * len(study.policies)
    print(f"{runs} runs of {args.sites:,} sites x {args.years:g} years ({len(points)} points x 2 regimes)")

    t0, c0 = time.perf_counter(), time.process_time()
    reference = evaluate(study, points, workers=1)
    serial = time.perf_counter() - t0
    cpu_per_run = (time.process_time() - c0) / runs
    print(f"in-process, 1 core: {serial:.1f} s wall, {cpu_per_run:.2f} CPU s a run")
    for n in (int(w) for w in args.workers.split(",")):
        # silence_logs: a worker's heartbeat can outlive the scheduler as the cluster closes,
        # and Dask logs that race as an ERROR with a traceback; the runs' own errors still
        # reach us through their futures.
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster:
            t0 = time.perf_counter()
            got = evaluate(study, points, dask_address=cluster.scheduler_address)
            wall = time.perf_counter() - t0
        same = np.array_equal(got, reference)
        print(f"LocalCluster {n} worker(s): {wall:.1f} s, {runs / wall:.2f} runs/s, speed-up over in-process "
              f"{serial / wall:.2f}x, efficiency {serial / wall / n:.0%}, same bits as in-process: {same}")

    per_run_gib = (BASELINE_BYTES + args.gb_sites * BYTES_PER_SITE[DEFAULT_ENGINE]) / 2**30
    gb_cpu = gb_run_cpu(args.gb_sites)
    for label, cpu in ((f"one {args.gb_sites:,}-site run of the {DEFAULT_ENGINE} engine, timed here", gb_cpu),
                       ("issue 17's compiled-engine target", ENGINE_TARGET_CPU_S)):
        cores = math.ceil(args.study_runs * cpu / (args.hours * 3600))
        print(f"{args.study_runs:,} runs at GB scale in {args.hours:g} h, {cpu:.2f} CPU s a run ({label}): "
              f"~{cores:,} worker cores, ~{per_run_gib:.1f} GiB each")


def gb_run_cpu(sites: int) -> float:
    """CPU seconds of one 5-year email-10wd run of ``sites`` (the engine loaded first)."""
    run_replication(PopulationParams(sites=1000, years=1.0), make_policy("email-10wd"), np.random.SeedSequence(1))
    cpu = time.process_time()
    run_replication(PopulationParams(sites=sites, years=5.0), make_policy("email-10wd"), np.random.SeedSequence(2026))
    return time.process_time() - cpu

if __name__ == "__main__":
    main()
