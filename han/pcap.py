"""Capture files Wireshark opens: IEEE 802.15.4 with FCS (link type 195), and its key table rows.

Both are returned as bytes/text for the caller to write (atomically, e.g. with
``sim.output.atomic_write``): han/ does no file IO. Keys go only to the separate key
file, and only when the user asks for one; the capture carries no comments.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from scapy.utils import PcapWriter

LINKTYPE_IEEE802_15_4_WITHFCS = 195


def pcap_bytes(frames: Iterable[tuple[float, bytes]]) -> bytes:
    """``(time seconds, frame bytes with FCS)`` pairs as a link-type-195 pcap file, written by scapy."""
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype=LINKTYPE_IEEE802_15_4_WITHFCS, sync=False)
    writer.write_header(None)
    for time, raw in frames:
        micros = round(time * 1e6)
        writer.write_packet(raw, sec=micros // 10**6, usec=micros % 10**6)
    writer.flush()
    return buffer.getvalue()


def zigbee_key_rows(keys: Iterable[tuple[bytes, str]]) -> str:
    """Rows of Wireshark's ``zigbee_pc_keys`` UAT file: key hex, byte order "Normal", label."""
    return "".join(f'"{key.hex().upper()}","Normal","{label}"\n' for key, label in keys)
