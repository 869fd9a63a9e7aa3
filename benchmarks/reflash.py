"""How fast the MP155 re-flash study runs: seconds per strategy for the bundled study and
for suppliers ten times larger (demand and stock targets). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/reflash.py
"""

from __future__ import annotations

import time
from dataclasses import replace

from sim.mp155.model import StockRun
from sim.mp155.scenario import Scenario


def main() -> None:
    base = Scenario.load()
    big = base.replace(suppliers=tuple(
        replace(x, installs_per_wd=x.installs_per_wd * 10, order_up_to={m: n * 10 for m, n in x.order_up_to.items()})
        for x in base.suppliers))
    for label, scenario in [("bundled", base), ("10x demand and stock target", big)]:
        for strategy in scenario.strategies:
            start = time.perf_counter()
            run = StockRun(scenario, strategy).run()
            seconds = time.perf_counter() - start
            print(f"{label:28} {strategy:9} {scenario.days} days, {len(run.line_of):7,} CHs: "
                  f"{seconds:6.2f} s ({len(run.line_of) / seconds:,.0f} CHs/s)")


if __name__ == "__main__":
    main()
