"""Firmware signing keys: ECDSA P-256, as PEM files.

GBCS has the supplier that authorises an image sign it (its Digital Signing key, e.g. the
DCC Boxed test supplier's ``90b3d51f30010000-ds.key``); a device checks it with the key of
its current supplier, which arrives in an X.509 certificate, so the verifying side
accepts either a certificate or a bare public key in PEM.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from firmware.image import FirmwareImageError


class KeyFileError(FirmwareImageError):
    """A key or certificate file hansim cannot use."""


def generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(pem: bytes, where: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise KeyFileError(f"{where}: not an unencrypted PEM private key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _not_p256(where)
    return key


def load_public_key(pem: bytes, where: str) -> ec.EllipticCurvePublicKey:
    """A PEM public key or X.509 certificate holding an ECDSA P-256 key."""
    key: PublicKeyTypes
    if b"-----BEGIN CERTIFICATE-----" in pem:
        try:
            key = x509.load_pem_x509_certificate(pem).public_key()
        except ValueError as err:
            raise KeyFileError(f"{where}: not a readable PEM certificate ({err})") from None
    else:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as err:
            raise KeyFileError(f"{where}: not a PEM public key or certificate ({err})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _not_p256(where)
    return key


def _not_p256(where: str) -> KeyFileError:
    return KeyFileError(f"{where}: the key is not ECDSA P-256 (secp256r1)")
