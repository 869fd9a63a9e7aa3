"""802.15.4 MAC, ZigBee NWK and APS frames of a HAN join, built and parsed with scapy.

Builders return the bytes on air (with FCS, as pcap link type 195 stores them);
:func:`parse` checks the FCS and hands back scapy's dissection, or raises
:class:`FrameError` naming why the frame is unusable. Security is added by
:mod:`han.security` on the NWK/APS bytes these builders make.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from scapy.config import conf
from scapy.layers.dot15d4 import (
    Dot15d4Beacon,
    Dot15d4Cmd,
    Dot15d4CmdAssocReq,
    Dot15d4CmdAssocResp,
    Dot15d4Data,
    Dot15d4FCS,
)
from scapy.layers.zigbee import ZigbeeAppCommandPayload, ZigbeeAppDataPayload, ZigBeeBeacon, ZigbeeNWK
from scapy.packet import Packet, Raw

conf.dot15d4_protocol = "zigbee"  # type: ignore[assignment]  # scapy annotates the default, None

BROADCAST_PAN = 0xFFFF
BROADCAST_SHORT = 0xFFFF
#: NWK broadcast to every node whose receiver is on when idle (Device_annce goes here).
NWK_BROADCAST_RX_ON = 0xFFFD
COORDINATOR_SHORT = 0x0000
NWK_RADIUS = 30  # 2 * nwkMaxDepth for the ZigBee PRO stack profile
ZDO_ENDPOINT = 0
SE_ENDPOINT = 1
PROFILE_ZDO = 0x0000
PROFILE_SMART_ENERGY = 0x0109
_FCS = Dot15d4FCS()


class MacType(IntEnum):
    BEACON = 0
    DATA = 1
    ACK = 2
    COMMAND = 3


class MacCommand(IntEnum):
    ASSOCIATION_REQUEST = 0x01
    ASSOCIATION_RESPONSE = 0x02
    DATA_REQUEST = 0x04
    BEACON_REQUEST = 0x07


class AssociationStatus(IntEnum):
    SUCCESS = 0x00
    PAN_AT_CAPACITY = 0x01
    PAN_ACCESS_DENIED = 0x02


class ApsCommand(IntEnum):
    TRANSPORT_KEY = 0x05


#: Transport Key key type 1: the standard network key.
KEY_TYPE_NETWORK = 0x01


class FrameError(ValueError):
    """A frame that cannot be used; the message is the drop reason."""


# -- MAC ----------------------------------------------------------------------------------
def _mac(frame_type: MacType, seq: int, **fcf: Any) -> Dot15d4FCS:
    return Dot15d4FCS(fcf_frametype=int(frame_type), seqnum=seq, **fcf)


def beacon_request(seq: int) -> bytes:
    return bytes(
        _mac(MacType.COMMAND, seq, fcf_destaddrmode=2, fcf_srcaddrmode=0)
        / Dot15d4Cmd(dest_panid=BROADCAST_PAN, dest_addr=BROADCAST_SHORT,
                     cmd_id=MacCommand.BEACON_REQUEST)
    )


def beacon(seq: int, pan_id: int, extended_pan_id: int, *, permit_joining: bool) -> bytes:
    """The coordinator's beacon: non-beacon-enabled PAN, ZigBee PRO beacon payload."""
    return bytes(
        _mac(MacType.BEACON, seq, fcf_destaddrmode=0, fcf_srcaddrmode=2)
        / Dot15d4Beacon(src_panid=pan_id, src_addr=COORDINATOR_SHORT, sf_beaconorder=15,
                        sf_sforder=15, sf_finalcapslot=15, sf_pancoord=1,
                        sf_assocpermit=int(permit_joining), gts_spec_permit=0)
        / ZigBeeBeacon(proto_id=0, stack_profile=2, nwkc_protocol_version=2,
                       router_capacity=1, device_depth=0, end_device_capacity=1,
                       extended_pan_id=extended_pan_id, tx_offset=0xFFFFFF, update_id=0)
    )


def association_request(seq: int, pan_id: int, device: int, *, sleepy: bool = False) -> bytes:
    """Asks for a short address. An ESME is a mains-powered full-function device with its
    receiver on; a sleepy device (a battery GSME) is a reduced-function device whose
    receiver is off when idle, so its parent holds frames until it polls."""
    awake = 0 if sleepy else 1
    return bytes(
        _mac(MacType.COMMAND, seq, fcf_ackreq=1, fcf_destaddrmode=2, fcf_srcaddrmode=3)
        / Dot15d4Cmd(dest_panid=pan_id, dest_addr=COORDINATOR_SHORT, src_panid=BROADCAST_PAN,
                     src_addr=device, cmd_id=MacCommand.ASSOCIATION_REQUEST)
        / Dot15d4CmdAssocReq(allocate_address=1, receiver_on_when_idle=awake, power_source=awake,
                             device_type=awake)
    )


def data_request(seq: int, pan_id: int, device: int) -> bytes:
    """Poll the parent for a frame it holds (indirect transmission): the association response,
    and for a sleepy device every frame after it."""
    return bytes(
        _mac(MacType.COMMAND, seq, fcf_ackreq=1, fcf_panidcompress=1, fcf_destaddrmode=2,
             fcf_srcaddrmode=3)
        / Dot15d4Cmd(dest_panid=pan_id, dest_addr=COORDINATOR_SHORT, src_addr=device,
                     cmd_id=MacCommand.DATA_REQUEST)
    )


