"""The CSP's re-flash queue against queueing theory: Poisson arrivals of single CHs at
c lines with a fixed time per CH is M/D/c, whose mean wait is known (Pollaczek-Khinchine
for c = 1; Cosmetatos' correction of Erlang C for c > 1); Little's law holds in the study."""

import math

import numpy as np
import pytest
import simpy
from reflash_support import study

from sim.mp155.costs import csp_rows
from sim.mp155.csp import CspQueue
from sim.mp155.model import StockRun
from sim.mp155.scenario import CspParams

DAY = 86400.0


def _erlang_c(c: int, offered: float) -> float:
    """Probability of waiting in M/M/c with offered load ``offered`` = lambda / mu (Erlang)."""
    terms = sum(offered**k / math.factorial(k) for k in range(c))
    top = offered**c / math.factorial(c) * c / (c - offered)
    return top / (terms + top)


def md_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/D/c: exact (Pollaczek-Khinchine) for c = 1, else Cosmetatos (1976)."""
    rho = lam / (c * mu)
    if c == 1:
        return rho / (2 * mu * (1 - rho))
    mm_c = _erlang_c(c, lam / mu) / (c * mu - lam)
    return 0.5 * mm_c * (1 + (1 - rho) * (c - 1) * (math.sqrt(4 + 5 * c) - 2) / (16 * rho * c))


@pytest.mark.parametrize(("lines", "rho"), [(1, 0.6), (3, 0.6)])
def test_poisson_fed_csp_waits_as_md_c_predicts(lines, rho) -> None:
    per_line = 100.0  # CHs per line per day
    lam = rho * lines * per_line  # CHs per day
    env = simpy.Environment()
    csp = CspQueue(env, CspParams("North", lines, per_line, 0.0), np.random.default_rng(1))
    arrivals = np.random.default_rng(2).exponential(DAY / lam, 40_000)

    def source():
        for i, gap in enumerate(arrivals):
            yield env.timeout(gap)
            env.process(csp.reflash([i]))

    env.process(source())
    env.run()
    stats = csp.stats()
    assert stats.completed == len(arrivals) and stats.failed == 0
    predicted = md_c_wait(lines, lam, per_line)  # days
    assert stats.mean_wait_days == pytest.approx(predicted, rel=0.08)
    assert stats.utilisation == pytest.approx(rho, rel=0.03)
    # Little's law over a run that starts and ends empty: L = lambda W
    assert stats.mean_in_system == pytest.approx(stats.arrival_rate_per_day * stats.mean_sojourn_days, rel=1e-6)


def test_failures_follow_the_csp_failure_rate() -> None:
    env = simpy.Environment()
    csp = CspQueue(env, CspParams("South", 2, 500.0, 0.1), np.random.default_rng(3))

    def work_orders():  # 25 Work Orders of 200 CHs, one a day
        for start in range(0, 5_000, 200):
            env.process(csp.reflash(list(range(start, start + 200))))
            yield env.timeout(DAY)

    env.process(work_orders())
    env.run()
    # binomial(5000, 0.1): sd 21; 5 sd either side
    assert abs(csp.stats().failed - 500) < 5 * math.sqrt(5_000 * 0.1 * 0.9)


def test_littles_law_holds_for_each_csp_in_the_study() -> None:
    run = StockRun(study(days=150), "reflash").run()
    rows = csp_rows(run)
    assert {r["csp"] for r in rows} == {"North", "Central", "South"}
    for row in rows:
        assert row["chs_arrived"] > 0
        assert row["mean_chs_in_system"] == pytest.approx(row["littles_law_lambda_w"], rel=0.01, abs=0.01)
        # a batch of 200 on c lines at 150 CHs a line a day waits for the rest of its batch
        assert row["max_chs_waiting"] >= 200 - row["lines"]
