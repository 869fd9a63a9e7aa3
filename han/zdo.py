"""ZDO payloads a joining meter sends, serialised and read back by zigpy's own ZDO types."""

from __future__ import annotations

from typing import Any, cast

import zigpy.types as zt
import zigpy.zdo.types as zdo_t

DEVICE_ANNCE = zdo_t.ZDOCmd.Device_annce

#: An ESME's MAC capability: full-function, mains powered, receiver on when idle, wants an address.
ESME_CAPABILITY = (
    zdo_t.MACCapabilityFlags.FullFunctionDevice
    | zdo_t.MACCapabilityFlags.MainsPowered
    | zdo_t.MACCapabilityFlags.RxOnWhenIdle
    | zdo_t.MACCapabilityFlags.AllocateAddress
)
#: A battery GSME's: reduced-function, receiver off when idle (a sleepy end device).
SLEEPY_CAPABILITY = zdo_t.MACCapabilityFlags.AllocateAddress


def field_types(command: zdo_t.ZDOCmd) -> list[Any]:
    """zigpy's field types for a ZDO command. zigpy rewrites ``CLUSTERS`` into (names, types)
    at import but annotates it in its source shape, hence the cast."""
    _, types = cast(tuple[list[str], list[Any]], zdo_t.CLUSTERS[command])
    return types


def device_annce(tsn: int, nwk: int, ieee: zt.EUI64, capability: int = ESME_CAPABILITY) -> bytes:
    """ZDO sequence number + Device_annce(NWKAddr, IEEEAddr, Capability)."""
    types = field_types(DEVICE_ANNCE)
    values = (zt.uint8_t(tsn), types[0](nwk), types[1](ieee), types[2](capability))
    return b"".join(v.serialize() for v in values)


def parse_device_annce(payload: bytes) -> tuple[int, zt.NWK, zt.EUI64, int]:
    """(tsn, NWK address, IEEE address, capability); ``ValueError`` if it is not one."""
    types = field_types(DEVICE_ANNCE)
    tsn, rest = zt.uint8_t.deserialize(payload)
    nwk, ieee, capability = zt.deserialize(rest, types)[0]
    return int(tsn), nwk, ieee, int(capability)