def association_response(seq: int, pan_id: int, device: int, coordinator: int, short: int,
                         status: AssociationStatus) -> bytes:
    return bytes(
        _mac(MacType.COMMAND, seq, fcf_ackreq=1, fcf_panidcompress=1, fcf_destaddrmode=3,
             fcf_srcaddrmode=3)
        / Dot15d4Cmd(dest_panid=pan_id, dest_addr=device, src_addr=coordinator,
                     cmd_id=MacCommand.ASSOCIATION_RESPONSE)
        / Dot15d4CmdAssocResp(short_address=short, association_status=int(status))
    )


def ack(seq: int, frame_pending: bool = False) -> bytes:
    """MAC acknowledgement; Frame Pending tells a polling device that its parent holds a frame."""
    return bytes(_mac(MacType.ACK, seq, fcf_destaddrmode=0, fcf_srcaddrmode=0,
                      fcf_pending=int(frame_pending)))


def mac_data(seq: int, pan_id: int, dst: int, src: int, nwk_frame: bytes) -> bytes:
    """A MAC data frame between short addresses; unicasts ask for an acknowledgement."""
    return bytes(
        _mac(MacType.DATA, seq, fcf_ackreq=int(dst != BROADCAST_SHORT), fcf_panidcompress=1,
             fcf_destaddrmode=2, fcf_srcaddrmode=2)
        / Dot15d4Data(dest_panid=pan_id, dest_addr=dst, src_addr=src)
        / Raw(nwk_frame)
    )


# -- NWK and APS headers ------------------------------------------------------------------
def nwk_header(dst: int, src: int, seq: int, *, secured: bool, source_eui: int | None = None) -> bytes:
    flags = ["security"] if secured else []
    if source_eui is not None:
        flags.append("extended_src")
    return bytes(
        ZigbeeNWK(frametype=0, proto_version=2, discover_route=1 if dst < 0xFFF8 else 0,
                  flags="+".join(flags) or 0, destination=dst, source=src,
                  radius=NWK_RADIUS, seqnum=seq, ext_src=source_eui or 0)
    )


def aps_data_header(counter: int, profile: int, cluster: int, src_ep: int, dst_ep: int, *,
                    secured: bool, broadcast: bool = False) -> bytes:
    return bytes(
        ZigbeeAppDataPayload(frame_control="security" if secured else 0,
                             delivery_mode=2 if broadcast else 0, aps_frametype=0,
                             dst_endpoint=dst_ep, cluster=cluster, profile=profile,
                             src_endpoint=src_ep, counter=counter)
    )


def aps_command_header(counter: int) -> bytes:
    """APS command frames of a join are always APS-secured."""
    return bytes(ZigbeeAppDataPayload(frame_control="security", delivery_mode=0,
                                      aps_frametype=1, counter=counter))


def transport_key_command(network_key: bytes, key_seq: int, device: int, trust_centre: int) -> bytes:
    """APS Transport Key (standard network key) addressed to ``device``; ``key`` is in wire order."""
    return bytes(
        ZigbeeAppCommandPayload(cmd_identifier=ApsCommand.TRANSPORT_KEY, key_type=KEY_TYPE_NETWORK,
                                key=network_key, key_seqnum=key_seq, dest_addr=device,
                                src_addr=trust_centre)
    )


def parse_transport_key(plain: bytes) -> ZigbeeAppCommandPayload:
    if len(plain) != 35 or plain[0] != ApsCommand.TRANSPORT_KEY or plain[1] != KEY_TYPE_NETWORK:
        raise FrameError("APS command is not a network-key Transport Key")
    return ZigbeeAppCommandPayload(plain)


# -- parsing ------------------------------------------------------------------------------
def parse(raw: bytes) -> Packet:
    """Check the FCS and dissect with scapy; :class:`FrameError` says why a frame is unusable."""
    if len(raw) < 5:
        raise FrameError("MAC frame truncated (shorter than FCF, sequence number and FCS)")
    if _FCS.compute_fcs(raw[:-2]) != raw[-2:]:
        raise FrameError("bad FCS")
    try:
        packet = Dot15d4FCS(raw)
    except Exception as err:  # scapy raises many types on malformed input
        raise FrameError(f"malformed MAC frame ({type(err).__name__})") from None
    if packet.fcf_frametype not in tuple(MacType):
        raise FrameError(f"unknown MAC frame type {packet.fcf_frametype}")
    return packet


def mac_payload(raw: bytes) -> bytes:
    """The NWK frame inside a MAC data frame (to send the same NWK frame again)."""
    return split_header(parse(raw)[Dot15d4Data])[1]


def split_header(layer: Packet) -> tuple[bytes, bytes]:
    """(this layer's header bytes, everything after it) as they were on air."""
    whole = bytes(layer.original)
    rest = bytes(layer.payload.original) if layer.payload and layer.payload.original else b""
    return whole[: len(whole) - len(rest)], rest
