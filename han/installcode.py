"""Install codes: the per-device secret that SRV 8.11 hands the Comms Hub.

A ZigBee Smart Energy install code is 6, 8, 12 or 16 random bytes followed by their
CRC-16/X.25, stored little-endian. The preconfigured trust-centre link key is the
AES-MMO hash of code + CRC. DUIS carries the code without its CRC.

People meet install codes as plain hex, hex grouped with spaces, colons or dashes, with
or without the CRC, DUIS hexBinary, or the QR/label strings that zigpy reads. All of
them parse here; errors say exactly what is wrong. The code is a secret: ``repr`` and
``str`` never show it; :meth:`InstallCode.reveal` does, on purpose.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field

import zigpy.types as zt
import zigpy.util
from crccheck.crc import CrcX25

CODE_LENGTHS: tuple[int, ...] = (6, 8, 12, 16)
CRC_LENGTH = 2
_SEPARATORS = re.compile(r"[\s:\-_.]")


class InstallCodeError(ValueError):
    """An install code that cannot be used, with the reason in words."""


def crc_x25(code: bytes) -> bytes:
    """CRC-16/X.25 of the code, in the little-endian order it is stored after the code."""
    return CrcX25.calcbytes(code, byteorder="little")


@dataclass(frozen=True)
class InstallCode:
    """An install code (without CRC); equality and hashing are by value."""

    code: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.code) not in CODE_LENGTHS:
            raise InstallCodeError(
                f"install code is {len(self.code)} bytes; it must be 6, 8, 12 or 16 bytes "
                "(8, 10, 14 or 18 with its CRC)"
            )

    # -- construction -----------------------------------------------------------------
    @classmethod
    def generate(cls, length: int = 16, rng: random.Random | None = None) -> InstallCode:
        """A fresh random code; ``rng`` (e.g. ``random.Random(seed)``) makes it reproducible."""
        if length not in CODE_LENGTHS:
            raise InstallCodeError(f"install code length {length} is not one of 6, 8, 12, 16")
        if rng is None:
            return cls(secrets.token_bytes(length))
        return cls(bytes(rng.getrandbits(8) for _ in range(length)))

    @classmethod
    def from_bytes(cls, data: bytes, *, with_crc: bool | None = None) -> InstallCode:
        """From raw bytes; ``with_crc=None`` decides by length.

        Lengths 10, 14 and 18 always carry a CRC. Length 8 is ambiguous (a 6-byte code
        with CRC, or an 8-byte code without): it is read as code + CRC when its last two
        bytes are the CRC of the first six, else as an 8-byte code.
        """
        if not data:
            raise InstallCodeError("install code is empty")
        n = len(data)
        if with_crc is None:
            with_crc = n in (10, 14, 18) or (n == 8 and crc_x25(data[:6]) == data[6:])
        if not with_crc:
            return cls(bytes(data))
        if n - CRC_LENGTH not in CODE_LENGTHS:
            raise InstallCodeError(
                f"install code with CRC is {n} bytes; it must be 8, 10, 14 or 18 bytes"
            )
        code, found = bytes(data[:-CRC_LENGTH]), bytes(data[-CRC_LENGTH:])
        expected = crc_x25(code)
        if found != expected:
            # Neither CRC is shown: both are bytes of the secret label (issue 19, secrets).
            raise InstallCodeError(
                "install code CRC mismatch: its last 2 bytes are not the CRC-16 of the bytes "
                "before them (a digit mistyped?)"
            )
        return cls(code)

    @classmethod
    def parse(cls, text: str) -> InstallCode:
        """From any textual form people meet: hex (grouped or not, with or without CRC) or a QR string."""
        stripped = text.strip()
        if not stripped:
            raise InstallCodeError("install code is empty")
        if _looks_like_qr(stripped):
            return cls.parse_qr(stripped)[1]
        digits = _SEPARATORS.sub("", stripped)
        if digits[:2].lower() == "0x":
            digits = digits[2:]
        bad = sorted({c for c in digits if c not in "0123456789abcdefABCDEF"})
        if bad:
            raise InstallCodeError(
                f"install code has non-hex characters: {' '.join(repr(c) for c in bad)}"
            )
        if len(digits) % 2:
            raise InstallCodeError(f"install code has an odd number of hex digits ({len(digits)})")
        return cls.from_bytes(bytes.fromhex(digits))

    @classmethod
    def from_duis(cls, hex_binary: str) -> InstallCode:
        """From a DUIS ``InstallCode`` element (xs:hexBinary, 6-16 bytes, no CRC)."""
        digits = hex_binary.strip()
        try:
            data = bytes.fromhex(digits)
        except ValueError:
            raise InstallCodeError("DUIS InstallCode is not hexBinary") from None
        return cls.from_bytes(data, with_crc=False)

    @classmethod
    def parse_qr(cls, text: str) -> tuple[zt.EUI64, InstallCode]:
        """From a label/QR string in one of the formats zigpy knows; returns (EUI-64, code)."""
        for pattern in zigpy.util.QR_CODE_FORMATS:
            match = re.search(pattern, text.strip())
            if match is None:
                continue
            if "code" not in match.groupdict():
                raise InstallCodeError(
                    "QR string carries a link key, not an install code"
                )
            code = cls.from_bytes(bytes.fromhex(match.group("code")), with_crc=True)
            ieee, _ = zigpy.util.parse_install_code_qr(text.strip())
            return ieee, code
        raise InstallCodeError("QR string is in no format zigpy knows")

    # -- views --------------------------------------------------------------------------
    @property
    def crc(self) -> bytes:
        """The two CRC bytes, little-endian, as stored after the code."""
        return crc_x25(self.code)

    @property
    def with_crc(self) -> bytes:
        return self.code + self.crc

    def __len__(self) -> int:
        return len(self.code)

    def link_key(self) -> zt.KeyData:
        """Preconfigured trust-centre link key, derived by zigpy (AES-MMO of code + CRC)."""
        return zigpy.util.convert_install_code(self.with_crc)

    def reveal(self, *, with_crc: bool = True) -> str:
        """The code as upper-case hex: the only way to see the secret."""
        return (self.with_crc if with_crc else self.code).hex().upper()

    def duis(self) -> str:
        """The code as DUIS hexBinary (no CRC)."""
        return self.code.hex().upper()

    def __repr__(self) -> str:
        return f"InstallCode(<{len(self.code)} bytes hidden>)"

    __str__ = __repr__


def _looks_like_qr(text: str) -> bool:
    return any(marker in text for marker in ("|", "$", "Z:", "DLK", "HUE:"))

