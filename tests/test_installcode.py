"""Install codes: the spec vector, every textual form, CRC checks, secrecy, properties."""

import random

import pytest
import zigpy.util
from hypothesis import given
from hypothesis import strategies as st

from han.installcode import CODE_LENGTHS, InstallCode, InstallCodeError

VECTOR = "83FED3407A939723A5C639B26916D505"
VECTOR_CRC = "C3B5"
VECTOR_KEY = "66B6900981E1EE3CA4206B6B861C02BB"


@pytest.mark.parametrize(
    "text",
    [
        VECTOR + VECTOR_CRC,
        VECTOR,
        VECTOR.lower(),
        " ".join(VECTOR[i : i + 4] for i in range(0, 32, 4)),
        ":".join(VECTOR[i : i + 2] for i in range(0, 32, 2)) + ":C3:B5",
        "-".join(VECTOR[i : i + 2] for i in range(0, 32, 2)),
        "0x" + VECTOR + VECTOR_CRC,
        "Z:0011223344556677$I:" + VECTOR + VECTOR_CRC,
        "0011223344556677|" + VECTOR + VECTOR_CRC,
    ],
)
def test_every_form_gives_the_spec_link_key(text: str) -> None:
    code = InstallCode.parse(text)
    assert code.crc.hex().upper() == VECTOR_CRC
    assert bytes(code.link_key()).hex().upper() == VECTOR_KEY


def test_duis_form_has_no_crc() -> None:
    code = InstallCode.from_duis(VECTOR)
    assert code.duis() == VECTOR
    assert code.reveal() == VECTOR + VECTOR_CRC


def test_qr_gives_eui64() -> None:
    ieee, code = InstallCode.parse_qr("Z:0011223344556677$I:" + VECTOR + VECTOR_CRC)
    assert str(ieee) == "00:11:22:33:44:55:66:77"
    assert code == InstallCode.parse(VECTOR)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (VECTOR + "C3B6", "CRC mismatch: its last 2 bytes are not the CRC-16 of the bytes before them"),
        (VECTOR[:-2], "15 bytes"),
        (VECTOR + "ZZ", "non-hex characters: 'Z'"),
        (VECTOR + "0", "odd number"),
        ("00112233445566778899AABBCCDDEEFF0011223344", "21 bytes"),
        ("RB01SG" + "0" * 34 + "0011223344556677DLK" + VECTOR_KEY, "link key, not an install code"),
    ],
)
def test_bad_codes_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(InstallCodeError, match=reason.replace("(", r"\(")):
        InstallCode.parse(text)


def test_duis_rejects_lengths_outside_the_schema() -> None:
    with pytest.raises(InstallCodeError, match="7 bytes"):
        InstallCode.from_duis("00" * 7)


def test_secret_never_in_repr_or_str() -> None:
    code = InstallCode.parse(VECTOR)
    for shown in (repr(code), str(code), f"{code}", repr([code])):
        assert VECTOR not in shown.upper()
        assert "hidden" in shown


def test_seeded_generation_is_reproducible() -> None:
    assert InstallCode.generate(16, random.Random(7)) == InstallCode.generate(16, random.Random(7))


@given(length=st.sampled_from(CODE_LENGTHS), seed=st.integers(0, 2**32))
def test_generated_codes_validate_and_match_zigpy(length: int, seed: int) -> None:
    code = InstallCode.generate(length, random.Random(seed))
    assert len(code) == length
    again = InstallCode.parse(code.reveal())
    assert again == code
    assert again.link_key() == zigpy.util.convert_install_code(code.with_crc)


@given(length=st.sampled_from(CODE_LENGTHS), seed=st.integers(0, 2**32), data=st.data())
def test_any_single_bit_flip_fails_the_crc(length: int, seed: int, data: st.DataObject) -> None:
    raw = bytearray(InstallCode.generate(length, random.Random(seed)).with_crc)
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InstallCodeError, match="CRC mismatch"):
        InstallCode.from_bytes(bytes(raw), with_crc=True)
    with pytest.raises(ValueError):  # zigpy agrees
        zigpy.util.convert_install_code(bytes(raw))
