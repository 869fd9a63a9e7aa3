"""Commissioning at frame level: the HAN join behind the lifecycle's ``Commissioning`` seam.

:class:`FrameLevelCommissioning` is what a scenario replay plugs into
:class:`sim.lifecycle.Lifecycle`: each attempt whitelists the meter on the CHF's device
log (SRV 8.11 Add, CCS01) and runs the ZigBee join frame by frame (:func:`sim.han_join.
run_join`); a failed join is retried working days later. :func:`calibrate` runs many
such joins to give the population model its :class:`SampledCommissioning` (join success
per attempt and the attempt's latency), so both levels tell the same story.
"""

from __future__ import annotations

import random

import simpy

from devices.device_log import DeviceLog
from han.installcode import InstallCode
from sim.han_join import JoinReport, run_join
from sim.lifecycle import Commissioned, SampledCommissioning
from sim.policies import check_int, check_range
from sim.worktime import Draws, WorkClock

#: SRV 8.11 and 8.1.1 round trips through the DCC around the join (L: DUIS response times).
DCC_SECONDS = 600.0


class FrameLevelCommissioning:
    """SRV 8.11 + the frame-level HAN join (+ SRV 8.1.1 latency) for one meter."""

    def __init__(self, chf_id: str, device_id: str, install_code: InstallCode, *,
                 meter_code: InstallCode | None = None, loss: float = 0.0,
                 join_time_period: int = 3600, retry_wd: int = 1, max_attempts: int = 5,
                 dcc_seconds: float = DCC_SECONDS) -> None:
        self.chf_id, self.device_id = chf_id, device_id
        self.install_code = install_code  # the code the supplier sends in SRV 8.11
        self.meter_code = meter_code or install_code  # the code the meter really holds
        self.loss = check_range("loss", loss, 0.0, 0.99)
        self.join_time_period = check_int("join_time_period", join_time_period, 1, 3600)
        self.retry_wd = check_int("retry_wd", retry_wd, 0, 60)
        self.max_attempts = check_int("max_attempts", max_attempts, 1, 50)
        self.dcc_seconds = check_range("dcc_seconds", dcc_seconds, 0.0)
        self.reports: list[JoinReport] = []  # every join, for the replay's timeline and pcaps

    def commission(self, now: float, clock: WorkClock, draws: Draws) -> Commissioned:
        t = now
        for attempt in range(1, self.max_attempts + 1):
            log = DeviceLog(self.chf_id)
            log.add(self.device_id, self.install_code, self.join_time_period, t)
            seed = int(draws.uniform() * 2**31)
            report = run_join(simpy.Environment(initial_time=t), log, self.chf_id, self.device_id,
                              self.meter_code, loss=self.loss, seed=seed)
            self.reports.append(report)
            if report.joined:
                return Commissioned(report.start + report.duration + self.dcc_seconds, attempt)
            t = clock.later(report.start + report.duration, self.retry_wd)
        return Commissioned(float("inf"), self.max_attempts)


def calibrate(loss: float, joins: int = 200, seed: int = 0,
              dcc_seconds: float = DCC_SECONDS, retry_wd: int = 1) -> SampledCommissioning:
    """``SampledCommissioning`` from ``joins`` frame-level joins at radio ``loss``."""
    check_int("joins", joins, 1, 100_000)
    rng = random.Random(seed)
    chf, esme = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-B1"
    joined, seconds = 0, 0.0
    for k in range(joins):
        code = InstallCode.generate(16, rng)
        log = DeviceLog(chf)
        log.add(esme, code, 3600, 0.0)
        report = run_join(simpy.Environment(), log, chf, esme, code, loss=loss, seed=seed * 100_003 + k,
                          capture=False)
        joined += report.joined
        seconds += report.duration
    return SampledCommissioning(p_join=max(joined / joins, 0.01),
                                attempt_seconds=dcc_seconds + seconds / joins, retry_wd=retry_wd)
