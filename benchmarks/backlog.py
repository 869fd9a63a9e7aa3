"""Population engine speed and memory, printed from one run (targets from issue 17).

1. GB scale: 1,000,000 install-and-leave meters (history run and run), 5 simulated
   years, email-10wd, one replication, one core, in a fresh process: CPU time and peak
   memory of hansim's numba engine, beside a minimal numba loop doing as many events
   with as many meters waiting (a binary heap of due times, one exponential draw per
   event: the floor for this event count). hansim's time covers both of its event runs
   (the history before the epoch and the run), so the loop does both runs' events: the
   run's with the run's mean backlog waiting, the history's with half the backlog it
   leaves at the epoch waiting (it grows from none). The ratio against the run's events
   alone (the loop doing about 60% of hansim's events) is printed too. Targets: hansim
   CPU <= 1.5 x the loop's, peak memory <= 1 GiB. The SimPy reference engine's CPU time
   is printed for scale.
2. 3M and 10M sites: CPU time per meter stays flat.
3. 8 replications at GB scale on 1 worker versus 2 (target >= 1.9 x faster with 2).
4. The projected wall time of 1,000 replications x 5 policies at GB scale on this
   machine's cores (target <= 30 min): the CPU time of one seed's five policies run
   together as the study runs them (history and premises sampled once,
   ``sim.population.fast.run_policies``), times 1,000, over the cores at the speed-up
   measured in 3.

Usage: PYTHONPATH=. python3 benchmarks/backlog.py [--quick] [--sites N] [--simpy]
``--quick`` runs small sizes as a smoke test (its figures are not the targets'). Figures
depend on the machine and on whatever else runs on it: say so when quoting. CPU times are
``time.process_time`` in the process that ran the work, so other load skews them less
than wall times; the worker speed-up is wall time, and needs two idle cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from numba import njit

from sim.policies import POLICIES, make_policy
from sim.population import fast
from sim.population.model import run_replication
from sim.population.params import PopulationParams
from sim.population.runner import Task, replication_seeds, run_tasks


def _measure(sites: int, years: float, policy: str, engine: str) -> dict[str, float]:
    """One replication in this (fresh) process: CPU s, peak RSS over the warmed-up baseline."""
    warm = PopulationParams(sites=1000, years=1.0)
    run_replication(warm, make_policy(policy), np.random.SeedSequence(1), engine)  # compile / load
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    params = PopulationParams(sites=sites, years=years)
    cpu = time.process_time()
    rep = run_replication(params, make_policy(policy), np.random.SeedSequence(2026), engine)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    live = float(rep.site_days[:, -1].sum() / params.days)
    history_events = int(fast.at_epoch(params, np.random.SeedSequence(2026))[3][0])  # untimed: its count
    return {"cpu": cpu, "peak": peak, "base": base, "events": rep.events, "live": live,
            "installed": rep.installed, "historic": rep.historic, "history_events": history_events}


def _measure_policies(sites: int, years: float) -> float:
    """CPU seconds of one seed's replications under every policy, run as a study runs them."""
    warm = PopulationParams(sites=1000, years=1.0)
    policies = [make_policy(name) for name in POLICIES]
    fast.run_policies(warm, policies, np.random.SeedSequence(1))  # compile / load
    cpu = time.process_time()
    fast.run_policies(PopulationParams(sites=sites, years=years), policies, np.random.SeedSequence(2026))
    return time.process_time() - cpu


