"""The ASN.1 (DER) payloads of GBCS's own use cases (GBCS 10.4 / annex: join, firmware
activation, set time, firmware version), encoded with asn1crypto.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import core

#: GBCS "null" responses (e.g. Command Accepted, an empty CS08 command) are a DER NULL.
NULL = core.Null().dump()


def sequence(*items: bytes) -> bytes:
    return core.Sequence(contents=b"".join(items)).dump()


def integer(value: int) -> bytes:
    return core.Integer(value).dump()


class _Status(core.Enumerated):
    """GBCS's status code enumeration (0 success), as asn1crypto wants it: a map."""

    _map = {0: "success"}


def enumerated_success() -> bytes:
    """The ENUMERATED status code 0 (success) of a CS02b replacement outcome."""
    return _Status("success").dump()


def items(der: bytes) -> list[bytes]:
    """The DER of each item of a SEQUENCE (a :class:`ValueError` when ``der`` is not one)."""
    seq = core.Sequence.load(der, strict=True)
    return [seq[i].dump() for i in range(len(seq))]


def octet_string(value: bytes) -> bytes:
    return core.OctetString(value).dump()


def generalized_time(when: dt.datetime) -> bytes:
    """YYYYMMDDHHMMSSZ, as every GBCS GeneralizedTime is written."""
    return core.GeneralizedTime(when.astimezone(dt.UTC).replace(microsecond=0)).dump()



def implicit(number: int, der: bytes) -> bytes:
    """``der`` retagged as context-specific [number] IMPLICIT (constructed if it was), as
    CS02b's control fields are written."""
    return bytes([0x80 | (der[0] & 0x20) | number]) + der[1:]


class _HardwareModuleName(core.Sequence):
    """RFC 4108 HardwareModuleName: a type OID and the device's serial number."""

    _fields = [("hw_type", core.ObjectIdentifier), ("hw_serial_num", core.OctetString)]


def hardware_serial(value: bytes) -> bytes | None:
    """The serial number (the device's EUI-64) in a hardwareModuleName other-name value:
    the RFC 4108 sequence, or a bare OCTET STRING as some test certificates write it."""
    try:
        if value[:1] == b"\x04":
            return bytes(core.OctetString.load(value).native)
        return bytes(_HardwareModuleName.load(value)["hw_serial_num"].native)
    except (ValueError, TypeError):
        return None
