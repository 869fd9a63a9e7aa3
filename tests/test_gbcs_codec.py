"""Bad GBCS input gets the codec's one clear error (never a traceback), and hansim and
SmartDCC's tools agree on signatures both ways."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs import use_cases as uc
from gbcs.encoding import GbcsError
from gbcs.grouping import Cra, GroupingHeader, SignedMessage
from gbcs.keystore import KeyStore
from gbcs.messages import ACB, Envelopes
from tests.gbcs_support import checks, parse_all, rtds_keystore, run_parser

SUPPLIER = bytes.fromhex("90B3D51F30010000")
OTHER_SUPPLIER = bytes.fromhex("90B3D51F30020000")
CHF = bytes.fromhex("00DB1234567890A2")
ESME = bytes.fromhex("00DB1234567890A0")
T0 = dt.datetime(2024, 1, 8, 9, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def envelopes() -> Envelopes:
    return Envelopes(KeyStore([rtds_keystore()]))


@pytest.fixture(scope="module")
def ccs01(envelopes) -> bytes:
    return envelopes.command(
        GroupingHeader(Cra.COMMAND, 7, ACB, CHF, uc.MessageCode.CCS01, SUPPLIER, 1),
        uc.ccs01_command(7, ESME, "ESME", bytes(16), 60))


@pytest.fixture(scope="module")
def pre(envelopes) -> bytes:
    return envelopes.pre_command(GroupingHeader(Cra.COMMAND, 1, SUPPLIER, ESME, uc.MessageCode.ECS70),
                                 uc.ecs70_command(1, T0, T0 + dt.timedelta(hours=1)))


def test_a_flipped_mac_bit_is_refused_by_both_readers(envelopes, ccs01):
    bad = ccs01[:-1] + bytes([ccs01[-1] ^ 1])
    with pytest.raises(GbcsError, match="MAC .* does not verify"):
        envelopes.open(bad)
    assert envelopes.open(ccs01).maced
    verdicts = parse_all({"good": ccs01, "bad": bad})
    assert checks(verdicts["good"]["message"]) == [("MAC", "valid")]
    assert checks(verdicts["bad"]["message"]) == [("MAC", "invalid")]


def test_truncated_at_every_length_is_one_clear_error(envelopes, ccs01):
    for n in range(len(ccs01)):
        with pytest.raises(GbcsError):
            envelopes.open(ccs01[:n])


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_bytes_are_read_or_refused_with_gbcs_error(data):
    keys = Envelopes(KeyStore([]))
    try:
        keys.open(data)
    except GbcsError:
        pass


def test_oversized_and_unknown(envelopes, ccs01, pre):
    with pytest.raises(GbcsError, match="oversized"):
        envelopes.open(ccs01 + b"\x00")
    with pytest.raises(GbcsError, match="not a GBCS message"):
        envelopes.open(b"\x00" + ccs01)
    with pytest.raises(GbcsError, match="oversized"):
        SignedMessage.from_bytes(envelopes.sign(pre) + b"\x01")


def test_signed_by_the_wrong_supplier_is_refused(envelopes, pre):
    wrong = envelopes.sign(pre, signer=OTHER_SUPPLIER)
    with pytest.raises(GbcsError, match="signature does not verify"):
        envelopes.open(wrong, signer=SUPPLIER)
    assert envelopes.open(envelopes.sign(pre), signer=SUPPLIER).message.signature
    with pytest.raises(GbcsError, match="already signed"):
        envelopes.sign(envelopes.sign(pre))


def test_signgroupingheader_signs_what_hansim_verifies_and_back(envelopes, pre):
    """The supplier's tool (gbcs-parser's signGroupingHeader, as DCC Boxed's client uses
    it) signs hansim's pre-command; hansim verifies it, and the parser verifies hansim's."""
    signed = run_parser([{"id": "s", "hex": pre.hex(), "sign": SUPPLIER.hex()}],
                        [rtds_keystore()])["s"]
    assert signed["ok"], signed
    theirs = bytes.fromhex(signed["signed"])
    assert envelopes.open(theirs, signer=SUPPLIER).message.content == SignedMessage.from_bytes(pre).content
    ours = envelopes.critical_command(envelopes.sign(pre))
    assert checks(parse_all({"c": ours})["c"]["message"]) == [("Valid", "true"), ("MAC", "valid")]
