"""AES-MMO and HMAC-MMO against the ZigBee specification's annex C test vectors."""

import pytest
import zigpy.util

from han.keys import aes_mmo_hash, hmac_mmo, key_load_key, key_transport_key


def _counting(n: int) -> bytes:
    return bytes(i % 256 for i in range(n))


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"\xc0", "ae3a102a28d43ee0d4a09e22788b206c"),  # C.5.1
        (bytes(range(0xC0, 0xD0)), "a7977e88bc0b61e8210827109a228f2d"),  # C.5.2
        (_counting(8191), "24ec2fe75bbffcb34789bc0610e7f165"),  # C.5.3
        (_counting(8192), "dc6b0687f09f8607131c170b3bd31591"),  # C.5.4: long form
        (_counting(8201), "72c9b15e178aa843e4a16c58e33643a3"),  # C.5.5
        (_counting(8202), "bc9828d59b2aa323daf20be5f2e66511"),  # C.5.6
    ],
    ids=["C.5.1", "C.5.2", "C.5.3", "C.5.4", "C.5.5", "C.5.6"],
)
def test_aes_mmo_spec_vectors(message: bytes, digest: str) -> None:
    assert aes_mmo_hash(message).hex() == digest


def test_aes_mmo_agrees_with_zigpy_below_8192_bytes() -> None:
    for n in (0, 1, 13, 14, 15, 16, 17, 18, 100, 8191):
        assert aes_mmo_hash(_counting(n)) == bytes(zigpy.util.aes_mmo_hash(_counting(n)))


def test_hmac_mmo_spec_vector_c6() -> None:
    assert hmac_mmo(bytes(range(0x40, 0x50)), b"\xc0").hex() == "4512807bf94cb3400f0e2c25fb76e999"


def test_derived_keys() -> None:
    link_key = bytes.fromhex("66B6900981E1EE3CA4206B6B861C02BB")
    assert key_transport_key(link_key).hex() == "3c6cca8977eb189efd1614c3e7f75989"
    assert key_transport_key(b"ZigBeeAlliance09").hex() == "4bab0f173e1434a2d572e1c1ef478782"
    assert key_load_key(link_key) == hmac_mmo(link_key, b"\x02")
    assert key_load_key(link_key) != key_transport_key(link_key)
