"""The population model's commissioning, calibrated from the frame-level HAN join.

A scenario replay fills the lifecycle's ``Commissioning`` seam with the DCC model and the
frame-level join (:class:`sim.replay.story.DuisCommissioning`); a population run samples
the outcome. :func:`calibrate` turns frame-level join statistics into that sample
(:class:`SampledCommissioning`), so both levels tell the same story.
"""

from __future__ import annotations

from han.joiner import BDB_SCAN, JoinTiming
from sim.han_time.frame_join import join_statistics
from sim.lifecycle import SampledCommissioning
from sim.policies import check_int

#: SRV 8.11 and 8.1.1 round trips through the DCC around the join (L: DUIS response times).
DCC_SECONDS = 600.0
#: The 8.11 JoinTimePeriod suppliers send (seconds; DUIS allows 1..3600; L), in replays too.
JOIN_TIME_PERIOD = 300


def calibrate(loss: float, joins: int = 100, seed: int = 0, dcc_seconds: float = DCC_SECONDS,
              retry_wd: int = 1, window: int = JOIN_TIME_PERIOD) -> SampledCommissioning:
    """``SampledCommissioning`` from ``joins`` frame-level joins at radio frame ``loss``, each
    as a replay runs it: a BDB channel scan, and steering until the ``window`` closes."""
    check_int("joins", joins, 1, 100_000)
    check_int("window", window, 1, 3600)
    stats = join_statistics(loss, joins, seed, timing=JoinTiming(channel_sets=BDB_SCAN), window=window)
    join_seconds = float(stats.durations.mean()) if stats.joined else 0.0
    return SampledCommissioning(p_join=max(stats.success_rate, 0.01),
                                attempt_seconds=dcc_seconds + join_seconds, retry_wd=retry_wd)
