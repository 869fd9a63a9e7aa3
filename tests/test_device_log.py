"""The CHF device log against GBCS CCS01/CCS02 as domain.md §4 states them."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.alerts import AlertCode
from devices.device_log import (
    HISTORIC_LOG_CAPACITY,
    LIVE_LOG_CAPACITY,
    DeviceLog,
    DeviceLogError,
    KeySource,
)
from han.installcode import InstallCode

CHF = "00-DB-12-34-56-78-90-A2"
ESME = "00-DB-12-34-56-78-90-A0"


def code(seed: int) -> InstallCode:
    return InstallCode.generate(16, random.Random(seed))


def test_add_opens_a_window_with_the_install_code_key() -> None:
    log = DeviceLog(CHF)
    alerts = log.add(ESME, code(1), 60, now=100.0)
    assert [a.code for a in alerts] == [AlertCode.DEVICE_LOG_CHANGED]
    key = bytes(code(1).link_key())
    assert log.acceptable_keys(ESME, 100.0) == [(KeySource.INSTALL_CODE, key)]
    assert log.acceptable_keys(ESME, 159.9) == [(KeySource.INSTALL_CODE, key)]
    assert log.acceptable_keys(ESME, 160.0) == []
    assert log.refusal_reason(ESME, 160.0) == "join window closed"
    assert [a.code for a in log.expire(160.0)] == [AlertCode.JOINING_FAILED]
    assert log.expire(161.0) == []


def test_unknown_device_may_not_join() -> None:
    log = DeviceLog(CHF)
    assert log.acceptable_keys(ESME, 0.0) == []
    assert log.refusal_reason(ESME, 0.0) == "not in the device log"


def test_already_whitelisted_keeps_its_key_and_succeeds() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, code(1), 60, now=0.0)
    log.joined(ESME, bytes(code(1).link_key()), now=5.0)
    assert log.add(ESME, code(2), 60, now=100.0) == []
    assert log.acceptable_keys(ESME, 101.0) == [(KeySource.LIVE_LOG, bytes(code(1).link_key()))]


def test_historic_key_first_half_install_code_second_half() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, code(1), 60, now=0.0)
    log.joined(ESME, bytes(code(1).link_key()), now=1.0)
    log.remove(ESME, now=10.0)
    assert ESME not in log.live and ESME in log.historic
    log.add(ESME, code(2), 100, now=20.0)
    assert log.acceptable_keys(ESME, 69.9) == [(KeySource.HISTORIC_LOG, bytes(code(1).link_key()))]
    assert log.acceptable_keys(ESME, 70.0) == [(KeySource.INSTALL_CODE, bytes(code(2).link_key()))]


def test_capacities() -> None:
    log = DeviceLog(CHF)
    ids = [f"00-DB-00-00-00-00-00-{i:02X}" for i in range(LIVE_LOG_CAPACITY + 1)]
    for i, device in enumerate(ids[:-1]):
        log.add(device, code(i), 60, now=0.0)
    with pytest.raises(DeviceLogError, match="full"):
        log.add(ids[-1], code(99), 60, now=0.0)
    for device in ids[:-1]:
        log.remove(device, now=1.0)
    assert len(log.historic) == HISTORIC_LOG_CAPACITY
    assert ids[0] not in log.historic  # the oldest was overwritten


@pytest.mark.parametrize("period", [0, 3601])
def test_join_time_period_bounds(period: int) -> None:
    with pytest.raises(DeviceLogError, match="JoinTimePeriod"):
        DeviceLog(CHF).add(ESME, code(1), period, now=0.0)


def test_remove_unknown_device_is_refused() -> None:
    with pytest.raises(DeviceLogError, match="not in the device log"):
        DeviceLog(CHF).remove(ESME, now=0.0)


@given(period=st.integers(1, 3600), t=st.floats(0, 7200))
def test_window_is_exactly_join_time_period(period: int, t: float) -> None:
    log = DeviceLog(CHF)
    log.add(ESME, code(3), period, now=0.0)
    assert bool(log.acceptable_keys(ESME, t)) == (t < period)


def test_restore_takes_the_old_logs_and_a_device_rejoins_only_with_its_key() -> None:
    """CCS03 (8.12.1): the replacement CHF holds each old entry's link key, nobody joined and
    no window open; a device rejoins with the key it holds, not with another."""
    old = DeviceLog(CHF)
    old.add(ESME, code(1), 60, now=0.0)
    old.joined(ESME, bytes(code(1).link_key()), 10.0)
    old.add("00-DB-12-34-56-78-90-A1", code(2), 60, now=20.0)
    old.remove("00-DB-12-34-56-78-90-A1", 30.0)  # its key now in the historic log
    new = DeviceLog("00-DB-12-34-56-78-90-C2")
    alerts = new.restore(old, 100.0)
    assert [(a.code, a.raised_by) for a in alerts] == [(AlertCode.DEVICE_LOG_CHANGED, new.chf_id)]
    assert list(new.live) == [ESME] and list(new.historic) == ["00-DB-12-34-56-78-90-A1"]
    assert not new.live[ESME].joined and new.acceptable_keys(ESME, 100.0) == []
    assert not new.rejoin(ESME, bytes(code(3).link_key()))
    assert new.rejoin(ESME, bytes(code(1).link_key())) and new.live[ESME].joined
    assert not new.rejoin("00-DB-12-34-56-78-90-A1", bytes(code(2).link_key()))  # not in the live log
    assert DeviceLog("00-DB-12-34-56-78-90-C4").restore(DeviceLog(CHF), 0.0) == []  # nothing to restore