def fresh(sites: int, years: float, policy: str = "email-10wd", engine: str = "numba") -> dict[str, float]:
    """:func:`_measure` in a new process, so peak memory is this run's alone."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure, sites, years, policy, engine).result()


def fresh_policies(sites: int, years: float) -> float:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure_policies, sites, years).result()


@njit(cache=True)
def _floor_loop(live: int, events: int, mean: float, seed: int) -> float:
    """``events`` pops and pushes on a binary heap of ``live`` due times (the floor)."""
    np.random.seed(seed)
    heap = np.random.exponential(mean, live)
    heap.sort()  # a sorted array is a valid heap
    now = 0.0
    for _ in range(events):
        now = heap[0]
        t = now + np.random.exponential(mean)
        pos, n = 0, live
        while True:  # sift the new time down from the root
            child = 2 * pos + 1
            if child >= n:
                break
            if child + 1 < n and heap[child + 1] < heap[child]:
                child += 1
            if heap[child] >= t:
                break
            heap[pos] = heap[child]
            pos = child
        heap[pos] = t
    return now


def floor_cpu(live: int, events: int) -> float:
    _floor_loop(10, 10, 1.0, 1)  # compile / load
    cpu = time.process_time()
    _floor_loop(max(1, live), events, float(live), 7)
    return time.process_time() - cpu


def workers(sites: int, years: float, replications: int = 8) -> list[tuple[float, float]]:
    """(wall seconds, cores busy on average) for 1 and 2 workers."""
    params = PopulationParams(sites=sites, years=years)
    tasks = [Task(params, make_policy("email-10wd"), s) for s in replication_seeds(7, replications)]
    run_tasks(tasks[:2], workers=2, progress=False)  # every worker's numba cache warm
    figures = []
    for n in (1, 2):
        start, cpu = time.perf_counter(), _cpu_seconds()
        run_tasks(tasks, workers=n, progress=False)
        wall = time.perf_counter() - start
        figures.append((wall, (_cpu_seconds() - cpu) / wall))
    return figures


def load() -> str:
    """The machine's 1-minute load average, to quote beside each figure."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1_000_000, help="GB-scale sites (1,000,000)")
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--large", type=int, nargs="+", default=[3_000_000, 10_000_000],
                    help="larger runs for time per meter")
    ap.add_argument("--simpy", action="store_true", help="also time the SimPy reference engine at GB scale")
    ap.add_argument("--quick", action="store_true", help="smoke test: small sizes, figures not the targets'")
    args = ap.parse_args()
    if args.quick:
        args.sites, args.large = 20_000, [40_000, 80_000]
    gib = 2**30

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    gb = fresh(args.sites, args.years)
    floor_run = floor_cpu(int(round(gb["live"])), int(gb["events"]))
    floor_history = floor_cpu(int(gb["historic"]) // 2, int(gb["history_events"]))
    floor = floor_run + floor_history
    print(f"1. GB-scale run: {args.sites:,} I&L meters (history run included), {args.years:g} years, "
          f"email-10wd, 1 replication, 1 core, numba engine ({load()})")
    print(f"   {gb['history_events']:,} domain events in the history ({gb['historic']:,} meters left at the "
          f"epoch), {gb['events']:,} in the run ({gb['live']:,.0f} meters waiting on average)")
    print(f"   hansim CPU      {gb['cpu']:7.2f} s   (sampling, history run, run, results)")
    print(f"   minimal loop    {floor:7.2f} s   (numba heap, the same events: history {floor_history:.2f} s, "
          f"run {floor_run:.2f} s)")
    print(f"   ratio           {gb['cpu'] / floor:7.2f}     (target <= 1.5)")
    print(f"   ratio to the run's events alone {gb['cpu'] / floor_run:.2f} (the loop skipping the history)")
    print(f"   peak memory     {gb['peak'] / 2**20:7.0f} MiB (target <= 1024 MiB; whole process, ru_maxrss; "
          f"{(gb['peak'] - gb['base']) / args.sites:.0f} B a site over the warmed-up "
          f"{gb['base'] / 2**20:.0f} MiB)")
    if args.simpy:
        ref = fresh(args.sites, args.years, engine="simpy")
        print(f"   SimPy reference {ref['cpu']:7.2f} s CPU, {ref['peak'] / 2**20:.0f} MiB "
              f"({ref['cpu'] / gb['cpu']:.1f} x the numba engine)")

    print(f"2. Time per meter as the run grows (numba engine, email-10wd, 1 core; {load()}):")
    print(f"   {args.sites:>12,} sites {gb['cpu']:7.2f} s CPU {gb['cpu'] / args.sites * 1e6:6.2f} µs a site "
          f"{gb['peak'] / gib:5.2f} GiB")
    for sites in args.large:
        big = fresh(sites, args.years)
        print(f"   {sites:>12,} sites {big['cpu']:7.2f} s CPU {big['cpu'] / sites * 1e6:6.2f} µs a site "
              f"{big['peak'] / gib:5.2f} GiB  ({big['cpu'] / sites / (gb['cpu'] / args.sites):.2f} x "
              "the GB run's per site)")

    (one, one_cores), (two, two_cores) = workers(args.sites, args.years)
    speedup = one / two
    print(f"3. 8 replications of {args.sites:,} sites, {args.years:g} years ({load()}):")
    print(f"   1 worker {one:7.1f} s, 2 workers {two:7.1f} s, speed-up {speedup:4.2f}x (target >= 1.9x)")
    print(f"   cores busy on average: {one_cores:.2f} with 1 worker, {two_cores:.2f} with 2 "
          "(below 2 means the machine did not give us two cores)")

    print(f"4. Projected: 1,000 replications x {len(POLICIES)} policies at {args.sites:,} sites ({load()}):")
    seed_cpu = fresh_policies(args.sites, args.years)
    print(f"   one seed's {len(POLICIES)} policies together: {seed_cpu:6.2f} s CPU, "
          f"{seed_cpu / len(POLICIES):.2f} s a replication (email-10wd alone: {gb['cpu']:.2f} s)")
    total = seed_cpu * 1000
    cores = min(2, os.cpu_count() or 1)
    wall = total / (speedup if cores > 1 else 1.0)
    print(f"   {total / 60:.1f} CPU-minutes; on {cores} cores at the measured {speedup:.2f}x: "
          f"{wall / 60:.1f} min (target <= 30 min); at a full 2.0x: {total / 2 / 60:.1f} min")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other load skews wall times)")


if __name__ == "__main__":
    main()
