"""What the CHF measures of a device's link (RSSI, LQI, unicast outcomes) on the simulated air,
and what it keeps of it in its device log for CCS06.

Independent check of the link model: IEEE 802.15.4's O-QPSK bit error rate (2006, E.4.1.7)
at the values ns-3's own lr-wpan error model test asserts (src/lr-wpan/test/
lr-wpan-error-model-test.cc: 5, 2, -1, -4 and -7 dB).
"""

from __future__ import annotations

import numpy as np
import pytest

from devices.device_log import DeviceLog, LinkStatistics
from han.installcode import InstallCode
from sim.han_time.frame_join import FrameLevelJoin
from sim.han_time.link import (
    NOISE_FLOOR_DBM,
    STRONG_LINK_DBM,
    LinkBudget,
    bit_error_rate,
    lqi,
    packet_error_rate,
    sensitivity_dbm,
    sinr_for,
)

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505")


@pytest.mark.parametrize(("snr_db", "ber", "tolerance"), [
    (5, 7.38e-14, 0.01e-14), (2, 5.13e-7, 0.01e-7), (-1, 0.00114, 0.00001),
    (-4, 0.0391, 0.0001), (-7, 0.175, 0.001)])
def test_bit_error_rate_is_ns3s(snr_db: float, ber: float, tolerance: float) -> None:
    assert bit_error_rate(snr_db) == pytest.approx(ber, abs=tolerance)


def test_loss_gives_the_level_that_loses_that_many_frames() -> None:
    for loss in (0.001, 0.05, 0.3):
        assert packet_error_rate(sinr_for(loss)) == pytest.approx(loss, rel=1e-6)
    # the standard's sensitivity: 1 % PER of a 20-octet PSDU, near current radios' -100 dBm
    assert -102 < sensitivity_dbm() < -97
    assert LinkBudget(0.0, np.random.default_rng(0)).mean_dbm == STRONG_LINK_DBM
    lossy = LinkBudget(0.1, np.random.default_rng(0))
    assert lossy.mean_dbm == pytest.approx(NOISE_FLOOR_DBM + sinr_for(0.1))
    assert lqi(STRONG_LINK_DBM) == 255 and lqi(lossy.mean_dbm) == 0  # ED scale ends


def _joined(loss: float, seed: int) -> LinkStatistics:
    log = DeviceLog(CHF)
    log.add(ESME, CODE, 600, now=0.0)
    result = FrameLevelJoin(loss=loss, seed=seed).join(log, ESME, CODE, 1.0)
    assert result.joined
    return log.live[ESME].link


def test_the_device_log_keeps_what_the_chf_measured() -> None:
    strong, weak = _joined(0.0, 5), _joined(0.15, 5)
    for link in (strong, weak):
        assert link.heard > 0 and link.transmission_successes > 0 and link.smart_energy
        assert link.rssi[0] >= link.rssi[1] >= link.rssi[2] and link.last_heard is not None
    assert strong.transmission_failures == 0
    assert strong.rssi[1] == pytest.approx(STRONG_LINK_DBM, abs=1)
    assert weak.rssi[0] < -90 and weak.lqi[0] < strong.lqi[2]
    assert _joined(0.15, 5) == weak  # same seed, same figures


def test_a_later_join_adds_to_the_figures() -> None:
    first, second = _joined(0.0, 1), _joined(0.15, 2)
    total = LinkStatistics()
    total.add(first)
    total.add(second)
    assert total.heard == first.heard + second.heard
    assert total.rssi[0] == max(first.rssi[0], second.rssi[0])
    assert total.rssi[2] == min(first.rssi[2], second.rssi[2])
    assert total.transmission_successes == first.transmission_successes + second.transmission_successes
