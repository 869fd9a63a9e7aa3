"""GB firmware images against zigpy's OTA header parser, OpenSSL and DCC's 11.1 template."""

import shutil
import subprocess

import pytest
from _firmware_support import key, signed, template_image
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from zigpy.ota.image import OTAImageHeader

from firmware import image, signing_keys
from firmware.image import ImageFormatError, SignatureError
from tests.gbcs_support import rtds_keystore


@settings(max_examples=40, deadline=None)
@given(code=st.integers(0, 0xFFFF), image_type=st.integers(0, 0xFFFF),
       version=st.integers(0, 0xFFFFFFFF), text=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=10),
       hw=st.none() | st.tuples(st.integers(0, 0x7FFF), st.integers(0x8000, 0xFFFF)),
       payload=st.binary(min_size=1, max_size=300))
def test_zigpy_reads_the_headers_we_write(code, image_type, version, text, hw, payload) -> None:
    data = image.build(supplier_key=key(), manufacturer_code=code, image_type=image_type,
                       version=version, manufacturer_image=payload, header_string=text,
                       hardware_versions=hw).serialize()
    header, rest = OTAImageHeader.deserialize(data)
    assert header.upgrade_file_id == 0x0BEEF11E
    assert (header.manufacturer_id, header.image_type, header.file_version) == (code, image_type, version)
    assert header.header_string.rstrip(b"\x00").decode() == text
    assert header.image_size == len(data)
    assert header.header_length == len(data) - len(rest)
    assert header.hardware_versions_present == (hw is not None)
    if hw:
        assert (header.minimum_hardware_version, header.maximum_hardware_version) == hw
    assert rest == payload + b"\x00\x40" + data[-64:]


def test_signature_verifies_and_hash_is_sha256_of_the_manufacturer_image() -> None:
    parsed = image.parse(signed(b"abc"))
    parsed.verify(key().public_key())
    # FIPS 180-2 test vector for SHA-256("abc")
    assert parsed.hash.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_verifies_our_signature(tmp_path) -> None:
    data = signed()
    parsed = image.parse(data)
    r, s = int.from_bytes(parsed.signature[:32], "big"), int.from_bytes(parsed.signature[32:], "big")
    (tmp_path / "sig.der").write_bytes(encode_dss_signature(r, s))
    (tmp_path / "signed.bin").write_bytes(parsed.manufacturer_image)  # all the supplier signs
    (tmp_path / "pub.pem").write_bytes(signing_keys.public_pem(key().public_key()))
    result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature",
                             "sig.der", "signed.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and "Verified OK" in result.stdout


DATA = signed(b"\x5a" * 100)
HEADER_LENGTH = len(DATA) - 100 - 66


@settings(max_examples=200, deadline=None)
@given(position=st.integers(HEADER_LENGTH, len(DATA) - 1).filter(lambda p: p != len(DATA) - 66),
       mask=st.integers(1, 255))
def test_any_flipped_byte_of_the_manufacturer_image_or_signature_fails(position: int,
                                                                       mask: int) -> None:
    corrupted = bytearray(DATA)
    corrupted[position] ^= mask
    with pytest.raises(image.FirmwareImageError):
        image.parse(bytes(corrupted)).verify(key().public_key())


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, HEADER_LENGTH - 1), mask=st.integers(1, 255))
def test_a_flipped_header_byte_is_refused_or_changes_what_the_catalogue_checks(position: int,
                                                                              mask: int) -> None:
    """The header is outside the signature (GBCS signs the manufacturer image): a change
    there either breaks the parse or shows as a different header, never passes unseen."""
    corrupted = bytearray(DATA)
    corrupted[position] ^= mask
    try:
        parsed = image.parse(bytes(corrupted))
    except image.FirmwareImageError:
        return
    assert parsed.header.serialize() != image.parse(DATA).header.serialize()


def test_another_manufacturers_key_fails() -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        image.parse(DATA).verify(key(1).public_key())


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "OTA file identifier"),
    (b"\x1e\xf1\xee\x0c" + DATA[4:], "OTA file identifier"),
    (DATA[:30], "OTA header: truncated"),
    (DATA[:-1], "image: truncated"),
    (DATA + b"\x00", "image: oversized"),
    (b"\x00" * (image.MAX_IMAGE_SIZE + 1), "DUIS allows"),
    (DATA[:-66] + b"\x00\x41" + DATA[-64:], "signature length"),
    (DATA[:-66] + b"\x02\x40" + DATA[-64:], "force-replace flag"),
])
def test_bad_input_names_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageFormatError, match=reason):
        image.parse(data)


def test_zero_signature_is_not_an_ecdsa_value() -> None:
    with pytest.raises(SignatureError, match="outside"):
        image.parse(DATA[:-64] + bytes(64)).verify(key().public_key())


def test_dcc_11_1_template_image_verifies_with_the_dcc_boxed_test_supplier() -> None:
    """The template's signature is the DCC Boxed test supplier's (GITTESTSUPPLIER) over the
    manufacturer image alone: its certificate from the RTDS key store verifies it."""
    parsed = image.parse(template_image())
    assert (parsed.manufacturer_code, parsed.image_type, parsed.version) == (0x121D, 0x0000, 0xACDCACDC)
    assert parsed.header.header_string.rstrip(b"\x00") == b"I am a GFI ESME[] firmware image"
    assert parsed.hardware_versions == (0x1111, 0x1211)
    assert parsed.manufacturer_image.startswith(b"CriticalSoftware sample firmware image_")
    assert len(parsed.manufacturer_image) == 235
    certificate = (rtds_keystore() / "90b3d51f30010000-ds.pem").read_bytes()
    parsed.verify(signing_keys.load_public_key(certificate, "90b3d51f30010000-ds.pem"))
    with pytest.raises(SignatureError, match="another supplier"):
        parsed.verify(key(1).public_key())
    assert not parsed.force_replace
    assert parsed.serialize() == template_image()


def test_force_replace_is_read_and_outside_the_signature() -> None:
    data = bytearray(template_image())
    data[-66] = 0x01
    parsed = image.parse(bytes(data))
    assert parsed.force_replace
    parsed.verify(key().public_key())  # still the DCC Boxed test supplier's valid signature
    assert parsed.serialize() == bytes(data)
    built = image.build(supplier_key=key(), manufacturer_code=1, image_type=1, version=1,
                        manufacturer_image=b"x", force_replace=True)
    assert image.parse(built.serialize()).force_replace


def test_builds_are_bit_for_bit_reproducible() -> None:
    images = [image.build(supplier_key=key(), manufacturer_code=0x1234, image_type=1,
                          version=2, manufacturer_image=b"payload") for _ in range(2)]
    assert images[0].serialize() == images[1].serialize()
    images[0].verify(key().public_key())
