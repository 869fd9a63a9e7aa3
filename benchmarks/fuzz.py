"""Fuzz every entry point for longer than CI can and print the figures.

    .venv/bin/python benchmarks/fuzz.py [--examples N] [--target NAME ...]

Per target (``tests/_fuzz_support.py``: YAML scenario/site/sweep/reflash files, DUIS
files, GBCS payloads and signed pre-commands, firmware images (hansim's and the DCC's 11.1
template image), install codes, ZNP bytes, sniffer lines, CLI option values, and whatever
else is registered there): inputs tried, accepted, refused with a clear error,
crashes, hangs (> HANG_SECONDS of CPU, or WALL_FACTOR times that of wall time), leftovers
(stray files), and the time per input. Exit 1
when any crash, hang or leftover is found, with the first few inputs that caused one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _fuzz_support import HANG_SECONDS, TARGETS, run_one  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

BAD = ("crash", "hang", "leftover")


def fuzz(name: str, examples: int) -> tuple[Counter, list[str], float]:
    target = TARGETS[name]
    counts: Counter = Counter()
    samples: list[str] = []
    target.prepare()

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(target.inputs)
    def one(value) -> None:
        outcome = run_one(target, value)
        counts[outcome.kind] += 1
        if outcome.kind in BAD and len(samples) < 3:
            samples.append(f"{outcome.kind}: {outcome.detail} <- {value!r:.3000}")

    started = time.perf_counter()
    one()
    return counts, samples, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these")
    args = parser.parse_args()
    names = args.target or sorted(TARGETS)
    print(f"{'target':20} {'inputs':>7} {'accepted':>9} {'refused':>8} {'crashes':>8} "
          f"{'hangs':>6} {'leftovers':>10} {'ms/input':>9}")
    total: Counter = Counter()
    problems = []
    for name in names:
        counts, samples, seconds = fuzz(name, args.examples)
        tried = sum(counts.values())
        total += counts
        problems += [f"{name}: {s}" for s in samples]
        print(f"{name:20} {tried:>7} {counts['accepted']:>9} {counts['refused']:>8} {counts['crash']:>8} "
              f"{counts['hang']:>6} {counts['leftover']:>10} {1000 * seconds / max(tried, 1):>9.1f}",
              flush=True)
    print(f"{'all':20} {sum(total.values()):>7} {total['accepted']:>9} {total['refused']:>8} "
          f"{total['crash']:>8} {total['hang']:>6} {total['leftover']:>10}   (hang: > {HANG_SECONDS:g} CPU s)")
    for line in problems:
        print(line)
    return 1 if any(total[k] for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
