"""General Signing (GBCS 7.2.4): the grouping header every GBCS message carries, its
content, and the originator's ECDSA signature over both.

A pre-command (what the DCC returns for a critical SRV) is a General Signing APDU with no
signature field at all; a command the DCC builds for a non-critical SRV carries an empty
signature (length 00); a signed message carries 0x40 and r||s. The signed bytes run from
the byte after the 0xDF tag to the end of the content (what gbcs-parser verifies and what
its ``signGroupingHeader`` signs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from gbcs.encoding import GbcsError, Reader, encode_length

GENERAL_SIGNING = 0xDF
TRANSACTION_ID_LENGTH = 9  # CRA flag + 8-byte originator counter
SYSTEM_TITLE_LENGTH = 8


class Cra(IntEnum):
    """The CRA flag: what kind of message this is (and which MAC key it is under)."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3


@dataclass(frozen=True)
class GroupingHeader:
    """Who sent what to whom: the fields both signatures and MACs bind."""

    cra: Cra
    originator_counter: int
    originator: bytes  # 8-byte system title (EUI-64)
    recipient: bytes
    message_code: int
    #: The remote party a DCC-originated command acts for (and its counter), GBCS 4.3.1.
    supplementary_party: bytes | None = None
    supplementary_counter: int | None = None
    date_time: bytes = b""

    def other_information(self) -> bytes:
        other = self.message_code.to_bytes(2)
        if self.supplementary_party is not None:
            other += self.supplementary_party
            if self.supplementary_counter is not None:
                other += self.supplementary_counter.to_bytes(8)
        return other


@dataclass(frozen=True)
class SignedMessage:
    """One General Signing APDU, read or to be written."""

    header: GroupingHeader
    content: bytes
    #: None: a pre-command (no signature field); b"": present but empty; else r||s.
    signature: bytes | None = b""

    def signed_data(self) -> bytes:
        """The bytes an ECDSA signature covers: after the 0xDF tag, up to the content's end."""
        h = self.header
        return b"".join((
            bytes([TRANSACTION_ID_LENGTH, h.cra]), h.originator_counter.to_bytes(8),
            bytes([SYSTEM_TITLE_LENGTH]), h.originator,
            bytes([SYSTEM_TITLE_LENGTH]), h.recipient,
            encode_length(len(h.date_time)), h.date_time,
            encode_length(len(h.other_information())), h.other_information(),
            encode_length(len(self.content)), self.content,
        ))

    def to_bytes(self) -> bytes:
        out = bytes([GENERAL_SIGNING]) + self.signed_data()
        if self.signature is not None:
            out += encode_length(len(self.signature)) + self.signature
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedMessage:
        reader = Reader(data, "General Signing APDU")
        message = read_signed(reader)
        reader.expect_end()
        return message


def read_signed(reader: Reader) -> SignedMessage:
    """One General Signing APDU: whatever follows its content is its signature field."""
    if reader.byte("tag") != GENERAL_SIGNING:
        raise GbcsError(f"{reader.what}: not General Signing (tag 0x{GENERAL_SIGNING:02X})")
    if reader.length("transaction ID length") != TRANSACTION_ID_LENGTH:
        raise GbcsError(f"{reader.what}: transaction ID is not CRA flag + 8-byte counter")
    cra_byte = reader.byte("CRA flag")
    if cra_byte not in tuple(Cra):
        raise GbcsError(f"{reader.what}: CRA flag 0x{cra_byte:02X} is none of command, "
                        "response, alert")
    counter = int.from_bytes(reader.take(8, "originator counter"))
    titles = []
    for name in ("originator system title", "recipient system title"):
        if reader.length(name) != SYSTEM_TITLE_LENGTH:
            raise GbcsError(f"{reader.what}: {name} is not 8 bytes")
        titles.append(reader.take(SYSTEM_TITLE_LENGTH, name))
    date_time = reader.take(reader.length("date-time length"), "date-time")
    other = Reader(reader.take(reader.length("other information length"),
                               "other information"), "other information")
    code = int.from_bytes(other.take(2, "message code"))
    party = other.take(8, "supplementary remote party ID") if not other.at_end() else None
    party_counter = (int.from_bytes(other.take(8, "supplementary remote party counter"))
                     if not other.at_end() else None)
    other.expect_end()
    content = reader.take(reader.length("content length"), "content")
    signature = None
    if not reader.at_end():
        signature = reader.take(reader.length("signature length"), "signature")
    header = GroupingHeader(Cra(cra_byte), counter, titles[0], titles[1], code,
                            party, party_counter, date_time)
    return SignedMessage(header, content, signature)
