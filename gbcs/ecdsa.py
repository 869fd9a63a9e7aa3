"""GBCS signatures: ECDSA P-256 over SHA-256, written as r||s (64 bytes), GBCS 4.3.2.

Signing is deterministic (RFC 6979) so that the same inputs give the same bytes.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

SIGNATURE_LENGTH = 64
_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, _ECDSA))
    return r.to_bytes(32) + s.to_bytes(32)


def verify(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (r||s) is ``key``'s over ``data``; a malformed one is not."""
    if len(signature) != SIGNATURE_LENGTH:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
    try:
        key.verify(der, data, _ECDSA)
    except InvalidSignature:
        return False
    return True
