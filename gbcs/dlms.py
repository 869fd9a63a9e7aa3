"""The DLMS COSEM side of GBCS (GBCS 7.2.7, IEC 62056-5-3 A-XDR): the access request and
response of CHF / ESME commands, and the data notification that carries DLMS alerts.

Only the A-XDR types GBCS messages hansim builds use: null, array, structure, boolean,
octet string, integer, unsigned, long-unsigned, enum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

ACCESS_REQUEST = 0xD9
ACCESS_RESPONSE = 0xDA
DATA_NOTIFICATION = 0x0F
INVOKE_ID_FLAGS = 0x20000000  # long-invoke-id-and-priority: confirmed, normal priority


class Access(IntEnum):
    GET = 1
    SET = 2
    ACTION = 3


# -- A-XDR data ------------------------------------------------------------------------------
NULL = b"\x00"


def octet_string(value: bytes) -> bytes:
    return bytes([0x09, len(value)]) + value


def boolean(value: bool) -> bytes:
    return bytes([0x03, 0xFF if value else 0x00])


def enum(value: int) -> bytes:
    return bytes([0x16, value])


def integer(value: int) -> bytes:
    return bytes([0x0F]) + value.to_bytes(1, signed=True)


def unsigned(value: int) -> bytes:
    return bytes([0x11, value])


def long_unsigned(value: int) -> bytes:
    return bytes([0x12]) + value.to_bytes(2)


def structure(*items: bytes) -> bytes:
    return bytes([0x02, len(items)]) + b"".join(items)


def array(items: list[bytes]) -> bytes:
    return bytes([0x01, len(items)]) + b"".join(items)


def date_time(when: dt.datetime | None, weekday: bool = False) -> bytes:
    """COSEM date-time (12 bytes) in UTC, deviation "not specified" and the day of week
    too (1 Monday .. 7 Sunday), or "not specified" unless ``weekday`` (the RTDS vectors
    differ by use case); ``None`` is the all-FF "never" the RTDS uses for an open bound."""
    if when is None:
        return bytes([0xFF] * 9) + b"\x80\x00\xFF"
    when = when.astimezone(dt.UTC)
    day = when.isoweekday() if weekday else 0xFF
    return (when.year.to_bytes(2) + bytes([when.month, when.day, day, when.hour,
                                           when.minute, when.second, 0x00])
            + b"\x80\x00\xFF")


# -- APDUs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttributeRef:
    """One access request specification: get/set an attribute or run a method."""

    access: Access
    class_id: int
    instance: bytes  # 6-byte OBIS code
    member: int  # attribute or method ID

    def to_bytes(self) -> bytes:
        return bytes([self.access]) + self.class_id.to_bytes(2) + self.instance + bytes([self.member])


def invoke_id(counter: int) -> bytes:
    return (INVOKE_ID_FLAGS | (counter & 0x00FFFFFF)).to_bytes(4)


def access_request(counter: int, specs: list[AttributeRef], data: list[bytes]) -> bytes:
    """An Access-Request; ``data`` holds one item per specification (null for a get)."""
    return (bytes([ACCESS_REQUEST]) + invoke_id(counter) + NULL
            + bytes([len(specs)]) + b"".join(s.to_bytes() for s in specs)
            + bytes([len(data)]) + b"".join(data))


def access_response(counter: int, results: list[tuple[Access, int, bytes]]) -> bytes:
    """An Access-Response: per request specification (kind, result code, returned data)."""
    return (bytes([ACCESS_RESPONSE]) + invoke_id(counter) + NULL + NULL
            + bytes([len(results)]) + b"".join(d for _, _, d in results)
            + bytes([len(results)]) + b"".join(bytes([kind, code]) for kind, code, _ in results))


def data_notification(counter: int, alert_code: int, when: dt.datetime, *body: bytes) -> bytes:
    """A DLMS alert: structure of the alert code, its time stamp and use-case content."""
    return (bytes([DATA_NOTIFICATION]) + invoke_id(counter) + NULL
            + structure(long_unsigned(alert_code), octet_string(date_time(when)), *body))
