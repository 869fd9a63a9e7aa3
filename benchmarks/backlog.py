"""Population engine speed and memory, printed from one run (targets from issue 17).

1. GB scale: 1,000,000 install-and-leave meters (history run and run), 5 simulated
   years, email-10wd, one replication, one core, in a fresh process (the median of three
   such processes, and of three of the loop's runs: one run's figure moves by 10 to 20%
   with the machine's load, and was quoted as a range across benchmark runs): CPU time and peak
   memory of hansim's numba engine, beside a minimal numba loop doing as many events
   with as many meters waiting (a binary heap of due times, one exponential draw per
   event: the floor for this event count). hansim's time covers both of its event runs
   (the history before the epoch and the run), so the loop does both runs' events: the
   run's with the run's mean backlog waiting, the history's with half the backlog it
   leaves at the epoch waiting (it grows from none). The ratio against the run's events
   alone (the loop doing about 60% of hansim's events) is printed too. Targets: hansim
   CPU <= 1.5 x the loop's, peak memory <= 1 GiB. The SimPy reference engine's CPU time
   is printed for scale. Beside them, what writing as much new memory as the run grows
   by costs a new process, and again in that process at once and after a few seconds
   idle: the part of a cold run that is the machine's, not hansim's (a VM that hands
   freed pages back to its host, as this Firecracker guest's free page reporting does
   within about a second, charges for each page a process touches first).
2. 3M and 10M sites: CPU time per meter stays flat, cold and warm, each size the median
   of as many fresh processes as section 1's (a single cold run's time moved by half with
   the machine's first touch of its memory); beside it, the minimal loop's time per meter
   at each size's events (its heap outgrows the caches too).
   The GB run is timed twice in its process: the first run (cold: the process's first
   touch of its pages, which the kernel must find and zero) and the next (warm, as every
   later replication of a study's worker runs).
3. 8 replications at GB scale on 1 worker versus 2 (target >= 1.9 x faster with 2): with
   whole replications pickled back to the parent (as the Python API's ``backlog()``) and
   each reduced to its digest in its worker (as ``hansim backlog``, calibration and
   sensitivity), the one worker being this process, whose memory is already in use,
   while the two are new; and the minimal loop's 8 runs on 1 versus 2 worker processes:
   what this machine allows. Then three pairs alternated, so that each of hansim's is set
   against the loop's beside it (this virtual machine's speed-up moved from 1.26x to
   2.23x between pairs minutes apart; hansim's over the loop's is what hansim itself
   gains or loses): hansim with each side in a new process, as two ``hansim backlog``
   commands run (both sides pay their memory's first touch once); hansim with the two
   workers kept from one alternation to the next (``kept_workers``: calibration's
   generations, a notebook's studies), so that both sides are warm after the first; and
   the loop with a 64-byte record a meter, one read and written each event, over as much
   memory as the GB run adds, its workers forked for each side (memory-bound, as
   hansim's events are: the plain loop's heap fits the L2 cache, so it shows none of what
   two processes sharing the L3 cache and memory cost each other). Each pair is timed
   back to back, three times: medians, and the range. CPU seconds a replication with 1
   and with 2 workers show what two processes cost each other; each replication's CPU,
   timed inside the process that ran it, shows what a fresh worker's first replication
   costs over its later ones (its first touch of some 140 MiB of memory).
4. 1,000 replications x 5 policies at GB scale (target <= 30 min), measured as a study
   runs them: a few seeds' tasks through the runner (``run_tasks``: one seed's five
   policies batched into one worker task, history and premises sampled once, each
   replication's digest sent back to the parent) on this machine's cores, scaled to
   1,000 seeds. Each
   worker's first seed is cold (its first touch of some 200 MB of pages), which a
   1,000-seed study pays twice; so 10 seeds by default (with 4, half of them were cold,
   and the estimate came out some 8% high). Then the time outside the replications:
   ``hansim backlog``'s summaries, tables and plots (``write_outputs``, once all have
   run); the same tasks as ``hansim calibrate`` and ``hansim sensitivity`` run them, each
   replication reduced to its figures in its worker; and as ``hansim sweep`` runs them on
   local workers, each saving its own replications' files. The same study on 1 worker
   gives section 3's speed-up at a study's scale.

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
import pickle
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from numba import njit

from sim.policies import POLICIES, make_policy
from sim.population import fast
from sim.population.memory import available_bytes
from sim.population.model import Replication, run_replication
from sim.population.params import PopulationParams
from sim.population.pool import kept_workers
from sim.population.runner import Task, each_result, replication_seeds, run_tasks

T = TypeVar("T")


def measure_here(sites: int, years: float, policy: str, engine: str, twice: bool) -> dict[str, float]:
    """One replication in this (fresh) process: CPU s (and of it system s, the kernel's),
    peak RSS over the warmed-up baseline; ``twice``: the same run again (warm)."""
    warm = PopulationParams(sites=1000, years=1.0)
    run_replication(warm, make_policy(policy), np.random.SeedSequence(1), engine)  # compile / load
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    params = PopulationParams(sites=sites, years=years)
    def one_run() -> Replication:
        return run_replication(params, make_policy(policy), np.random.SeedSequence(2026), engine)

    rep, cpu, system = _cpu_of(one_run)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    again = again_system = float("nan")
    if twice:
        del rep
        rep, again, again_system = _cpu_of(one_run)
    live = float(rep.site_days[:, -1].sum() / params.days)
    history_events = int(fast.at_epoch(params, np.random.SeedSequence(2026))[3][0])  # untimed: its count
    return {"cpu": cpu, "system": system, "warm": again, "warm_system": again_system,
            "peak": peak, "base": base, "events": rep.events, "live": live,
            "installed": rep.installed, "historic": rep.historic, "history_events": history_events}


def fresh(sites: int, years: float, policy: str = "email-10wd", engine: str = "numba",
          twice: bool = False) -> dict[str, float]:
    """:func:`measure_here` in a new process, so peak memory is this run's alone."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure_here, sites, years, policy, engine, twice).result()


#: Seconds a process waits before writing freed memory again in :func:`first_touch`: a
#: guest with free page reporting (this Firecracker VM: dmesg "Free page reporting
#: enabled") hands free memory back to its host within about a second.
IDLE_SECONDS = 3.0


def first_touch(nbytes: int) -> tuple[float, float, float, float]:
    """(CPU s, of it system s; CPU s again at once; CPU s again after :data:`IDLE_SECONDS`)
    of writing ``nbytes`` of new memory in a new process, then twice more in that process,
    each after freeing it: what this machine charges a process for memory, apart from any
    simulation. Freed and written again at once, the memory is still the guest's; after
    a wait, a VM that reports free pages to its host pays for each again."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_first_touch, nbytes).result()


def _first_touch(nbytes: int) -> tuple[float, float, float, float]:
    def write() -> tuple[float, float]:
        return _cpu_of(partial(np.ones, nbytes, np.uint8))[1:]

    cpu, system = write()
    at_once = write()[0]
    time.sleep(IDLE_SECONDS)
    return cpu, system, at_once, write()[0]


@njit(cache=True)
def _floor_loop(live: int, events: int, mean: float, seed: int, meters: int) -> float:
    """``events`` pops and pushes on a binary heap of ``live`` due times (the floor); with
    ``meters``, each event also reads and writes a 64-byte record of a meter drawn at
    random, as hansim's events do their meter's."""
    np.random.seed(seed)
    heap = np.random.exponential(mean, live)
    heap.sort()  # a sorted array is a valid heap
    records = np.zeros((max(meters, 1), 8))
    now = 0.0
    for _ in range(events):
        now = heap[0]
        if meters:
            record = records[np.random.randint(0, meters)]
            record[0] += 1.0
            record[1] = now
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
    return now + records[0, 0]


def floor_cpu(live: int, events: int) -> float:
    _floor_loop(10, 10, 1.0, 1, 0)  # compile / load
    cpu = time.process_time()
    _floor_loop(max(1, live), events, float(live), 7, 0)
    return time.process_time() - cpu


def workers(sites: int, years: float, repeats: int, reduced: bool = False,
            replications: int = 8, kept: bool = False) -> list[list[tuple[float, float, float]]]:
    """(wall seconds, cores busy on average, CPU seconds a replication) for 1 and 2 workers,
    alternated ``repeats`` times: whole results pickled back to the parent (as the Python
    API), or ``reduced`` to their digests in the worker (as ``hansim backlog``,
    calibration and sensitivity: no 16 MiB result crossing to the parent). ``kept``: the
    two workers kept from one alternation to the next (``kept_workers``, as calibration's
    generations), as the one worker, this process, is; their CPU is not counted (a
    process's children count once they have ended), so only wall times mean anything.

    The kernel is loaded in this process first, so the forked workers inherit it and
    neither timing includes loading numba's cache."""
    from sim.population.digest import digest_of

    tasks = _loaded_tasks(sites, years, replications)

    def run(n: int) -> None:
        run_tasks(tasks, workers=n, progress=False, reduce=digest_of if reduced else None)

    with kept_workers() if kept else nullcontext():
        return [[_timed(partial(run, n), replications) for n in (1, 2)] for _ in range(repeats)]


def _loaded_tasks(sites: int, years: float, replications: int) -> list[Task]:
    """Section 3's GB replications as runner tasks, the kernel loaded in this process first
    (so forked workers inherit it and no timing includes loading numba's cache)."""
    params = PopulationParams(sites=sites, years=years)
    tasks = [Task(params, make_policy("email-10wd"), s) for s in replication_seeds(7, replications)]
    run_tasks([Task(PopulationParams(sites=1000, years=1.0), make_policy("email-10wd"), tasks[0].seed)],
              workers=1, progress=False)
    return tasks


def fresh_workers(sites: int, years: float, repeats: int,
                  replications: int = 8) -> list[list[tuple[float, float, float]]]:
    """:func:`workers` (reduced to digests) with each side in a new process, as two
    ``hansim backlog`` commands run: the 1-worker side pays its process's first touch of
    memory too, as the 2-worker side's fresh workers do (timed inside that process, after
    its imports)."""
    context = multiprocessing.get_context("spawn")
    pairs = []
    for _ in range(repeats):
        pair = []
        for n in (1, 2):
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                pair.append(pool.submit(_fresh_side, sites, years, n, replications).result())
        pairs.append(pair)
    return pairs


def _fresh_side(sites: int, years: float, n: int, replications: int) -> tuple[float, float, float]:
    from sim.population.digest import digest_of

    # A process that multiprocessing spawned defaults to spawning its own workers too (each
    # re-importing everything); a command's main process forks them on Linux.
    multiprocessing.set_start_method("fork", force=True)
    tasks = _loaded_tasks(sites, years, replications)
    return _timed(partial(run_tasks, tasks, workers=n, progress=False, reduce=digest_of), replications)


def floor_workers(live: int, events: int, repeats: int, meters: int = 0,
                  runs: int = 8) -> list[list[tuple[float, float, float]]]:
    """The minimal loop's ``runs`` runs (with a record for each of ``meters`` meters) on 1 and
    2 worker processes, forked from this process with the loop loaded, as the runner forks
    its workers; alternated ``repeats`` times."""
    _floor_loop(10, 10, 1.0, 1, 0)
    args = [(max(1, live), events, float(live), 7 + r, meters) for r in range(runs)]
    return [[_timed(partial(_floors, n, args), runs) for n in (1, 2)] for _ in range(repeats)]


def worker_replications(sites: int, years: float, workers: int, runs: int = 8) -> dict[int, list[tuple[float, float]]]:
    """(CPU s, of it system s) of each replication, measured inside the process that ran it,
    by process in the order each ran its own: ``runs`` GB replications on ``workers``
    processes forked from this one with the kernel loaded (as the runner's pool), or with 1
    worker run here, as ``run_tasks`` runs them. Shows what a fresh worker's first
    replication costs over its later ones."""
    seeds = replication_seeds(11, runs)
    params = PopulationParams(sites=sites, years=years)
    if workers <= 1:
        timed = [_replication_cpu(params, s) for s in seeds]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            timed = list(pool.map(partial(_replication_cpu, params), seeds))
    by_process: dict[int, list[tuple[float, float]]] = {}
    for pid, cpu, system in timed:
        by_process.setdefault(pid, []).append((cpu, system))
    return by_process


def _replication_cpu(params: PopulationParams, seed: np.random.SeedSequence) -> tuple[int, float, float]:
    """(process, CPU s, system CPU s) of one replication where it runs."""
    _, cpu, system = _cpu_of(partial(run_replication, params, make_policy("email-10wd"), seed))
    return os.getpid(), cpu, system


def _speedups(pairs: list[list[tuple[float, float, float]]]) -> tuple[float, str, list[float]]:
    """The median of each alternation's 1-worker over 2-worker wall time, their range, and
    the median (wall, cores busy, CPU a run) with 1 and with 2 workers."""
    ratios = [_speedup(pair) for pair in pairs]
    medians = [_median([pair[n][f] for pair in pairs]) for n in (0, 1) for f in (0, 1, 2)]
    return _median(ratios), _spread(ratios), medians


def _speedup(pair: list[tuple[float, float, float]]) -> float:
    """One alternation's 1-worker over 2-worker wall time."""
    return pair[0][0] / pair[1][0]


def _floors(workers: int, args: list[tuple[int, int, float, int, int]]) -> None:
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for _ in pool.map(_floor_run, *zip(*args, strict=True)):
            pass


def _floor_run(live: int, events: int, mean: float, seed: int, meters: int) -> float:
    """:func:`_floor_loop` in a worker. A numba dispatcher handed to a pool is pickled as its
    Python function and rebuilt, uncompiled, in each worker (about 3 s of compiling, which
    made the first pool's runs look twice as slow); a plain function goes by name, and the
    forked worker runs the loop its parent loaded."""
    return float(_floor_loop(live, events, mean, seed, meters))


def _timed(work: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(wall s, cores busy on average, CPU s a run) of ``work``, this process and its workers
    (counted once they have ended: ``work`` shuts its pool down)."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    work()
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    return wall, cpu / wall, cpu / runs


def study(sites: int, years: float, seeds: int, workers: int, folder: Path) -> dict[str, float]:
    """``seeds`` seeds x every policy at ``sites`` sites, run as ``hansim backlog`` runs them
    (the runner's batching, digests back in the parent), then its outputs; then the same
    tasks as calibration and sensitivity run them, and as a sweep saves them."""
    # imported here: matplotlib would swell the baseline of section 1's fresh processes
    from sim.output import folders_for
    from sim.population.digest import digest_of
    from sim.population.report import write_outputs
    from sim.population.store import replication_file, saved
    from sim.population.study import figures_of

    params = PopulationParams(sites=sites, years=years)
    policies = [make_policy(name) for name in POLICIES]
    run_tasks([Task(PopulationParams(sites=1000, years=1.0), policies[0], np.random.SeedSequence(1))],
              workers=1, progress=False)  # the kernel loaded before the workers fork
    seed_list = replication_seeds(2026, seeds)
    tasks = [Task(params, policy, s) for policy in policies for s in seed_list]
    start, cpu = time.perf_counter(), _cpu_seconds()
    results = run_tasks(tasks, workers=workers, progress=False, reduce=digest_of)
    runs, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    start = time.perf_counter()  # the same study on 1 worker: its speed-up at a study's scale
    run_tasks(tasks, workers=1, progress=False, reduce=digest_of)
    one = time.perf_counter() - start
    outputs: list[float] = []  # backlog's outputs for 2 seeds, then for all: a fixed cost (the plots) and one a run
    for n in (2, 2, seeds):  # the first, untimed, loads matplotlib and its fonts; 2 seeds, as all, draw CI bands
        grouped = {p.label(): (p, results[i * seeds:i * seeds + n]) for i, p in enumerate(policies)}
        start = time.perf_counter()
        write_outputs(folder / f"backlog-{len(outputs)}", params, 2026, grouped)
        outputs.append(time.perf_counter() - start)
    outputs = outputs[1:]
    per_run = max(0.0, (outputs[1] - outputs[0]) / (len(policies) * (seeds - 2)))  # below 0: within noise
    size = sum(len(pickle.dumps(r, pickle.HIGHEST_PROTOCOL)) for r in results) / len(results)
    del results, grouped
    whole = len(pickle.dumps(run_tasks(tasks[:1], workers=1, progress=False)[0], pickle.HIGHEST_PROTOCOL))
    start = time.perf_counter()  # the same tasks as hansim calibrate and sensitivity run them: figures back
    each_result(tasks, lambda i, values: None, workers=workers, progress=False, reduce=figures_of)
    reduced = time.perf_counter() - start
    start = time.perf_counter()  # the same tasks as hansim sweep runs them: each worker saves its files
    with folders_for([replication_file(folder / "sweep", t) for t in tasks]):
        each_result(tasks, lambda i, path: None, workers=workers, progress=False,
                    reduce=partial(saved, folder / "sweep"))
    sweep = time.perf_counter() - start
    return {"runs": runs, "one": one, "cpu": cpu, "outputs": outputs[1],
            "outputs_fixed": outputs[0] - 2 * len(policies) * per_run,
            "outputs_per_run": per_run, "sweep": sweep, "reduced": reduced, "replications": len(tasks),
            "bytes": size, "whole": whole, "file": replication_file(folder / "sweep", tasks[0]).stat().st_size}


def _median(values: list[float]) -> float:
    return float(np.median(values))


def _spread(values: list[float]) -> str:
    return f"[{min(values):.2f}, {max(values):.2f}]"


def load() -> str:
    """The machine's 1-minute load average, to quote beside each figure."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def _cpu_of(work: Callable[[], T]) -> tuple[T, float, float]:
    """``work``'s result, and the CPU seconds this process spent on it: all, and of them the
    kernel's (system time: page faults, which a new process pays for its first use of memory)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = work()
    after = resource.getrusage(resource.RUSAGE_SELF)
    system = after.ru_stime - before.ru_stime
    return result, after.ru_utime - before.ru_utime + system, system


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
    ap.add_argument("--repeats", type=int, default=3, help="sections 1 and 3's runs, median kept (at least 1)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds of section 4's study (x 5 policies; at least 3)")
    ap.add_argument("--quick", action="store_true", help="smoke test: small sizes, figures not the targets'")
    args = ap.parse_args()
    if args.seeds < 3:
        ap.error(f"--seeds {args.seeds}: section 4 needs at least 3 (its outputs are timed at 2 seeds and at all)")
    if args.repeats < 1:
        ap.error(f"--repeats {args.repeats}: at least 1")
    if args.quick:
        args.sites, args.large = 20_000, [40_000, 80_000]
    gib = 2**30

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    # numba's cache written by a throw-away process, not by section 1's first one: on a fresh
    # clone that process compiled, and the compiler's memory became its peak (558 MiB, not
    # 318). Not by this one either: a spawned process starts with its parent's peak.
    fresh(1000, 1.0)
    runs = [fresh(args.sites, args.years, twice=True) for _ in range(args.repeats)]
    gb = runs[0]  # the same seed each time: the same events and memory
    floor_runs = [floor_cpu(int(round(gb["live"])), int(gb["events"])) for _ in range(args.repeats)]
    floor_histories = [floor_cpu(int(gb["historic"]) // 2, int(gb["history_events"])) for _ in range(args.repeats)]
    cold, warm = _median([r["cpu"] for r in runs]), _median([r["warm"] for r in runs])
    floors = [a + b for a, b in zip(floor_runs, floor_histories, strict=True)]
    floor, floor_run, floor_history = _median(floors), _median(floor_runs), _median(floor_histories)
    gb = {**gb, "cpu": cold, "warm": warm, "peak": max(r["peak"] for r in runs)}
    print(f"1. GB-scale run: {args.sites:,} I&L meters (history run included), {args.years:g} years, "
          f"email-10wd, 1 replication, 1 core, numba engine ({load()})")
    print(f"   {gb['history_events']:,} domain events in the history ({gb['historic']:,} meters left at the "
          f"epoch), {gb['events']:,} in the run ({gb['live']:,.0f} meters waiting on average)")
    print(f"   medians of {args.repeats} runs, each hansim run in a fresh process; [lowest, highest]")
    print(f"   hansim CPU      {cold:7.2f} s   {_spread([r['cpu'] for r in runs])} (sampling, history run, run, "
          f"results; of it system {_spread([r['system'] for r in runs])}: the kernel handing the process new memory)")
    print(f"   minimal loop    {floor:7.2f} s   {_spread(floors)} (numba heap, the same events: history "
          f"{floor_history:.2f} s, run {floor_run:.2f} s)")
    print(f"   hansim warm     {warm:7.2f} s   {_spread([r['warm'] for r in runs])} (the same run again in that "
          "process, as a study's worker runs its later replications; system "
          f"{_spread([r['warm_system'] for r in runs])})")
    print(f"   ratio           {cold / floor:7.2f}     (target <= 1.5); warm {warm / floor:.2f}; each run's own "
          f"cold ratio {_spread([r['cpu'] / f for r, f in zip(runs, floors, strict=True)])}; cold without its "
          f"system time {_median([r['cpu'] - r['system'] for r in runs]) / floor:.2f}")
    print(f"   ratio to the run's events alone {gb['cpu'] / floor_run:.2f} (the loop skipping the history)")
    print(f"   peak memory     {gb['peak'] / 2**20:7.0f} MiB (target <= 1024 MiB; whole process, ru_maxrss; "
          f"{(gb['peak'] - gb['base']) / args.sites:.0f} B a site over the warmed-up "
          f"{gb['base'] / 2**20:.0f} MiB)")
    grown = int(gb["peak"] - gb["base"])
    touches = [first_touch(grown) for _ in range(args.repeats)]
    print(f"   new memory      {_median([t[0] for t in touches]):7.2f} s   {_spread([t[0] for t in touches])} for "
          f"numpy alone to write the run's {grown / 2**20:.0f} MiB in a new process (of it system "
          f"{_spread([t[1] for t in touches])}); in that process again at once {_median([t[2] for t in touches]):.2f} "
          f"s, again after {IDLE_SECONDS:g} s idle {_median([t[3] for t in touches]):.2f} s "
          f"{_spread([t[3] for t in touches])}: memory the guest has handed back to its host (free page "
          "reporting) costs a process again, whenever it comes")
    if args.simpy:
        ref = fresh(args.sites, args.years, engine="simpy")
        print(f"   SimPy reference {ref['cpu']:7.2f} s CPU, {ref['peak'] / 2**20:.0f} MiB "
              f"({ref['cpu'] / gb['cpu']:.1f} x the numba engine)")

    print(f"2. Time per meter as the run grows (numba engine, email-10wd, 1 core; {load()}), beside the minimal "
          "loop doing each size's events (its heap grows too: what the machine's caches allow):")
    print(f"   medians of {args.repeats} fresh processes a size, each running it twice: cold (the first run, "
          "which pays the first touch of its memory) and warm (the second)")
    print(f"   {args.sites:>12,} sites cold {gb['cpu']:6.2f} s, warm {warm:6.2f} s CPU "
          f"{warm / args.sites * 1e6:6.2f} µs a site warm, peak {gb['peak'] / gib:5.2f} GiB; loop {floor:.2f} s")
    for sites in args.large:
        bigs = [fresh(sites, args.years, twice=True) for _ in range(args.repeats)]
        big, big_cold, big_warm = bigs[0], _median([b["cpu"] for b in bigs]), _median([b["warm"] for b in bigs])
        big_floor = (floor_cpu(int(round(big["live"])), int(big["events"]))
                     + floor_cpu(int(big["historic"]) // 2, int(big["history_events"])))
        print(f"   {sites:>12,} sites cold {big_cold:6.2f} s, warm {big_warm:6.2f} s CPU "
              f"{big_warm / sites * 1e6:6.2f} µs a site warm, peak {max(b['peak'] for b in bigs) / gib:5.2f} GiB  "
              f"(a site against the GB run's: cold {big_cold / sites / (gb['cpu'] / args.sites):.2f} x "
              f"{_spread([b['cpu'] / sites / (gb['cpu'] / args.sites) for b in bigs])}, warm "
              f"{big_warm / sites / (warm / args.sites):.2f} x "
              f"{_spread([b['warm'] / sites / (warm / args.sites) for b in bigs])}); loop {big_floor:.2f} s "
              f"({big_floor / sites / (floor / args.sites):.2f} x its GB run's per site)")

    speedup, speedups, (one, one_cores, one_cpu, two, two_cores, two_cpu) = _speedups(
        workers(args.sites, args.years, args.repeats))
    r_speedup, r_speedups, (r_one, _, r_one_cpu, r_two, _, r_two_cpu) = _speedups(
        workers(args.sites, args.years, args.repeats, reduced=True))
    # The symmetric pairs alternated with the loop's: this host's speed-up moved from 1.26x
    # to 2.23x between pairs minutes apart, so each hansim pair is set against the loop's
    # beside it. The loop's records span as much memory as the GB run adds, and its workers
    # are forked for each side, so both its sides pay their first touch once, as both of
    # these hansim pairs do (each side new) or neither does (kept).
    records = grown // 64
    with kept_workers():
        beside = [(fresh_workers(args.sites, args.years, 1)[0],
                   workers(args.sites, args.years, 1, reduced=True, kept=True)[0],
                   floor_workers(int(round(gb["live"])), int(gb["events"]), 1, meters=records)[0])
                  for _ in range(args.repeats)]
    n_speedup, n_speedups, (n_one, _, _, n_two, _, _) = _speedups([n for n, _, _ in beside])
    k_speedup, k_speedups, (k_one, _, _, k_two, _, _) = _speedups([k for _, k, _ in beside])
    m_speedup, m_speedups, (m_one, _, m_one_cpu, m_two, _, m_two_cpu) = _speedups([m for _, _, m in beside])
    n_against = [_speedup(new) / _speedup(loop) for new, _, loop in beside]
    k_against = [_speedup(kept) / _speedup(loop) for _, kept, loop in beside]
    f_speedup, f_speedups, (f_one, f_one_cores, f_one_cpu, f_two, f_two_cores, f_two_cpu) = _speedups(
        floor_workers(int(round(gb["live"])), int(gb["events"]), args.repeats))
    print(f"3. 8 replications of {args.sites:,} sites, {args.years:g} years, 1 worker then 2, {args.repeats} times; "
          f"medians [range] ({load()}):")
    print(f"   hansim       1 worker {one:7.1f} s, 2 workers {two:7.1f} s, speed-up {speedup:4.2f}x {speedups} "
          "(target >= 1.9x; whole results back to the parent, as the Python API)")
    print(f"   hansim       1 worker {r_one:7.1f} s, 2 workers {r_two:7.1f} s, speed-up {r_speedup:4.2f}x "
          f"{r_speedups} (each reduced to its digest in its worker, as hansim backlog, calibrate and "
          f"sensitivity; CPU a replication "
          f"{r_one_cpu:.2f} s, {r_two_cpu:.2f} s)")
    print(f"   minimal loop 1 worker {f_one:7.1f} s, 2 workers {f_two:7.1f} s, speed-up {f_speedup:4.2f}x "
          f"{f_speedups} (8 runs of the GB run's events: what this machine allows)")
    print(f"   alternated, {args.repeats} times: hansim each side in a new process, as two hansim backlog commands "
          "(both sides pay their memory's first touch); hansim's 2 workers kept (kept_workers(), as calibration's "
          "generations; new in the first alternation), as the 1 worker, this process, is; and the loop with a "
          f"64-byte record for each of {records:,} meters ({grown / 2**20:.0f} MiB, as the GB run adds), one read "
          "and written each event, its workers forked for each side")
    print(f"   hansim new   1 worker {n_one:7.1f} s, 2 workers {n_two:7.1f} s, speed-up {n_speedup:4.2f}x "
          f"{n_speedups}; against the loop's beside it {_median(n_against):.2f} {_spread(n_against)}")
    print(f"   hansim kept  1 worker {k_one:7.1f} s, 2 workers {k_two:7.1f} s, speed-up {k_speedup:4.2f}x "
          f"{k_speedups}; against the loop's beside it {_median(k_against):.2f} {_spread(k_against)}")
    print(f"   loop, records 1 worker {m_one:7.1f} s, 2 workers {m_two:7.1f} s, speed-up {m_speedup:4.2f}x "
          f"{m_speedups} (CPU a run {m_one_cpu:.2f} s, {m_two_cpu:.2f} s; a speed-up against it of 1.00: hansim "
          "gains from a second worker what this machine gives a loop with as much memory)")
    print(f"   cores busy on average: hansim {one_cores:.2f} with 1 worker, {two_cores:.2f} with 2; minimal loop "
          f"{f_one_cores:.2f}, {f_two_cores:.2f} (below 2: the machine did not give us two cores)")
    print(f"   CPU a replication: hansim {one_cpu:.2f} s with 1 worker, {two_cpu:.2f} s with 2 "
          f"({two_cpu / one_cpu - 1:+.0%}); minimal loop {f_one_cpu:.2f} s, {f_two_cpu:.2f} s "
          f"({f_two_cpu / f_one_cpu - 1:+.0%}): hansim's includes each fresh worker's first touch, and two "
          "processes side by side (a replication loses as much beside a register-only loop: not the caches)")
    alone, pair = (worker_replications(args.sites, args.years, n) for n in (1, 2))
    firsts = [runs[0] for runs in pair.values()]
    print("   each replication's CPU where it ran, first and later ones [range]: 1 worker (this process, its "
          f"memory already in use) {_median([c for c, _ in alone[os.getpid()]]):.2f} s; each of 2 fresh "
          f"workers' first {_median([c for c, _ in firsts]):.2f} s {_spread([c for c, _ in firsts])}, of it "
          f"system {_spread([s for _, s in firsts])}, later "
          f"{_median([c for runs in pair.values() for c, _ in runs[1:]]):.2f} s: a new process's first touch "
          "of its memory (the kernel's page faults) is paid once per worker, and weighs on 8 replications")

    cores = min(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as folder:
        st = study(args.sites, args.years, args.seeds, cores, Path(folder))
    per_seed = st["runs"] / args.seeds
    runs_wall = per_seed * 1000
    outputs = st["outputs_fixed"] + st["outputs_per_run"] * 5000
    sweep_wall = st["sweep"] / args.seeds * 1000
    reduced_wall = st["reduced"] / args.seeds * 1000
    print(f"4. 1,000 replications x {len(POLICIES)} policies at {args.sites:,} sites, as a study runs them "
          f"({load()}):")
    print(f"   {args.seeds} seeds x {len(POLICIES)} policies as hansim backlog runs them, on {cores} workers: "
          f"{st['runs']:.1f} s wall, {per_seed:.1f} s a seed ({per_seed / len(POLICIES):.2f} s a replication)")
    print(f"   the same on 1 worker (this process): {st['one']:.1f} s wall, so {cores} workers ran "
          f"{st['one'] / st['runs']:.2f}x as fast (section 3's target >= 1.9x, at a study's scale: each worker "
          f"pays for its new memory once, over {st['replications'] // cores} replications, not 4)")
    print(f"   replications: {runs_wall / 60:.1f} min for 1,000 seeds (target <= 30 min); CPU {st['cpu']:.1f} s, "
          f"{st['cpu'] / st['replications']:.2f} s a replication (workers and parent): "
          f"{st['cpu'] / args.seeds * 1000 / cores / 60:.1f} min on {cores} whole cores")
    print(f"   hansim backlog's summaries, tables and plots, written once all have run: {st['outputs']:.1f} s for "
          f"{st['replications']} replications ({st['outputs_fixed']:.1f} s + {st['outputs_per_run']:.3f} s a "
          f"replication: {outputs / 60:.1f} min at 5,000)")
    print(f"   hansim calibrate and sensitivity, each replication reduced to its figures in its worker: "
          f"{st['reduced']:.1f} s wall, {reduced_wall / 60:.1f} min for 1,000 seeds")
    print(f"   hansim sweep, each replication's file saved by the worker that ran it: "
          f"{st['sweep']:.1f} s wall, {sweep_wall / 60:.1f} min for 1,000 seeds")
    print(f"   total: {(runs_wall + outputs) / 60:.1f} min as hansim backlog, {reduced_wall / 60:.1f} min as "
          f"calibrate or sensitivity, {sweep_wall / 60:.1f} min as hansim sweep (before the sweep's summary, which "
          "reads every file back)")
    print(f"   each replication: its digest {st['bytes'] / 2**10:.0f} KiB pickled, the whole replication "
          f"{st['whole'] / 2**20:.1f} MiB pickled and {st['file'] / 2**20:.1f} MiB on disk: at 5,000, "
          f"{st['bytes'] * 5000 / 2**30:.1f} GiB held by hansim backlog's parent (whole, "
          f"{st['whole'] * 5000 / 2**30:.0f} GiB), {st['file'] * 5000 / 2**30:.0f} GiB of sweep files "
          f"({available_bytes() / 2**30:.0f} GiB available here)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other load skews wall times)")


if __name__ == "__main__":
    main()
