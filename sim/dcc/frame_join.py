"""The frame-level HAN join behind the same interface as the fast one.

:class:`FrameLevelJoin` is a :class:`devices.han_join.HanJoin` that runs the join frame
by frame on the simulated air (:func:`sim.han_join.run_join`: 802.15.4/NWK/APS frames,
CCM* security, the trust centre checking the CHF's device log), so SRV 8.11 through the
DCC can drive the detailed emulation instead of :class:`devices.han_join.KeyLevelJoin`.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from devices.device_log import DeviceLog
from devices.han_join import JoinResult
from han.installcode import InstallCode
from sim.han_join import run_join


@dataclass(frozen=True)
class FrameLevelJoin:
    """Join on the simulated air; ``seed`` fixes radio parameters and every loss."""

    seed: int = 0
    loss: float = 0.0

    def join(self, log: DeviceLog, device_id: str, device_install_code: InstallCode,
             now: float) -> JoinResult:
        env = simpy.Environment(initial_time=now)
        report = run_join(env, log, log.chf_id, device_id, device_install_code,
                          loss=self.loss, seed=self.seed, capture=False)
        return JoinResult(report.joined, report.reason, report.duration, report.alerts)
