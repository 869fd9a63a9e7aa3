"""General Ciphering (GBCS 7.2.3) used for authentication only: the MACed envelope round a
General Signing APDU that the Access Control Broker (commands) or a device (responses,
alerts) adds.

Layout: DD 00 00 00 00 00 00 | ciphered service length | security header (11 00000000) |
General Signing APDU | 12-byte MAC.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from gbcs.encoding import GbcsError, Reader, encode_length
from gbcs.grouping import SignedMessage, read_signed
from gbcs.kdf import MAC_LENGTH, SECURITY_CONTROL, gcm_mac, mac_key

GENERAL_CIPHERING = bytes.fromhex("DD000000000000")
SECURITY_HEADER = bytes([SECURITY_CONTROL]) + bytes(4)  # invocation counter unused: 0


@dataclass(frozen=True)
class MacedMessage:
    """A General Signing APDU inside General Ciphering, with its MAC."""

    inner: SignedMessage
    mac: bytes

    def authenticated(self) -> bytes:
        """What the MAC covers (as gbcs-parser computes it): SC, a zero AK byte and the
        4-byte invocation counter, then the General Signing APDU."""
        return bytes([SECURITY_CONTROL]) + bytes(5) + self.inner.to_bytes()

    def to_bytes(self) -> bytes:
        inner = self.inner.to_bytes()
        service = SECURITY_HEADER + inner + self.mac
        return GENERAL_CIPHERING + encode_length(len(service)) + service

    def mac_valid(self, private: ec.EllipticCurvePrivateKey,
                  public: ec.EllipticCurvePublicKey) -> bool:
        return gcm_mac(mac_key(private, public, self.inner.header),
                       self.inner.header.originator, self.authenticated()) == self.mac

    @classmethod
    def seal(cls, inner: SignedMessage, private: ec.EllipticCurvePrivateKey,
             public: ec.EllipticCurvePublicKey) -> MacedMessage:
        """MAC ``inner`` with the key agreed between ``private`` and ``public``."""
        unsealed = cls(inner, b"")
        tag = gcm_mac(mac_key(private, public, inner.header), inner.header.originator,
                      unsealed.authenticated())
        return cls(inner, tag)

    @classmethod
    def from_bytes(cls, data: bytes) -> MacedMessage:
        reader = Reader(data, "General Ciphering APDU")
        if reader.take(len(GENERAL_CIPHERING), "tag") != GENERAL_CIPHERING:
            raise GbcsError("General Ciphering APDU: not DD 00 00 00 00 00 00")
        service = Reader(reader.take(reader.length("ciphered service length"),
                                     "ciphered service"), "General Ciphering APDU")
        reader.expect_end()
        if service.take(len(SECURITY_HEADER), "security header") != SECURITY_HEADER:
            raise GbcsError("General Ciphering APDU: security header is not "
                            "authentication-only (11 00000000)")
        body = service.take(len(service.data) - service.pos - MAC_LENGTH, "General Signing APDU")
        mac = service.take(MAC_LENGTH, "MAC")
        inner_reader = Reader(body, "General Signing APDU")
        return cls(read_signed(inner_reader), mac)
