"""Freed memory kept (sim/population/allocator.py) against glibc's default, side by side.

Each measurement runs in a fresh process, as a `hansim backlog` run does, alternating the
two settings (``HANSIM_KEEP_FREED_MEMORY=0`` turns the setting off):

- a GB replication (1,000,000 sites, 5 years, email-10wd) run twice in one process, as
  ``benchmarks/backlog.py`` section 1 runs it: the first's CPU and the warm one's, with the
  kernel's share (page faults);
- a study of ``--seeds`` seeds x 5 regimes at GB scale as `hansim backlog` runs it (each
  seed's regimes batched, each replication reduced to its digest in its worker), on 1 and
  on 2 workers: wall time, and the two-worker speed-up under each setting;
- the peak memory of the replication process.

Usage: PYTHONPATH=. python3 benchmarks/allocator.py [--sites N] [--seeds N] [--repeats N]
Figures depend on the machine and on whatever else runs on it: say so when quoting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

POLICIES = ("none", "email-10wd", "email-5wd", "ssi-5wd", "smi-codes")


def child(kind: str, sites: int, seeds: int, workers: int) -> dict[str, float]:
    """One measurement in this (fresh) process."""
    from benchmarks.backlog import measure_here
    from sim.policies import make_policy
    from sim.population.digest import digest_of
    from sim.population.params import PopulationParams
    from sim.population.runner import Task, replication_seeds, run_tasks

    if kind == "replication":
        got = measure_here(sites, 5.0, "email-10wd", "numba", twice=True)
        return {key: got[key] for key in ("cpu", "system", "warm", "warm_system", "peak")}
    params = PopulationParams(sites=sites, years=5.0)
    run_tasks([Task(PopulationParams(sites=1000, years=1.0), make_policy("email-10wd"), replication_seeds(1, 1)[0])],
              workers=1, progress=False)  # numba's cache loaded, as a command does before its runs
    tasks = [Task(params, make_policy(p), s) for s in replication_seeds(7, seeds) for p in POLICIES]
    start = time.perf_counter()
    run_tasks(tasks, workers=workers, progress=False, reduce=digest_of)
    return {"wall": time.perf_counter() - start}


def measure(kept: bool, *args: object) -> dict[str, float]:
    env = {**os.environ, "HANSIM_KEEP_FREED_MEMORY": "1" if kept else "0"}
    run = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=10, help="seeds of the study (x 5 regimes)")
    ap.add_argument("--repeats", type=int, default=3, help="alternations of the two settings")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    for name in ("sites", "seeds", "repeats"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} {getattr(args, name)}: at least 1")
    if args.child:
        kind, sites, seeds, workers = args.child
        print(json.dumps(child(kind, int(sites), int(seeds), int(workers))))
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    results: dict[bool, dict[str, list[dict[str, float]]]] = {True: {}, False: {}}
    for _ in range(args.repeats):
        for kept in (True, False):
            for name, kind, workers in (("replication", "replication", 1), ("study 1", "study", 1),
                                        ("study 2", "study", 2)):
                got = measure(kept, kind, args.sites, args.seeds, workers)
                results[kept].setdefault(name, []).append(got)

    def med(kept: bool, name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kept][name])

    def spread(kept: bool, name: str, key: str) -> str:
        values = [r[key] for r in results[kept][name]]
        return f"[{min(values):.2f}, {max(values):.2f}]"

    print(f"medians of {args.repeats} fresh processes a setting, alternated; [lowest, highest]")
    print(f"{'':48} {'kept':>22} {'unmapped (default)':>22}  unmapped / kept")
    rows = [(f"replication at {args.sites:,} sites, first run, CPU s", "replication", "cpu"),
            ("  of it system s", "replication", "system"),
            (f"replication at {args.sites:,} sites, warm, CPU s", "replication", "warm"),
            ("  of it system s", "replication", "warm_system"),
            (f"study {args.seeds} x 5 at {args.sites:,} sites, 1 worker, s", "study 1", "wall"),
            (f"study {args.seeds} x 5 at {args.sites:,} sites, 2 workers, s", "study 2", "wall")]
    for label, name, key in rows:
        kept, unmapped = med(True, name, key), med(False, name, key)
        ratio = f"{unmapped / kept:.2f}x" if kept > 0.005 else "-"
        print(f"{label:48} {kept:8.2f} {spread(True, name, key):>13} {unmapped:8.2f} {spread(False, name, key):>13}"
              f"  {ratio}")
    for kept in (True, False):
        print(f"two workers against one, {'kept' if kept else 'unmapped'}: "
              f"{med(kept, 'study 1', 'wall') / med(kept, 'study 2', 'wall'):.2f}x")
    print(f"peak memory of the replication process: kept {med(True, 'replication', 'peak') / 2**20:.0f} MiB, "
          f"unmapped {med(False, 'replication', 'peak') / 2**20:.0f} MiB")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other load skews wall times)")


if __name__ == "__main__":
    main()
