"""Capture files Wireshark opens: IEEE 802.15.4 with FCS (link type 195), and its key table rows.

Written through scapy's ``PcapWriter`` into a temporary file that replaces the target only
when complete, so a failed run never leaves half a capture. Keys go only to the separate
key file, and only when the user asks for one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from scapy.utils import PcapWriter

LINKTYPE_IEEE802_15_4_WITHFCS = 195


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_pcap(path: Path, frames: Iterable[tuple[float, bytes]]) -> None:
    """Write ``(time seconds, frame bytes with FCS)`` pairs as a link-type-195 pcap, atomically."""

    def write(tmp: str) -> None:
        with PcapWriter(tmp, linktype=LINKTYPE_IEEE802_15_4_WITHFCS, sync=False) as writer:
            writer.write_header(None)
            for time, raw in frames:
                micros = round(time * 1e6)
                writer.write_packet(raw, sec=micros // 10**6, usec=micros % 10**6)

    _atomic_write(path, write)


def zigbee_key_rows(keys: Iterable[tuple[bytes, str]]) -> str:
    """Rows of Wireshark's ``zigbee_pc_keys`` UAT file: key hex, byte order "Normal", label."""
    return "".join(f'"{key.hex().upper()}","Normal","{label}"\n' for key, label in keys)


def write_key_file(path: Path, keys: Iterable[tuple[bytes, str]]) -> None:
    text = zigbee_key_rows(keys)

    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    _atomic_write(path, write)
