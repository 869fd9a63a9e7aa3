"""Whose XML signatures the DCC trusts, and the key it signs its own documents with.

The file format is that of SmartDCC's ``@smartdcc/dccboxed-keystore`` (``keystore.json``):
``{business ID (16 hex): {"digitalSignature": {serial: {"certificate": PEM,
"privateKey"?: PEM, "name", "role"}}}}``. ``keys/zaz1.json`` holds, from that package
(GPL-3.0-or-later, © Smart DCC Ltd, like hansim), the public digital-signature
certificates of the ZAZ1 test organisations that DCC Boxed ships (supplier
90-B3-D5-1F-30-01-00-00, a second supplier -03-, the network operator -02-, the other
user 00-DB-12-34-56-78-00-04, ...) and the DSP's XML-signing certificate with its
*published test* private key, so that DCC Boxed's own tools accept what hansim signs.
A real deployment passes its own file (``hansim dcc serve --keystore``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sim.duis.signature import SigningKey

ZAZ1_KEYSTORE = Path(__file__).parent / "keys" / "zaz1.json"
DSP_ID = "90B3D51F30000002"
#: SMKI role code of an XML-signing certificate for DUIS responses and alerts (the DSP's).
DSP_XML_SIGN_ROLE = 137


class KeystoreError(ValueError):
    """A keystore file that cannot be used, naming the file and entry."""


@dataclass
class Keystore:
    """Certificates by user (business ID, 16 upper-case hex digits) and the DSP signing key."""

    certificates: dict[str, list[x509.Certificate]]
    dsp: SigningKey
    #: Entries whose certificate does not parse (e.g. DER that strict parsers reject): unusable.
    skipped: list[str] = field(default_factory=list)

    def of_user(self, user_id: str) -> list[x509.Certificate]:
        """A user's digital-signature certificates; ``user_id`` as in a RequestID (with dashes)."""
        return self.certificates.get(user_id.replace("-", "").upper(), [])


def load_keystore(path: Path = ZAZ1_KEYSTORE) -> Keystore:
    """Read a dccboxed-keystore JSON file."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise KeystoreError(f"{path}: {err}") from None
    except RecursionError:
        raise KeystoreError(f"{path}: nested too deeply to be a keystore") from None
    if not isinstance(entries, dict):
        raise KeystoreError(f"{path}: not a dccboxed keystore (a JSON object of business IDs)")
    certificates: dict[str, list[x509.Certificate]] = {}
    dsp: SigningKey | None = None
    skipped: list[str] = []
    for user, usages in entries.items():
        signatures = usages.get("digitalSignature", {}) if isinstance(usages, dict) else None
        if not isinstance(signatures, dict):
            raise KeystoreError(f"{path}: {user:.40}: not an object with digitalSignature certificates")
        for serial, entry in signatures.items():
            where = f"{path}: {user:.40} certificate {serial:.40}"
            if not isinstance(entry, dict) or not isinstance(entry.get("certificate"), str):
                raise KeystoreError(f"{where}: no certificate (a PEM string)")
            try:
                cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
            except ValueError as err:
                skipped.append(f"{where} ({str(entry.get('name', '?')):.40}): {err}")
                continue
            certificates.setdefault(user.upper(), []).append(cert)
            if user.upper() == DSP_ID and entry.get("role") == DSP_XML_SIGN_ROLE \
                    and entry.get("privateKey"):
                dsp = SigningKey(_dsp_key(entry["privateKey"], where), cert)
    if dsp is None:
        raise KeystoreError(f"{path}: no DSP XML-signing key (business ID {DSP_ID}, "
                            f"role {DSP_XML_SIGN_ROLE}, with privateKey)")
    return Keystore(certificates, dsp, skipped)


def _dsp_key(pem: object, where: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), None) if isinstance(pem, str) else None
    except (ValueError, TypeError) as err:  # not PEM, or encrypted
        raise KeystoreError(f"{where}: the DSP key is not an unencrypted PEM private key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeystoreError(f"{where}: the DSP key is not an EC private key (a PEM string)")
    return key
