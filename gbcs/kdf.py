"""GBCS section 4: the key-agreement KDF and the AES-128-GCM MAC it keys.

The MAC key is SHA-256(00000001 || Z || OtherInfo)[:16] (NIST SP 800-56A single-step
KDF), Z the ECDH shared secret of the two parties' Key Agreement keys, OtherInfo the
algorithm ID, the originator's system title, the CRA flag as transaction type, the
originator counter and the recipient's system title. ECDH gives the same Z from either
side's private key, which is why a device's MAC can be made with the organisation's key.
The MAC is the 12-byte GCM tag over nothing, with the security header and the General
Signing APDU as additional data, the IV the originator's system title || 00000000.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gbcs.grouping import GroupingHeader

ALGORITHM_ID = bytes.fromhex("60857406080300")  # id-ecdh-kdf, GBCS 4.3.3
SECURITY_CONTROL = 0x11  # authentication only, GBCS 7.2.3
MAC_LENGTH = 12


def mac_key(private: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey,
            header: GroupingHeader) -> bytes:
    """The 16-byte AES key for this message's MAC."""
    shared = private.exchange(ec.ECDH(), public)
    other_info = (ALGORITHM_ID + header.originator + bytes([0x09, header.cra])
                  + header.originator_counter.to_bytes(8) + header.recipient)
    return hashlib.sha256(b"\x00\x00\x00\x01" + shared + other_info).digest()[:16]


def gcm_mac(key: bytes, originator: bytes, authenticated: bytes) -> bytes:
    """The 12-byte GMAC of ``authenticated`` (security header + APDU) under ``key``."""
    iv = originator + bytes(4)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(iv, min_tag_length=MAC_LENGTH)).encryptor()
    encryptor.authenticate_additional_data(authenticated)
    encryptor.finalize()
    return encryptor.tag[:MAC_LENGTH]
