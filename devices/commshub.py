"""The Comms Hub: CHF and GPF in one box, the CHF's device log, and its SM WAN link."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from devices.device_log import DeviceLog
from devices.firmware import DeviceFirmware


@dataclass
class CommsHub:
    """A Comms Hub: two device IDs (CHF, GPF), a device log, WAN up or down."""

    chf_id: str
    gpf_id: str
    wan_connected: bool = True
    supplier_key: ec.EllipticCurvePublicKey | None = None  # checks critical commands (11.3)
    firmware: DeviceFirmware | None = None  # SRV 11.1/11.3 slots, when modelled
    device_log: DeviceLog = field(init=False)

    def __post_init__(self) -> None:
        self.device_log = DeviceLog(self.chf_id)
