"""Device IDs: DUIS writes EUI-64s as ``00-DB-12-34-56-78-90-A0``; the air carries zigpy ``EUI64``.

The one place the two forms meet, so the device log (DUIS strings) and the frames
(little-endian EUI-64 on air) always agree about which device is which.
"""

from __future__ import annotations

import re

import zigpy.types as zt

_DUIS_FORM = re.compile(r"^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$")


def to_eui64(device_id: str) -> zt.EUI64:
    """``00-DB-12-34-56-78-90-A0`` -> zigpy EUI64 (printed the same way, with colons)."""
    if not _DUIS_FORM.match(device_id):
        raise ValueError(f"device ID {device_id!r} is not an EUI-64 like 00-DB-12-34-56-78-90-A0")
    return zt.EUI64.convert(device_id.replace("-", ":"))


def to_device_id(eui: zt.EUI64 | int) -> str:
    """zigpy EUI64 (or the integer scapy reads from the air) -> DUIS device ID string."""
    if isinstance(eui, int):
        eui = zt.EUI64(eui.to_bytes(8, "little"))
    return str(eui).replace(":", "-").upper()


def to_int(eui: zt.EUI64) -> int:
    """The integer scapy's address fields take for this EUI-64."""
    return int.from_bytes(bytes(eui), "little")
