"""Meters and other HAN devices as the site holds them: ESME, GSME, IHD.

A meter holds its own install code (from manufacture), whether it has joined the
HAN, and the public key of the supplier whose signed commands it obeys — the reason a
critical command needs the supplier's signature, and why a change of supplier must
replace it (6.23).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from devices.firmware import DeviceFirmware
from han.installcode import InstallCode

#: Device types without SMI status (SMETS2 Type 2 devices).
TYPE_2 = frozenset({"IHD", "CAD"})


@dataclass
class HanDevice:
    """A device that joins the Comms Hub's HAN: a meter, IHD, PPMID or CAD."""

    device_id: str
    device_type: str
    install_code: InstallCode
    present: bool = True
    joined: bool = False
    commissioned: bool = False
    supplier_key: ec.EllipticCurvePublicKey | None = None
    firmware: DeviceFirmware | None = None  # SRV 11.1/11.3 slots, when modelled
    #: An ESME's load controller trust anchors (CS02g), by use ("ds", "ka"): the subject
    #: unique ID and subject key ID of each certificate it holds (none until a CS02g).
    load_controller: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)

    def __repr__(self) -> str:  # the install code never appears
        return (
            f"HanDevice({self.device_id}, {self.device_type}, present={self.present}, "
            f"joined={self.joined}, commissioned={self.commissioned})"
        )
