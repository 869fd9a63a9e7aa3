"""ZNP MT transport frames: SOF 0xFE, LEN, CMD0, CMD1, DATA, FCS (XOR of LEN..DATA).

Frames are built and read with zigpy-znp's ``GeneralFrame`` and command classes, so the
emulator and zigpy-znp agree on every byte. The reader resynchronises on garbage the
way a UART peer must: skip a byte, look for the next SOF.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce

import zigpy_znp.types as t
from zigpy_znp.frames import GeneralFrame

SOF = 0xFE
MAX_DATA = 250  # the longest DATA field Z-Stack accepts


def fcs(body: bytes) -> int:
    return reduce(lambda a, b: a ^ b, body, 0)


def encode(command: t.CommandBase) -> bytes:
    """One MT transport frame for a zigpy-znp command (structs packed as on a CC2652)."""
    return encode_frame(command.to_frame(align=True))


class FrameReader:
    """Collects bytes from the line and yields each complete, checksummed frame.

    A frame left incomplete for longer than the UART's receive timeout is dropped, as
    Z-Stack's NPI layer drops it, so a lying length byte cannot swallow the requests a
    host sends after it gave up waiting.
    """

    RX_TIMEOUT = 0.1  # seconds of silence that end a partial frame

    def __init__(self) -> None:
        self._rx = bytearray()
        self._last = 0.0

    def feed(self, data: bytes, now: float | None = None) -> Iterator[GeneralFrame]:
        rx = self._rx
        if now is not None:
            if rx and now - self._last > self.RX_TIMEOUT:
                rx.clear()
            self._last = now
        rx += data
        while True:
            start = rx.find(SOF)
            if start < 0:
                rx.clear()
                return
            del rx[:start]
            if len(rx) < 5:
                return
            length = rx[1]
            if length > MAX_DATA:
                del rx[:1]
                continue
            if len(rx) < length + 5:
                return
            body = bytes(rx[1:length + 4])
            if fcs(body) != rx[length + 4]:
                del rx[:1]
                continue
            del rx[:length + 5]
            yield GeneralFrame.deserialize(body)[0]


def encode_frame(frame: GeneralFrame) -> bytes:
    """One MT transport frame for raw command bytes (for layouts zigpy-znp lacks)."""
    body = frame.serialize()
    return bytes([SOF]) + body + bytes([fcs(body)])
