"""GBCS byte primitives: the length encoding and a bounded reader whose errors say where.

GBCS lengths (General Signing / Ciphering, Other Information, Content) are one byte below
0x80, else 0x81/0x82/0x83 followed by 1-3 big-endian bytes (GBCS 7.2, as DER).
"""

from __future__ import annotations


class GbcsError(ValueError):
    """A GBCS message that cannot be read or trusted, with what, where and why."""


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    if size > 3:
        raise GbcsError(f"length {n} does not fit a GBCS length field")
    return bytes([0x80 | size]) + n.to_bytes(size)


class Reader:
    """Reads a message front to back; running past its end is a truncated message."""

    def __init__(self, data: bytes, what: str = "GBCS message") -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n: int, field: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise GbcsError(f"{self.what} truncated: {field} needs {n} bytes at offset "
                            f"{self.pos}, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def byte(self, field: str) -> int:
        return self.take(1, field)[0]

    def length(self, field: str) -> int:
        first = self.byte(field)
        if first < 0x80:
            return first
        size = first & 0x7F
        if not 1 <= size <= 3:
            raise GbcsError(f"{self.what}: {field} at offset {self.pos - 1} has a bad length "
                            f"prefix 0x{first:02X}")
        return int.from_bytes(self.take(size, field))

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos, "rest")

    def at_end(self) -> bool:
        return self.pos == len(self.data)

    def expect_end(self) -> None:
        if not self.at_end():
            raise GbcsError(f"{self.what} oversized: {len(self.data) - self.pos} bytes after "
                            f"its end at offset {self.pos}")
