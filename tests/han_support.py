"""Shared set-up for the HAN join tests: one CHF, one ESME, a device log with a window."""

from __future__ import annotations

import random

from devices.device_log import DeviceLog
from han.installcode import InstallCode
from sim.han_time.frame_join import JoinReport, run_join

CHF = "00-DB-12-34-56-78-90-A0"
ESME = "00-DB-12-34-56-78-90-A1"


def code(seed: int, length: int = 16) -> InstallCode:
    return InstallCode.generate(length, random.Random(seed))


def whitelisted(install_code: InstallCode, window: int = 300, now: float = 0.0) -> DeviceLog:
    """A CHF device log after SRV 8.11 Add of the ESME at ``now``."""
    log = DeviceLog(CHF)
    log.add(ESME, install_code, window, now)
    return log


def join(chf_code: InstallCode, meter_code: InstallCode | None = None, **kwargs) -> JoinReport:
    return run_join(None, whitelisted(chf_code), CHF, ESME, meter_code or chf_code, **kwargs)


def sent_by(report: JoinReport, sender: str, kind: int | None = None) -> list[bytes]:
    """Frames ``sender`` put on air; ``kind`` filters on the 802.15.4 frame type (1 = data)."""
    return [f.raw for f in report.frames
            if f.sender == sender and (kind is None or f.raw[0] & 0x07 == kind)]
