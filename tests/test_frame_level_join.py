"""FrameLevelJoin and KeyLevelJoin are two HanJoin implementations of one behaviour.

Independent check: the key-level model decides from the device log's accepted keys alone
(no frames); the frame-level one runs association, Transport Key under CCM* and the
Device_annce on the simulated air. They must agree on joined or not and on the CHF's
alerts for the right code, a wrong code, a closed window and a historic-log device.
"""

from __future__ import annotations

import pytest

from devices.device_log import DeviceLog
from devices.han_join import HanJoin, KeyLevelJoin
from han.installcode import InstallCode
from sim.han_time.frame_join import FrameLevelJoin

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
SPEC = InstallCode.parse("83FED3407A939723A5C639B26916D505")
OTHER = InstallCode.parse("30313233343536373839414243444546")


def _right() -> tuple[DeviceLog, InstallCode, float]:
    log = DeviceLog(CHF)
    log.add(ESME, SPEC, 120, now=100.0)
    return log, SPEC, 100.0


def _wrong() -> tuple[DeviceLog, InstallCode, float]:
    log = DeviceLog(CHF)
    log.add(ESME, OTHER, 120, now=100.0)  # the supplier sent another code than the meter's
    return log, SPEC, 100.0


def _closed() -> tuple[DeviceLog, InstallCode, float]:
    log = DeviceLog(CHF)
    log.add(ESME, SPEC, 30, now=0.0)
    return log, SPEC, 31.0


def _historic() -> tuple[DeviceLog, InstallCode, float]:
    """The meter was on this CHF with OTHER's key, removed, re-added with SPEC, which it now
    holds: the first half of the window takes only the historic key, the second SPEC's."""
    log = DeviceLog(CHF)
    log.add(ESME, OTHER, 90, now=0.0)
    log.joined(ESME, bytes(OTHER.link_key()), 10.0)
    log.remove(ESME, 20.0)
    log.add(ESME, SPEC, 200, now=30.0)
    return log, SPEC, 30.0


CASES = {"right code": (_right, True, ["8F49"]), "wrong code": (_wrong, False, ["8F48"]),
         "closed window": (_closed, False, []), "historic key": (_historic, True, ["8F49"])}


@pytest.mark.parametrize("case", list(CASES))
def test_key_level_and_frame_level_agree(case: str) -> None:
    make, joined, alerts = CASES[case]
    outcomes = []
    frame_level = FrameLevelJoin(seed=3)
    for model in (KeyLevelJoin(), frame_level):
        log, held, now = make()
        result = model.join(log, ESME, held, now)
        outcomes.append((result.joined, [a.code.hex for a in result.alerts],
                         ESME in log.live and log.live[ESME].joined))
    assert outcomes[0] == outcomes[1] == (joined, alerts, joined)
    (report,) = frame_level.reports  # the frames are kept for a pcap
    assert report.frames and report.joined == joined


def test_historic_case_joins_in_the_second_half_on_the_air() -> None:
    log, held, now = _historic()
    join: HanJoin = FrameLevelJoin(seed=1)
    result = join.join(log, ESME, held, now)
    report = join.reports[0]
    half = 30.0 + 100.0
    assert result.joined and report.key_source == "install code"
    assert report.start + report.duration >= half  # not before the accepted key changed
    assert report.attempts > 4  # gave up in the first half, tried again at half-time
