"""Our frames' payloads, decrypted here straight from the ZigBee spec's CCM* rules (not through
han.security), are what zigpy itself deserialises: Device_annce and the Metering ZCL exchange."""

from __future__ import annotations

import struct
from unittest import mock

import pytest
import zigpy.zdo
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from zigpy.zcl import foundation
from zigpy.zcl.clusters.smartenergy import Metering

from han.eui import to_device_id, to_eui64, to_int
from han.security import AuxHeader, KeyId, SecurityError, parse_aux, secure, unsecure
from han_support import ESME, code, join, sent_by
from han.zcl import MeterReading


def _open(secured: bytes, header_length: int, key: bytes) -> bytes:
    """Spec C.4 / 4.5.1: nonce = source EUI-64 + frame counter + control with level 5 restored."""
    header, control = secured[:header_length], secured[header_length] | 0x05
    counter = secured[header_length + 1 : header_length + 5]
    source = secured[header_length + 5 : header_length + 13]
    aux_length = 14 if control & 0x18 == 0x08 else 13  # network key adds the key sequence number
    aad = header + bytes([control]) + secured[header_length + 1 : header_length + aux_length]
    return AESCCM(key, tag_length=4).decrypt(source + counter + bytes([control]), secured[header_length + aux_length :], aad)


def _nwk(raw: bytes) -> bytes:
    """NWK frame of a MAC data frame with short addresses and PAN id compression (9-byte header)."""
    return raw[9:-2]


def _nwk_header_length(nwk: bytes) -> int:
    return 8 + (8 if nwk[1] & 0x08 else 0) + (8 if nwk[1] & 0x10 else 0)


@pytest.fixture(scope="module")
def joined():
    secret = code(31)
    return join(secret, seed=9, reading=MeterReading(1234567)), bytes(secret.link_key())


def test_zigpy_reads_our_device_annce(joined) -> None:
    report, _ = joined
    (annce,) = sent_by(report, "ESME", kind=1)[:1]
    nwk = _nwk(annce)
    aps = _open(nwk, _nwk_header_length(nwk), report.network_key)
    assert aps[:1] == b"\x08" and struct.unpack("<HH", aps[2:6]) == (0x0013, 0x0000)  # broadcast, ZDO
    header, (nwk_address, ieee, capability) = zigpy.zdo.ZDO(None).deserialize(0x0013, aps[8:])
    assert str(ieee) == str(to_eui64(ESME)) and to_device_id(ieee) == ESME
    assert capability == 0x8E  # FFD, mains powered, receiver on when idle, allocate address


def test_zigpy_reads_our_metering_read_and_response(joined) -> None:
    report, link_key = joined
    cluster = Metering(mock.MagicMock())
    exchanged = []
    for sender in ("CHF", "ESME"):
        data = [raw for raw in sent_by(report, sender, kind=1)]
        nwk = _nwk(data[-1])
        aps = _open(nwk, _nwk_header_length(nwk), report.network_key)
        assert aps[0] & 0x20 and struct.unpack("<HH", aps[2:6]) == (0x0702, 0x0109)  # APS-secured SE
        exchanged.append(cluster.deserialize(_open(aps, 8, link_key)))
    (read_header, read), (rsp_header, rsp) = exchanged
    assert read_header.command_id == foundation.GeneralCommand.Read_Attributes
    assert read.attribute_ids == [0x0000, 0x0300]
    assert rsp_header.command_id == foundation.GeneralCommand.Read_Attributes_rsp
    assert rsp_header.tsn == read_header.tsn
    assert [(r.attrid, r.value.value) for r in rsp.status_records] == [(0, 1234567), (0x0300, 0)]
    assert report.reading == {0x0000: 1234567, 0x0300: 0}


def test_ccm_star_round_trip_and_tamper() -> None:
    aux = AuxHeader(KeyId.NETWORK, 41, to_int(to_eui64(ESME)), key_seq=3)
    key, header = bytes(range(16)), b"\x08\x12\xfd\xff\x34\x12\x1e\x05"
    secured = secure(header, aux, key, b"payload")
    assert secured[len(header)] == 0x28  # level 0 on air, network key, extended nonce
    assert _open(secured, len(header), key) == b"payload"
    parsed, sealed = parse_aux(secured[len(header):])
    assert parsed == aux and unsecure(header, parsed, sealed, key) == b"payload"
    with pytest.raises(SecurityError, match="MIC"):
        unsecure(header, parsed, sealed[:-1] + bytes([sealed[-1] ^ 1]), key)
    with pytest.raises(SecurityError, match="MIC"):
        unsecure(b"\x09" + header[1:], parsed, sealed, key)  # the header is authenticated too
