"""ZigBee CCM* security for NWK and APS frames: auxiliary header, nonce, level 5, frame counters.

ZigBee PRO secures with level 5 (ENC-MIC-32) but transmits 0 in the security control
byte, so the receiver must put 5 back into both the nonce and the authenticated header
before checking the tag. AES-CCM with a 4-byte tag and a 13-byte nonce is CCM* at that
level; ``cryptography`` does it. The auxiliary header itself is scapy's
``ZigbeeSecurityHeader``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from scapy.layers.zigbee import ZigbeeSecurityHeader

LEVEL_ENC_MIC_32 = 5
MIC_LENGTH = 4
_LEVEL_MASK = 0x07


class KeyId(IntEnum):
    """Key identifier in the security control byte (bits 3-4)."""

    LINK = 0
    NETWORK = 1
    KEY_TRANSPORT = 2
    KEY_LOAD = 3


class SecurityError(ValueError):
    """A secured frame that cannot be accepted; the message is the drop reason."""


@dataclass(frozen=True)
class AuxHeader:
    """The auxiliary security header fields (always with the extended nonce, as ZigBee PRO sends)."""

    key_id: KeyId
    frame_counter: int
    source: int  # EUI-64 as the integer scapy's address fields take
    key_seq: int = 0

    def encode(self, level: int = 0) -> bytes:
        return bytes(
            ZigbeeSecurityHeader(
                extended_nonce=1, key_type=int(self.key_id), nwk_seclevel=level,
                fc=self.frame_counter, source=self.source, key_seqnum=self.key_seq,
            )
        )

    def nonce(self, restored: bytes) -> bytes:
        """Source EUI-64 + frame counter + control byte (of ``restored``, the level-5 header)."""
        return self.source.to_bytes(8, "little") + struct.pack("<IB", self.frame_counter, restored[0])


def _on_air(restored: bytes) -> bytes:
    """The level-5 auxiliary header as transmitted: level bits cleared to 0."""
    return bytes([restored[0] & ~_LEVEL_MASK]) + restored[1:]


def secure(header: bytes, aux: AuxHeader, key: bytes, payload: bytes) -> bytes:
    """``header`` + auxiliary header (level 0 on air) + CCM* ciphertext and MIC."""
    restored = aux.encode(LEVEL_ENC_MIC_32)
    sealed = AESCCM(key, tag_length=MIC_LENGTH).encrypt(aux.nonce(restored), payload, header + restored)
    return header + _on_air(restored) + sealed


def parse_aux(secured: bytes) -> tuple[AuxHeader, bytes]:
    """Split auxiliary header + sealed payload (as on air, after the NWK or APS header)."""
    if len(secured) < 5:
        raise SecurityError("auxiliary security header truncated")
    layer = ZigbeeSecurityHeader(secured)
    if not layer.extended_nonce:
        raise SecurityError("auxiliary header without extended nonce (source address) unsupported")
    if layer.nwk_seclevel not in (0, LEVEL_ENC_MIC_32):
        raise SecurityError(f"security level {layer.nwk_seclevel} on air, expected 0")
    aux_length = 1 + 4 + 8 + (1 if layer.key_type == KeyId.NETWORK else 0)
    if len(secured) < aux_length + MIC_LENGTH:
        raise SecurityError("secured payload shorter than its auxiliary header and MIC")
    aux = AuxHeader(KeyId(layer.key_type), layer.fc, int(layer.source),
                    layer.key_seqnum if layer.key_type == KeyId.NETWORK else 0)
    return aux, secured[aux_length:]


def unsecure(header: bytes, aux: AuxHeader, sealed: bytes, key: bytes) -> bytes:
    """The plaintext, or :class:`SecurityError` when the MIC does not match under ``key``."""
    restored = aux.encode(LEVEL_ENC_MIC_32)
    try:
        return AESCCM(key, tag_length=MIC_LENGTH).decrypt(aux.nonce(restored), sealed, header + restored)
    except InvalidTag:
        raise SecurityError("MIC check failed") from None


class IncomingCounters:
    """Replay protection: each sender's frame counter per key must increase (NWK/APS freshness)."""

    def __init__(self) -> None:
        self._last: dict[tuple[int, KeyId], int] = {}

    def check(self, aux: AuxHeader) -> None:
        last = self._last.get((aux.source, aux.key_id))
        if last is not None and aux.frame_counter <= last:
            raise SecurityError("stale frame counter (replay)")

    def accept(self, aux: AuxHeader) -> None:
        self._last[(aux.source, aux.key_id)] = aux.frame_counter
