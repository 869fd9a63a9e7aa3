"""Population model speed and memory, printed from one run (targets from issue 6).

1. GB scale: 1,000,000 install-and-leave meters (history run and run), 5 simulated
   years, email-10wd, one replication, one core: wall time and peak memory (targets
   <= 60 s, <= 2 GiB), and the per-meter model's events (gains, install-code messages,
   escalations, replacements).
2. Domain events per second beside the raw SimPy timeout rate with as many live
   processes as the GB run's mean live sites, measured one after the other (target:
   domain rate >= half the raw rate).
3. 8 replications on 1 worker versus 2 (target: >= 1.8 x faster with 2).

Usage: PYTHONPATH=. python3 benchmarks/backlog.py [--sites N] [--scaling-sites N]
Figures depend on the machine and on whatever else runs on it: say so when quoting.
Event rates are per CPU second (``time.process_time``) so that other load on the
machine skews the side-by-side comparison less; wall times are wall times.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import simpy

from sim.policies import make_policy
from sim.population.model import Replication, run_replication
from sim.population.params import PopulationParams
from sim.population.runner import Task, replication_seeds, run_tasks


def gb_run(sites: int, years: float) -> tuple[float, float, Replication, float, float]:
    """Wall seconds, CPU seconds, the replication, mean live meters, GB meters per modelled."""
    params = PopulationParams(sites=sites, years=years)
    start, cpu = time.perf_counter(), time.process_time()
    rep = run_replication(params, make_policy("email-10wd"), np.random.SeedSequence(2026))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, cpu, rep, rep.site_days[:, -1].sum() / params.days, params.gb_factor


def raw_simpy_rate(processes: int, events: int) -> float:
    """Timeouts per CPU second with ``processes`` live processes, each waiting in a loop."""
    env = simpy.Environment()
    rng = np.random.default_rng(1)
    delays = rng.exponential(float(processes), events + processes).tolist()

    def waiter(env: simpy.Environment, mine: list[float]):
        for delay in mine:
            yield env.timeout(delay)

    per = events // processes + 1
    for i in range(processes):
        env.process(waiter(env, delays[i * per:(i + 1) * per]))
    start = time.process_time()
    env.run()
    return processes * per / (time.process_time() - start)


def scaling(sites: int, years: float, replications: int = 8) -> list[tuple[float, float]]:
    """(wall seconds, cores busy on average) for 1 and 2 workers."""
    params = PopulationParams(sites=sites, years=years)
    tasks = [Task(params, make_policy("email-10wd"), s) for s in replication_seeds(7, replications)]
    figures = []
    for workers in (1, 2):
        start, cpu = time.perf_counter(), _cpu_seconds()
        run_tasks(tasks, workers=workers, progress=False)
        wall = time.perf_counter() - start
        figures.append((wall, (_cpu_seconds() - cpu) / wall))
    return figures


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--scaling-sites", type=int, default=100_000)
    args = ap.parse_args()

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    wall, cpu, rep, live, gb = gb_run(args.sites, args.years)
    events, direct = rep.events, rep.direct_events
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"GB-scale run: {args.sites:,} I&L meters (history run included), {args.years:g} years, "
          "email-10wd, 1 replication, 1 core")
    print(f"  wall time      {wall:8.1f} s     (target <= 60 s; CPU time {cpu:.1f} s)")
    print(f"  peak memory    {peak_mib:8.0f} MiB   (target <= 2048 MiB; whole process, ru_maxrss)")
    domain_rate = events / cpu
    raw_rate = raw_simpy_rate(max(1, int(round(live))), min(events, 3_000_000))
    print(f"Events: {events:,} domain events (the run; the history run's are in the time only), "
          f"{live:,.0f} live meters on average")
    print(f"  of which, GB-scaled: {rep.gain_days.size * gb:,.0f} uncommissioned gains, "
          f"{rep.requests * gb:,.0f} install-code messages, {rep.escalations * gb:,.0f} escalations, "
          f"{rep.replaced * gb:,.0f} replacements; {rep.historic * gb:,.0f} meters uncommissioned at the epoch")
    print(f"  domain events/s   {domain_rate:12,.0f}  (per CPU second, whole replication: sampling, SimPy, results)")
    print(f"  raw SimPy timeouts/s {raw_rate:9,.0f}  (per CPU second, {int(round(live)):,} live processes)")
    print(f"  ratio            {domain_rate / raw_rate:8.2f}    (target >= 0.5)")
    print(f"  {direct:,} of the domain events (commissioning done) skip SimPy's queue; counting "
          f"only the others: {(events - direct) / cpu:,.0f}/s, ratio {(events - direct) / cpu / raw_rate:.2f}")
    (one, one_cores), (two, two_cores) = scaling(args.scaling_sites, args.years)
    print(f"8 replications of {args.scaling_sites:,} sites, {args.years:g} years:")
    print(f"  1 worker {one:7.1f} s, 2 workers {two:7.1f} s, speed-up {one / two:4.2f}x (target >= 1.8x)")
    print(f"  cores busy on average: {one_cores:.2f} with 1 worker, {two_cores:.2f} with 2 "
          "(below 2 means the machine did not give us two cores)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other load skews wall times)")


if __name__ == "__main__":
    main()
