"""Critical commands: the DCC's pre-command (variant 4) and the supplier's signature (5).

For a critical SRV the DCC does not send the command itself: it returns a *pre-command*
which the supplier signs with its Digital Signing key and sends back (command variant
5); the device obeys only a command its supplier signed. Real pre-commands are GBCS
APDUs; hansim does not build GBCS, so the pre-command here is a small, deterministic,
self-describing byte string (``hansim-precommand/1`` + JSON: SRV, RequestID, body). The
signature *is* real: ECDSA P-256 / SHA-256, r||s appended (64 bytes), as GBCS appends
it, checked by the meter against the public key of the supplier it belongs to.

Supplier keys here are **test keys** derived from the user ID (:func:`supplier_test_key`):
hansim has no SMKI certificates, so nothing checks a key's certificate chain.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from sim.duis.bodies import SignedPreCommand
from sim.duis.request import ServiceRequest
from sim.duis.response import PreCommand

MAGIC = b"hansim-precommand/1\n"
GBCS_VERSION = "hansim/1"
SIGNATURE_LENGTH = 64
SIGNED_VARIANT = 5
_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class PreCommandError(ValueError):
    """A signed pre-command that cannot be trusted or read, with the reason."""


def pre_command(request: ServiceRequest) -> PreCommand:
    """The pre-command the DCC returns for a critical request (variant 4)."""
    content = {
        "srv": request.srv,
        "request_id": str(request.request_id),
        "body": type(request.body).__name__,
        "fields": dataclasses.asdict(request.body),  # type: ignore[call-overload]
    }
    payload = MAGIC + json.dumps(content, sort_keys=True).encode()
    return PreCommand(GBCS_VERSION, base64.b64encode(payload).decode())


def supplier_test_key(user_id: str) -> ec.EllipticCurvePrivateKey:
    """A deterministic P-256 test key for a DUIS user ID (no SMKI behind it)."""
    digest = hashlib.sha256(b"hansim supplier test key " + user_id.upper().encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest) % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def sign(pre: PreCommand, key: ec.EllipticCurvePrivateKey) -> str:
    """The supplier's step: pre-command payload + r||s, base64, for SignedPreCommand."""
    payload = base64.b64decode(pre.gbcs_payload)
    r, s = decode_dss_signature(key.sign(payload, _ECDSA))
    return base64.b64encode(payload + r.to_bytes(32) + s.to_bytes(32)).decode()


def signed_request(original: ServiceRequest, pre: PreCommand,
                   key: ec.EllipticCurvePrivateKey) -> ServiceRequest:
    """The variant-5 request that carries the signed pre-command back to the DCC."""
    return dataclasses.replace(
        original, command_variant=SIGNED_VARIANT, body=SignedPreCommand(sign(pre, key))
    )


def open_signed(gbcs_payload: str, supplier_key: ec.EllipticCurvePublicKey | None) -> dict:
    """The device's step: check the supplier's signature, then read the command."""
    try:
        data = base64.b64decode(gbcs_payload, validate=True)
    except ValueError:
        raise PreCommandError("GBCSPayload is not base64") from None
    payload, sig = data[:-SIGNATURE_LENGTH], data[-SIGNATURE_LENGTH:]
    if len(data) <= SIGNATURE_LENGTH or not payload.startswith(MAGIC):
        raise PreCommandError("GBCSPayload is not a pre-command this DCC issued")
    if supplier_key is None:
        raise PreCommandError("the device holds no supplier key to check the signature with")
    der = encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:]))
    try:
        supplier_key.verify(der, payload, _ECDSA)
    except InvalidSignature:
        raise PreCommandError(
            "supplier signature does not verify with the key the device holds"
        ) from None
    return json.loads(payload[len(MAGIC):])
