"""The frame-level HAN join behind the virtual stick's ``MeterJoiner`` interface.

When zigpy-znp permits joining, each emulated meter's attempt runs the same join a
scenario replay runs (:func:`sim.han_time.frame_join.run_join`: 802.15.4 association, APS Transport
Key under the key-transport key, Device_annce, on the simulated air) instead of only
comparing keys. The coordinator's side is the key zigpy-znp gave the stick for that
EUI-64 (``BDBAddInstallCode``), offered to the trust centre through the small key table
below in place of a CHF device log. The air runs in simulated time on the stick's own
network (PAN, extended PAN, channel, network key, frame counter and the short address
the stick assigns), so a capture decrypts with the key in the stick's backup; the stick
takes the outcome, and keeps every attempt's frames (``reports``) for a pcap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from devices.device_log import KeySource
from han.eui import to_device_id
from han.znp.meters import EmulatedMeter, MeterVerdict, NetworkParameters
from sim.han_time.frame_join import HanNetwork, JoinReport, run_join


@dataclass
class _CoordinatorKey:
    """What the trust centre may accept: the one key the stick holds for the meter, for
    the length of the attempt's window. Alerts are the DCC model's business, not the stick's."""

    device_id: str
    key: bytes | None = field(repr=False)
    closes: float

    def acceptable_keys(self, device_id: str, now: float) -> list[tuple[KeySource, bytes]]:
        if device_id != self.device_id or self.key is None or now >= self.closes:
            return []
        return [(KeySource.INSTALL_CODE, self.key)]

    def refusal_reason(self, device_id: str, now: float) -> str:
        return "the coordinator holds no install-code key for this EUI-64"

    def joined(self, device_id: str, link_key: bytes, now: float) -> list:
        self.closes = float("-inf")
        return []

    def expire(self, now: float) -> list:
        return []

    def next_window_close(self) -> float | None:
        return self.closes if self.closes != float("-inf") else None


@dataclass
class FrameLevelJoiner:
    """A ``MeterJoiner`` that runs each attempt frame by frame on the simulated air.

    ``window`` bounds one attempt in simulated seconds (the meter's retries included);
    ``seed`` and the attempt number seed the air, so runs repeat.
    """

    seed: int = 0
    loss: float = 0.0
    window: float = 60.0
    on_report: Callable[[EmulatedMeter, JoinReport], None] | None = None
    reports: list[tuple[EmulatedMeter, JoinReport]] = field(default_factory=list)

    def __call__(self, network: NetworkParameters, meter: EmulatedMeter,
                 coordinator_key: bytes | None) -> MeterVerdict:
        device_id = to_device_id(meter.ieee)
        table = _CoordinatorKey(device_id, coordinator_key, self.window)
        seed = self.seed + len(self.reports)
        coordinator = to_device_id(network.coordinator_ieee)
        formed = None if network.network_key is None else HanNetwork(
            coordinator, np.random.default_rng(seed), formed=network)  # the stick's network
        report = run_join(None, table, coordinator, device_id, meter.install_code,
                          loss=self.loss, seed=seed, network=formed)
        self.reports.append((meter, report))
        if self.on_report is not None:
            self.on_report(meter, report)
        if report.joined:
            return MeterVerdict(True, f"joined frame by frame in {report.duration:.2f} s "
                                      f"(simulated air, {len(report.frames)} frames)")
        return MeterVerdict(False, f"frame-level join failed: {report.reason}")
