"""Capture files Wireshark opens: IEEE 802.15.4 with FCS (link type 195) or the IEEE 802.15.4
TAP (link type 283, which also records the channel), and Wireshark's key table rows.

Both are returned as bytes/text for the caller to write (atomically, e.g. with
``sim.output.atomic_write``): han/ does no file IO. Keys go only to the separate key
file, and only when the user asks for one; the capture carries no comments.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable

from scapy.utils import PcapWriter

LINKTYPE_IEEE802_15_4_WITHFCS = 195
LINKTYPE_IEEE802_15_4_TAP = 283
_TLV_FCS_TYPE, _TLV_RSS, _TLV_CHANNEL, _TLV_LQI = 0, 1, 3, 10
_FCS_NONE, _FCS_16_BIT = 0, 1


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("<HH", kind, len(value)) + value + bytes(-len(value) % 4)


def tap_header(channel: int, page: int = 0, *, fcs: bool = True, rssi: float | None = None,
               lqi: int | None = None) -> bytes:
    """IEEE 802.15.4 TAP header (scapy has none): version 0, length, then TLVs: FCS type
    (16-bit, or none when the frame follows without its FCS), received signal strength
    in dBm, channel and page, LQI."""
    tlvs = _tlv(_TLV_FCS_TYPE, bytes([_FCS_16_BIT if fcs else _FCS_NONE]))
    if rssi is not None:
        tlvs += _tlv(_TLV_RSS, struct.pack("<f", rssi))
    tlvs += _tlv(_TLV_CHANNEL, struct.pack("<HB", channel, page))
    if lqi is not None:
        tlvs += _tlv(_TLV_LQI, bytes([lqi]))
    return struct.pack("<BBH", 0, 0, 4 + len(tlvs)) + tlvs


def pcap_bytes(frames: Iterable[tuple[float, bytes] | tuple[float, bytes, int]],
               channel: int | None = None) -> bytes:
    """``(time seconds, frame bytes with FCS)`` pairs as a pcap file, written by scapy's PcapWriter.

    Link type 195 by default; with ``channel`` (11-26), link type 283 with a TAP header
    naming the channel on every frame. ``(time, frame, channel)`` triples (a meter scanning
    channel by channel) give link type 283 with each frame's own channel.
    """
    rows = [(row[0], row[1], row[2] if len(row) > 2 else channel) for row in frames]
    tap = channel is not None or any(c is not None for _, _, c in rows)
    linktype = LINKTYPE_IEEE802_15_4_TAP if tap else LINKTYPE_IEEE802_15_4_WITHFCS
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype=linktype, sync=False)
    writer.write_header(None)
    for time, raw, on in rows:
        micros = round(time * 1e6)
        prefix = tap_header(on) if tap and on is not None else b""
        writer.write_packet(prefix + raw, sec=micros // 10**6, usec=micros % 10**6)
    writer.flush()
    return buffer.getvalue()


def zigbee_key_rows(keys: Iterable[tuple[bytes, str]]) -> str:
    """Rows of Wireshark's ``zigbee_pc_keys`` UAT file: key hex, byte order "Normal", label."""
    return "".join(f'"{key.hex().upper()}","Normal","{label}"\n' for key, label in keys)
