"""ZDO requests and responses as Z-Stack's MT ZDO commands carry them.

Z-Stack lets a host send ZDO either as AF data to endpoint 0 (zigpy-znp) or as MT ZDO
commands (zigbee-herdsman): ``ZDO_ACTIVE_EP_REQ`` is the destination's short address
followed by the Active_EP_req payload, and ``ZDO_ACTIVE_EP_RSP`` is the source's short
address followed by the Active_EP_rsp payload, both without the ZDO sequence number.
This module maps one form onto the other, so one ZDO responder serves both hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

import zigpy.zdo.types as zdo_t

# MT ZDO request command id -> the ZDO cluster it carries (Z-Stack MT API, ZDO chapter).
REQUESTS: dict[int, zdo_t.ZDOCmd] = {
    0x00: zdo_t.ZDOCmd.NWK_addr_req, 0x01: zdo_t.ZDOCmd.IEEE_addr_req,
    0x02: zdo_t.ZDOCmd.Node_Desc_req, 0x03: zdo_t.ZDOCmd.Power_Desc_req,
    0x04: zdo_t.ZDOCmd.Simple_Desc_req, 0x05: zdo_t.ZDOCmd.Active_EP_req,
    0x06: zdo_t.ZDOCmd.Match_Desc_req, 0x21: zdo_t.ZDOCmd.Bind_req,
    0x22: zdo_t.ZDOCmd.Unbind_req, 0x31: zdo_t.ZDOCmd.Mgmt_Lqi_req,
    0x32: zdo_t.ZDOCmd.Mgmt_Rtg_req, 0x33: zdo_t.ZDOCmd.Mgmt_Bind_req,
    0x34: zdo_t.ZDOCmd.Mgmt_Leave_req, 0x37: zdo_t.ZDOCmd.Mgmt_NWK_Update_req,
}
# ZDO response cluster -> the MT ZDO callback that carries it.
RESPONSES: dict[int, int] = {
    **{int(cluster) | 0x8000: command | 0x80 for command, cluster in REQUESTS.items()},
    zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp: 0xB8,  # ZDO_MGMT_NWK_UPDATE_NOTIFY
}
BROADCAST_FLOOR = 0xFFF8
BIND_GROUP_MODE = 0x01
IEEE_REQUEST_NWK = 0xFFFD  # NWK_addr_req goes to every rx-on node; who has the EUI-64 answers


@dataclass(frozen=True)
class ZdoRequest:
    """A ZDO request lifted out of its MT command: where to, which cluster, what payload."""

    destination: int  # short address (a broadcast address for NWK_addr_req)
    cluster: zdo_t.ZDOCmd
    payload: bytes  # the over-the-air payload without the ZDO sequence number


def from_mt(command_id: int, data: bytes) -> ZdoRequest | None:
    """The ZDO request in an MT ZDO SREQ, or None if it is not one or is too short."""
    cluster = REQUESTS.get(command_id)
    if cluster is None:
        return None
    if cluster == zdo_t.ZDOCmd.NWK_addr_req:
        return ZdoRequest(IEEE_REQUEST_NWK, cluster, data) if len(data) >= 10 else None
    if cluster == zdo_t.ZDOCmd.IEEE_addr_req:
        return ZdoRequest(_u16(data), cluster, data) if len(data) >= 4 else None
    if len(data) < 3:
        return None
    destination, rest = _u16(data), data[2:]
    if cluster == zdo_t.ZDOCmd.Mgmt_NWK_Update_req:
        return _network_update(destination, rest)
    if cluster in (zdo_t.ZDOCmd.Bind_req, zdo_t.ZDOCmd.Unbind_req) \
            and len(rest) > 11 and rest[11] == BIND_GROUP_MODE:
        rest = rest[:14]  # MT pads a group address to 8 bytes and an endpoint
    return ZdoRequest(destination, cluster, rest)


def _network_update(destination: int, rest: bytes) -> ZdoRequest | None:
    """MT: DstAddrMode, ChannelMask, ScanDuration, ScanCount, NwkManagerAddr."""
    if len(rest) < 7:
        return None
    channels, duration, count = rest[1:5], rest[5], rest[6]
    if duration <= 5:
        tail = bytes([count])
    elif duration == zdo_t.NwkUpdate.CHANNEL_CHANGE_REQ:
        tail = b"\x00"  # Z-Stack increments the nwkUpdateId itself
    else:
        tail = b"\x00" + rest[7:9].ljust(2, b"\x00")
    return ZdoRequest(destination, zdo_t.ZDOCmd.Mgmt_NWK_Update_req,
                      channels + bytes([duration]) + tail)


def to_mt(source: int, cluster: int, payload: bytes) -> tuple[int, bytes] | None:
    """(MT ZDO callback id, its data) for a ZDO response ``payload`` (without sequence
    number) from ``source``, or None if Z-Stack has no callback for it."""
    command = RESPONSES.get(cluster)
    if command is None:
        return None
    if cluster in (zdo_t.ZDOCmd.NWK_addr_rsp, zdo_t.ZDOCmd.IEEE_addr_rsp):
        # Z-Stack sends StartIndex before NumAssocDev, the other way round from the air.
        if len(payload) >= 13:
            payload = payload[:11] + bytes([payload[12], payload[11]]) + payload[13:]
        else:
            payload = payload[:11] + b"\x00\x00"
        return command, payload
    return command, source.to_bytes(2, "little") + payload


def is_broadcast(nwk: int) -> bool:
    return nwk >= BROADCAST_FLOOR


def _u16(data: bytes) -> int:
    return int.from_bytes(data[:2], "little")
