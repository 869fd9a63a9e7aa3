"""The emulator's serial line: framing checked with zigpy-znp's own frame parser, and
random or mutated bytes (hypothesis) that must never crash it or stop it answering."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("zigpy_znp")

import zigpy_znp.commands as c  # noqa: E402
import zigpy_znp.types as t  # noqa: E402
from zigpy_znp.frames import TransportFrame  # noqa: E402

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.framing import encode  # noqa: E402

PING = bytes.fromhex("fe00210120")  # SYS.Ping as TI documents it


def frames_of(data: bytes) -> list:
    """Parse the host side with zigpy-znp's TransportFrame; every byte must belong to a frame."""
    frames = []
    while data:
        frame, data = TransportFrame.deserialize(data)
        frames.append(c.COMMANDS_BY_ID[frame.payload.header].from_frame(frame.payload, align=True))
    return frames


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_ping_is_answered_with_capabilities() -> None:
    emulator = ZStackEmulator()
    emulator.receive(PING)
    [rsp] = frames_of(emulator.take_output())
    assert isinstance(rsp, c.SYS.Ping.Rsp)
    assert rsp.Capabilities & t.MTCapabilities.APP_CNF


def test_unknown_request_gets_rpc_error() -> None:
    emulator = ZStackEmulator()
    emulator.receive(encode(c.MAC.ResetReq.Req(SetDefault=True)))
    [rsp] = frames_of(emulator.take_output())
    assert isinstance(rsp, c.RPCError.CommandNotRecognized.Rsp)
    assert rsp.RequestHeader == c.MAC.ResetReq.Req.header


def test_frame_split_across_reads_is_reassembled() -> None:
    emulator = ZStackEmulator()
    for byte in PING * 2:
        emulator.receive(bytes([byte]))
    assert [type(f) for f in frames_of(emulator.take_output())] == [c.SYS.Ping.Rsp] * 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_and_pings_still_answered(garbage: bytes) -> None:
    emulator = ZStackEmulator()
    emulator.receive(garbage)
    # One pending bogus frame holds at most 255 bytes: 60 pings (300 bytes) get through.
    emulator.receive(PING * 60)
    answers = frames_of(emulator.take_output())
    assert any(isinstance(f, c.SYS.Ping.Rsp) for f in answers)


VALID_REQUESTS = [
    c.SYS.OSALNVReadExt.Req(Id=0x0001, Offset=0),
    c.SYS.OSALNVWriteExt.Req(Id=0x0003, Offset=0, Value=t.LongBytes(b"\x03")),
    c.SYS.OSALNVItemInit.Req(Id=0x0021, ItemLen=4, Value=t.ShortBytes(b"\x01\x02")),
    c.SYS.NVRead.Req(SysId=1, ItemId=4, SubId=0, Offset=0, Length=20),
    c.SYS.NVWrite.Req(SysId=1, ItemId=1, SubId=0, Offset=0, Value=t.ShortBytes(b"\x00" * 4)),
    c.SYS.NVCreate.Req(SysId=1, ItemId=9, SubId=0, Length=12),
    c.AppConfig.BDBSetChannel.Req(IsPrimary=True, Channel=t.Channels.from_channel_list([20])),
    c.AppConfig.BDBStartCommissioning.Req(Mode=c.app_config.BDBCommissioningMode.NwkFormation),
    c.AppConfig.BDBAddInstallCode.Req(
        InstallCodeFormat=c.app_config.InstallCodeFormat.KeyDerivedFromInstallCode,
        IEEE=t.EUI64.convert("00:db:12:34:56:78:90:a0"), InstallCode=t.Bytes(bytes(16))),
    c.ZDO.MgmtPermitJoinReq.Req(AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC, Duration=10,
                                TCSignificance=1),
    c.AF.Register.Req(Endpoint=1, ProfileId=0x0104, DeviceId=0x0400, DeviceVersion=0,
                      LatencyReq=c.af.LatencyReq.NoLatencyReqs, InputClusters=[0, 6],
                      OutputClusters=[]),
    c.AF.DataRequestExt.Req(
        DstAddrModeAddress=t.AddrModeAddress(mode=t.AddrMode.NWK, address=0x0000),
        DstEndpoint=0, DstPanId=0, SrcEndpoint=0, ClusterId=0x0005, TSN=1,
        Options=c.af.TransmitOptions.NONE, Radius=30, Data=t.LongBytes(b"\x01\x00\x00")),
]


def _refcs(frame: bytes) -> bytes:
    body = frame[1:-1]
    fcs = 0
    for byte in body:
        fcs ^= byte
    return bytes([0xFE]) + body + bytes([fcs])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VALID_REQUESTS), st.integers(0, 300),
                          st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_requests_with_good_fcs_are_served_or_refused_cleanly(mutations) -> None:
    """A corrupted field inside a well-framed request reaches the handlers: each must
    answer (an SRSP or an RPC error), never fail inside, and keep the output well framed."""
    emulator = ZStackEmulator()
    emulator.receive(PING)  # the stick is alive before the abuse starts
    errors = ErrorLog()
    logger = logging.getLogger("han.znp.emulator")
    logger.addHandler(errors)
    try:
        for request, position, value in mutations:
            frame = bytearray(encode(request))
            index = 4 + position % max(1, len(frame) - 5)  # inside the data field
            if index < len(frame) - 1:
                frame[index] = value
            emulator.receive(_refcs(bytes(frame)))
            emulator.advance(emulator.now + 1.0)
        frames_of(emulator.take_output())
    finally:
        logger.removeHandler(errors)
    assert errors.records == []
