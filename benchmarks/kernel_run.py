"""``kernel.run`` alone: the numba population engine's event loop, without sampling,
packing or summarising around it (issue 17's kernel rounds).

At the given sizes (5 years, email-10wd, seed 2026) it times the history run and the main
run, each best of ``--reps`` CPU seconds, restoring the meters before each, and prints the
events and nanoseconds an event. To compare two versions of the kernel, copy each tree's
packages into a folder and alternate ``PYTHONPATH=<folder>`` runs of this script: the
machine's load moves the figures more than most changes do.

Usage: PYTHONPATH=. python3 benchmarks/kernel_run.py [--sites 200000,1000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from sim.policies import NoProcess, make_policy
from sim.population import fast
from sim.population.params import PopulationParams


def _best(reps: int, meters: fast._Meters, rows: np.ndarray, saved: tuple[np.ndarray, ...],
          run: fast._Run, order: np.ndarray, resume: np.ndarray, policy_name: str) -> tuple[float, int]:
    """Best CPU seconds of ``reps`` runs from the same meters, and the events a run."""
    times, events = [], 0
    for _ in range(reps):
        meters.restore(rows, saved)
        policy = NoProcess() if policy_name == "none" else make_policy(policy_name)
        start = time.process_time()
        counts = run.run(meters, order, resume, policy)[0]
        times.append(time.process_time() - start)
        events = int(counts[0])
    return min(times), events


def time_kernel(sites: int, reps: int) -> str:
    params = PopulationParams(sites=sites, years=5.0)
    seed = np.random.SeedSequence(2026)
    history_seed, run_seed = (np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, j)) for j in (0, 1))
    epoch = dt.date.fromisoformat(params.epoch)
    history_days = int(round(params.historic_years * 365.25))
    history = fast._Run(params, history_seed, epoch - dt.timedelta(days=history_days), history_days, record=False)
    main = fast._Run(params, run_seed, epoch, params.days, record=True)
    meters = fast._Meters(history.new_meters(params.historic_sites, (1.0,)),
                          main.new_meters(params.sites - params.historic_sites, params.install_profile))
    old = slice(0, meters.first_new)
    everyone = np.arange(meters.M.size)
    history_s, history_events = _best(reps, meters, everyone, meters.state(everyone), history,
                                      meters.order(old), np.zeros(0, np.int64), "none")
    survivors = meters.settle(meters.open(old))
    meters.shift(survivors, -history_days * fast.DAY)
    order = meters.order(slice(meters.first_new, meters.M.size))
    everyone = np.arange(meters.M.size)
    run_s, run_events = _best(reps, meters, everyone, meters.state(everyone), main, order, survivors, "email-10wd")
    total = history_s + run_s
    per_event = 1e9 * total / (history_events + run_events)
    return (f"sites {sites:,}: history {history_s:.3f} s ({history_events:,} events), run {run_s:.3f} s "
            f"({run_events:,} events), total {total:.3f} s; {per_event:.0f} ns an event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="200000,1000000", help="comma-separated sizes")
    parser.add_argument("--reps", type=int, default=3, help="runs a size, best kept")
    args = parser.parse_args()
    # compile (or load numba's cache) before timing
    fast.run_policies(PopulationParams(sites=1000, years=1.0), [make_policy("email-10wd")], np.random.SeedSequence(1))
    for sites in (int(s) for s in args.sites.split(",")):
        print(time_kernel(sites, args.reps), flush=True)


if __name__ == "__main__":
    main()
