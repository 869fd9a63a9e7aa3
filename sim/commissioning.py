"""Commissioning through a real HAN join: the lifecycle's ``Commissioning`` seam, filled.

:class:`JoinCommissioning` is what a scenario replay plugs into
:class:`sim.lifecycle.Lifecycle`: each attempt whitelists the meter on the CHF's device
log (SRV 8.11 Add, CCS01) and lets it join through a ``devices.han_join.HanJoin``: the
frame-level :class:`sim.han_join.FrameLevelJoin` (whose reports give the pcaps) or the
key-level ``KeyLevelJoin``; a failed join is retried working days later.
:func:`calibrate` turns frame-level join statistics into the population model's
:class:`SampledCommissioning`, so both levels tell the same story.
"""

from __future__ import annotations

from devices.device_log import DeviceLog
from devices.han_join import HanJoin
from han.installcode import InstallCode
from sim.han_join import join_statistics
from sim.lifecycle import Commissioned, SampledCommissioning
from sim.policies import check_int, check_range
from sim.worktime import Draws, WorkClock

#: SRV 8.11 and 8.1.1 round trips through the DCC around the join (L: DUIS response times).
DCC_SECONDS = 600.0


class JoinCommissioning:
    """SRV 8.11 Add + a HAN join (+ the DCC's latency) for one meter, retried on failure."""

    def __init__(self, han_join: HanJoin, chf_id: str, device_id: str, install_code: InstallCode, *,
                 meter_code: InstallCode | None = None, join_time_period: int = 3600,
                 retry_wd: int = 1, max_attempts: int = 5, dcc_seconds: float = DCC_SECONDS) -> None:
        self.han_join = han_join
        self.chf_id, self.device_id = chf_id, device_id
        self.install_code = install_code  # the code the supplier sends in SRV 8.11
        self.meter_code = meter_code or install_code  # the code the meter really holds
        self.join_time_period = check_int("join_time_period", join_time_period, 1, 3600)
        self.retry_wd = check_int("retry_wd", retry_wd, 0, 60)
        self.max_attempts = check_int("max_attempts", max_attempts, 1, 50)
        self.dcc_seconds = check_range("dcc_seconds", dcc_seconds, 0.0)
        self.reasons: list[str] = []  # each attempt's outcome, for the replay's timeline

    def commission(self, now: float, clock: WorkClock, draws: Draws) -> Commissioned:
        t = now
        for attempt in range(1, self.max_attempts + 1):
            log = DeviceLog(self.chf_id)
            log.add(self.device_id, self.install_code, self.join_time_period, t)
            result = self.han_join.join(log, self.device_id, self.meter_code, t)
            self.reasons.append(result.reason)
            if result.joined:
                return Commissioned(t + result.duration_s + self.dcc_seconds, attempt)
            t = clock.later(t + max(result.duration_s, self.join_time_period), self.retry_wd)
        return Commissioned(float("inf"), self.max_attempts)


def calibrate(loss: float, joins: int = 100, seed: int = 0, dcc_seconds: float = DCC_SECONDS,
              retry_wd: int = 1) -> SampledCommissioning:
    """``SampledCommissioning`` from ``joins`` frame-level joins at radio frame ``loss``."""
    check_int("joins", joins, 1, 100_000)
    stats = join_statistics(loss, joins, seed)
    join_seconds = float(stats.durations.mean()) if stats.joined else 0.0
    return SampledCommissioning(p_join=max(stats.success_rate, 0.01),
                                attempt_seconds=dcc_seconds + join_seconds, retry_wd=retry_wd)
