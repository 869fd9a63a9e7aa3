"""ZigBee key derivation: AES-MMO hash (any length) and HMAC-MMO (ZigBee spec annex B.6, C.5-C.6).

zigpy's own ``aes_mmo_hash`` pads with a 16-bit length field only, so it is wrong for
inputs of 8192 bytes and more; firmware images and certificates can be that long, so
the hash here follows the specification's long form too.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16

#: Input byte to HMAC-MMO for the key-transport key (APS key identifier 2).
KEY_TRANSPORT_INPUT = 0x00
#: Input byte to HMAC-MMO for the key-load key (APS key identifier 3).
KEY_LOAD_INPUT = 0x02


def _mmo_pad(message: bytes) -> bytes:
    """Append the MMO padding: a 1 bit, zeros, then the bit length (B.6)."""
    bits = len(message) * 8
    if bits < 1 << 16:
        length_field = bits.to_bytes(2, "big")
    elif bits < 1 << 32:
        # Long form: 32-bit length followed by 16 zero bits.
        length_field = bits.to_bytes(4, "big") + b"\x00\x00"
    else:
        raise ValueError("AES-MMO input too long: at most 2**32 - 1 bits")
    padded = message + b"\x80"
    zeros = (-(len(padded) + len(length_field))) % BLOCK
    return padded + b"\x00" * zeros + length_field


def aes_mmo_hash(message: bytes) -> bytes:
    """AES-128 Matyas-Meyer-Oseas hash: H_i = E(H_{i-1}, M_i) xor M_i, H_0 = 0."""
    digest = bytes(BLOCK)
    padded = _mmo_pad(bytes(message))
    for offset in range(0, len(padded), BLOCK):
        block = padded[offset : offset + BLOCK]
        encryptor = Cipher(algorithms.AES(digest), modes.ECB()).encryptor()
        cipher_block = encryptor.update(block) + encryptor.finalize()
        digest = bytes(a ^ b for a, b in zip(cipher_block, block))
    return digest


def hmac_mmo(key: bytes, message: bytes) -> bytes:
    """Keyed hash HMAC with AES-MMO as the hash function (block size 16, ZigBee B.1.4)."""
    if len(key) > BLOCK:
        key = aes_mmo_hash(key)
    key = key.ljust(BLOCK, b"\x00")
    inner = aes_mmo_hash(bytes(k ^ 0x36 for k in key) + message)
    return aes_mmo_hash(bytes(k ^ 0x5C for k in key) + inner)


def key_transport_key(link_key: bytes) -> bytes:
    """Key that protects an APS Transport Key command (key identifier 2)."""
    return hmac_mmo(link_key, bytes([KEY_TRANSPORT_INPUT]))


def key_load_key(link_key: bytes) -> bytes:
    """Key that protects an APS Transport Key carrying a link key (key identifier 3)."""
    return hmac_mmo(link_key, bytes([KEY_LOAD_INPUT]))
