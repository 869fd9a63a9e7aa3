"""The simulated air against a formula: with loss p, one join attempt succeeds when the beacon
request and beacon (unacknowledged broadcasts) arrive, each of the four unicasts gets through
in at most 1 + macMaxFrameRetries = 4 tries, and one of the 3 Device_annce broadcasts arrives:
P = (1-p)^2 (1-p^4)^4 (1-p^3)."""

from __future__ import annotations

import math

from click.testing import CliRunner

from han.joiner import JoinTiming
from sim.cli import main
from sim.han_time.frame_join import join_statistics


def test_single_attempt_success_matches_the_loss_formula() -> None:
    p, runs = 0.3, 120
    expected = (1 - p) ** 2 * (1 - p**4) ** 4 * (1 - p**3)
    once = JoinTiming(attempts=1, steering_backoff=4000.0, steering_backoff_max=4000.0)  # one steering only
    result = join_statistics(p, runs, seed=11, timing=once)
    sigma = math.sqrt(expected * (1 - expected) / runs)
    assert abs(result.success_rate - expected) < 4 * sigma
    assert set(result.attempts.tolist()) == {1}


def test_no_loss_always_joins_at_once_and_stats_cli_says_so() -> None:
    out = CliRunner().invoke(main, ["han", "stats", "--runs", "3"])
    assert out.exit_code == 0, out.output
    assert "3/3 joined, success rate 1.000" in out.output and "mean attempts 1.00" in out.output
    bad = CliRunner().invoke(main, ["han", "stats", "--runs", "0"])
    assert bad.exit_code == 1 and "--runs: 0 is not a positive number of runs" in bad.output
