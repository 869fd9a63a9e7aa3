"""How fast the MP155 re-flash model runs: seconds per strategy for the bundled scenario
and for a supplier ten times larger. Prints figures; asserts nothing.

    PYTHONPATH=$PWD python3 benchmarks/reflash.py
"""

from __future__ import annotations

import time

from sim.mp155.model import StockRun
from sim.mp155.scenario import Scenario


def main() -> None:
    base = Scenario.load()
    big = base.replace(installs_per_wd=base.installs_per_wd * 10,
                       order_up_to={m: n * 10 for m, n in base.order_up_to.items()})
    for label, scenario in [("bundled", base), ("10x demand and stock target", big)]:
        for strategy in scenario.strategies:
            start = time.perf_counter()
            run = StockRun(scenario, strategy).run()
            seconds = time.perf_counter() - start
            print(f"{label:28} {strategy:9} {scenario.days} days, {len(run.model_of):7,} CHs: "
                  f"{seconds:6.2f} s ({len(run.model_of) / seconds:,.0f} CHs/s)")


if __name__ == "__main__":
    main()
