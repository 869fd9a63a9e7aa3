"""What a receiver measures of a frame on the simulated air: RSSI and LQI, consistent with
the air's loss probability.

The air loses each frame with one probability. A 2.4 GHz O-QPSK link loses frames
because its signal-to-noise ratio is low, so the signal level that goes with a loss
probability is the one at which a reference frame would be lost that often: IEEE
802.15.4's O-QPSK bit error rate (annex E of the 2006 edition)
    BER = 8/15 * 1/16 * sum_{k=2..16} (-1)^k C(16,k) exp(20 SINR (1/k - 1))
gives the packet error rate 1 - (1 - BER)^(8 n) of an n-octet frame; inverting it for the
reference frame gives the link's mean SINR, and RSSI is that above the noise floor.
A link with no loss at all is a strong one (:data:`STRONG_LINK_DBM`). Each frame's RSSI
varies about the mean by a Gaussian draw in dB (slow fading of a fixed indoor link).

LQI is IEEE 802.15.4's energy-detection scale (ED, 10.2.5 of the 2006 edition): 0 at
10 dB above the receiver sensitivity, linear over 40 dB up to 255. The sensitivity is the
standard's definition, the level at which a 20-octet PSDU has a 1 % packet error rate,
worked out from the same BER formula.

Assumed values (no source gives them for a GB premises): the noise floor, -100 dBm
(thermal noise over 2 MHz is -111 dBm, plus an 11 dB receiver noise figure; it puts the
sensitivity near -100 dBm, as current 802.15.4 radios' data sheets give), the strong
link's -40 dBm (what the virtual EZSP stick reports for its meters) and the 2 dB fading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

NOISE_FLOOR_DBM = -100.0
STRONG_LINK_DBM = -40.0
FADING_DB = 2.0
#: The frame whose loss rate the air's loss probability is: the standard's sensitivity
#: reference, a 20-octet PSDU, with the 6-octet PHY header (preamble, SFD, length).
REFERENCE_OCTETS = 20 + 6
SENSITIVITY_PER = 0.01
ED_SPAN_DB = 40.0
ED_OFFSET_DB = 10.0


def bit_error_rate(sinr_db: float) -> float:
    """IEEE 802.15.4 2.4 GHz O-QPSK bit error rate at ``sinr_db``."""
    sinr = 10 ** (sinr_db / 10)
    total = sum((-1) ** k * math.comb(16, k) * math.exp(20 * sinr * (1 / k - 1))
                for k in range(2, 17))
    return min(0.5, max(0.0, 8 / 15 / 16 * total))


def packet_error_rate(sinr_db: float, octets: int = REFERENCE_OCTETS) -> float:
    return 1 - (1 - bit_error_rate(sinr_db)) ** (8 * octets)


@cache
def sinr_for(per: float, octets: int = REFERENCE_OCTETS) -> float:
    """The SINR (dB) at which an ``octets``-long frame is lost with probability ``per``."""
    low, high = -20.0, 30.0  # PER falls from ~1 to ~0 across this range
    for _ in range(60):
        middle = (low + high) / 2
        if packet_error_rate(middle, octets) > per:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def sensitivity_dbm() -> float:
    """Receiver sensitivity as IEEE 802.15.4 defines it: 1 % PER of a 20-octet PSDU."""
    return NOISE_FLOOR_DBM + sinr_for(SENSITIVITY_PER, 20 + 6)


def lqi(rssi_dbm: float) -> int:
    """LQI on the standard's ED scale: 0 at sensitivity + 10 dB, 255 40 dB above that."""
    floor = sensitivity_dbm() + ED_OFFSET_DB
    return int(round(min(255.0, max(0.0, 255 * (rssi_dbm - floor) / ED_SPAN_DB))))


@dataclass(frozen=True)
class Reception:
    """What a receiver measured of one frame."""

    rssi: int  # dBm
    lqi: int


class LinkBudget:
    """The received level of a link that loses frames with probability ``loss``; each
    frame's RSSI is drawn from ``rng`` (a stream of its own, so losses stay as drawn)."""

    def __init__(self, loss: float, rng: np.random.Generator) -> None:
        self.mean_dbm = STRONG_LINK_DBM if loss <= 0 else min(
            STRONG_LINK_DBM, NOISE_FLOOR_DBM + sinr_for(loss))
        self.rng = rng

    def receive(self) -> Reception:
        rssi = self.mean_dbm + float(self.rng.normal(0.0, FADING_DB))
        return Reception(int(round(rssi)), lqi(rssi))
