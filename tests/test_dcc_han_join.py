"""KeyLevelJoin: the fast HAN join model behind the HanJoin interface.

Independent check: the link keys come from han.installcode (verified against the
ZigBee spec vector); the device log decides what it accepts.
"""

import pytest

from devices.alerts import AlertCode
from devices.device_log import DeviceLog
from devices.han_join import HanJoin, KeyLevelJoin
from han.installcode import InstallCode
from sim.han_time.frame_join import FrameLevelJoin

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
SPEC = InstallCode.parse("83FED3407A939723A5C639B26916D505")
OTHER = InstallCode.parse("30313233343536373839414243444546")


def test_is_a_han_join() -> None:
    join: HanJoin = KeyLevelJoin()
    assert callable(join.join)


def test_right_code_joins_with_8f49() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, SPEC, 90, now=100.0)
    result = KeyLevelJoin(join_seconds=12).join(log, ESME, SPEC, 100.0)
    assert (result.joined, result.duration_s) == (True, 12.0)
    assert [(a.code, a.time, a.subject) for a in result.alerts] == [
        (AlertCode.JOINING_SUCCEEDED, 112.0, ESME)]
    assert log.live[ESME].joined


def test_wrong_code_fails_at_window_close_with_8f48() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, OTHER, 90, now=100.0)  # the supplier sent another meter's code
    result = KeyLevelJoin().join(log, ESME, SPEC, 100.0)
    assert not result.joined and result.duration_s == 90.0
    assert [(a.code, a.time) for a in result.alerts] == [(AlertCode.JOINING_FAILED, 190.0)]
    assert "wrong install code" in result.reason


def test_window_too_short_for_the_join() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, SPEC, 5, now=0.0)
    assert not KeyLevelJoin(join_seconds=10).join(log, ESME, SPEC, 0.0).joined


def test_no_window_no_join() -> None:
    result = KeyLevelJoin().join(DeviceLog(CHF), ESME, SPEC, 0.0)
    assert (result.joined, result.reason, result.alerts) == (False, "not in the device log", [])


def test_historic_device_rejoins_with_install_code_in_second_half() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, OTHER, 90, now=0.0)
    log.joined(ESME, bytes(OTHER.link_key()), 10.0)
    log.remove(ESME, 20.0)  # its key goes to the historic log
    log.add(ESME, SPEC, 100, now=30.0)
    # The meter now holds SPEC: the first half accepts only the historic key.
    result = KeyLevelJoin(join_seconds=10).join(log, ESME, SPEC, 30.0)
    assert result.joined and result.duration_s == 60.0  # at half-time (80) + 10 s


@pytest.mark.parametrize(("held", "joined", "alert"), [
    (SPEC, True, AlertCode.JOINING_SUCCEEDED), (OTHER, False, AlertCode.JOINING_FAILED)])
def test_frame_level_join_behind_the_same_interface(held, joined, alert) -> None:
    """FrameLevelJoin (frames on the simulated air) agrees with KeyLevelJoin on the outcome."""
    results = []
    for model in (KeyLevelJoin(), FrameLevelJoin()):
        join: HanJoin = model
        log = DeviceLog(CHF)
        log.add(ESME, SPEC, 90, now=1000.0)
        result = join.join(log, ESME, held, 1000.0)
        results.append((result.joined, [a.code for a in result.alerts]))
        assert all(a.time >= 1000.0 for a in result.alerts)
    assert results[0] == results[1] == (joined, [alert])
