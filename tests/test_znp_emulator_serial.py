"""The emulator's serial line: framing checked with zigpy-znp's own frame parser, and
random or mutated bytes (hypothesis) that must never crash it or stop it answering."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("zigpy_znp")

import zigpy_znp.commands as c  # noqa: E402
import zigpy_znp.types as t  # noqa: E402
from zigpy_znp.frames import TransportFrame  # noqa: E402

from zigpy_znp.frames import GeneralFrame  # noqa: E402

from benchmarks.stick_fuzz import METER  # noqa: E402
from benchmarks.stick_fuzz import formed_stick as FORMED_STICK  # noqa: E402
from han.znp import nvram, zdo_mt  # noqa: E402
from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.framing import FrameReader, encode, encode_frame  # noqa: E402
from han.znp.serve import VirtualStick  # noqa: E402

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


def test_nv_create_flood_is_bounded_and_the_stick_keeps_serving() -> None:
    """Hosts may create NV items, but only as many as a CC2652's NV pages hold."""
    emulator = ZStackEmulator()
    statuses = set()
    for sub_id in range(5000):
        emulator.receive(encode(c.SYS.NVCreate.Req(SysId=1, ItemId=0x0100, SubId=sub_id,
                                                   Length=0x0FFF)))
        statuses.add(frames_of(emulator.take_output())[0].Status)
    nv = emulator.nvram
    stored = sum(map(len, nv.osal.values())) + sum(map(len, nv.tables.values()))
    assert stored <= nvram.MAX_BYTES and len(nv.osal) + len(nv.tables) <= nvram.MAX_ITEMS
    assert t.Status.NV_OPER_FAILED in statuses  # the flood was refused, not swallowed
    emulator.receive(PING)
    assert isinstance(frames_of(emulator.take_output())[0], c.SYS.Ping.Rsp)


def test_a_host_cut_off_mid_frame_leaves_nothing_for_the_next_one() -> None:
    async def run() -> bytes:
        async with VirtualStick(ZStackEmulator()) as stick:
            port = int((await stick.open_tcp()).rsplit(":", 1)[1])
            _, first = await asyncio.open_connection("127.0.0.1", port)
            first.write(bytes.fromhex("fe4021"))  # the start of a 64-byte frame, then it vanishes
            await first.drain()
            first.close()
            await asyncio.sleep(0.05)
            reader, second = await asyncio.open_connection("127.0.0.1", port)
            second.write(PING)
            answer = await asyncio.wait_for(reader.read(64), timeout=2)
            second.close()
            return answer

    answer = asyncio.run(run())
    [rsp] = frames_of(answer)  # the first reply is the answer to its own ping
    assert isinstance(rsp, c.SYS.Ping.Rsp)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(zdo_mt.REQUESTS)), st.binary(max_size=40), st.booleans())
def test_any_mt_zdo_request_to_a_joined_meter_is_answered_cleanly(command, body, to_meter):
    """zigbee-herdsman's way of sending ZDO (MT ZDO commands) with any payload, addressed
    to the joined meter or the coordinator: an SRSP always, never an error inside."""
    stick = FORMED_STICK()
    nwk = stick.joined()[METER.ieee] if to_meter else 0x0000
    header = t.CommandHeader(0).with_type(t.CommandType.SREQ).with_subsystem(
        t.Subsystem.ZDO).with_id(command)
    errors = ErrorLog()
    logger = logging.getLogger("han.znp.emulator")
    logger.addHandler(errors)
    try:
        stick.receive(encode_frame(GeneralFrame(header, t.Bytes(nwk.to_bytes(2, "little")
                                                                + body))))
        replies = [f for f in FrameReader().feed(stick.take_output())]
    finally:
        logger.removeHandler(errors)
    assert errors.records == []
    assert replies[0].header == header.with_type(t.CommandType.SRSP)
    stick.receive(PING)
    assert isinstance(frames_of(stick.take_output())[0], c.SYS.Ping.Rsp)


def test_a_host_that_vanishes_mid_permit_leaves_the_stick_serving_the_next() -> None:
    """The window a vanished host opened runs out on its own; the next host is served."""
    async def run():
        stick_core = FORMED_STICK()  # its one meter has joined already
        async with VirtualStick(stick_core) as stick:
            port = int((await stick.open_tcp()).rsplit(":", 1)[1])
            _, first = await asyncio.open_connection("127.0.0.1", port)
            first.write(encode(c.ZDO.MgmtPermitJoinReq.Req(
                AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC, Duration=1, TCSignificance=1)))
            first.write(encode(c.AppConfig.BDBAddInstallCode.Req(
                InstallCodeFormat=c.app_config.InstallCodeFormat.KeyDerivedFromInstallCode,
                IEEE=t.EUI64.convert("00:db:12:34:56:78:90:a9"), InstallCode=t.Bytes(bytes(16)))))
            await first.drain()
            first.transport.abort()  # gone without a goodbye
            await asyncio.sleep(2.5)  # the window closes meanwhile (stick time starts at 1 s)
            reader, second = await asyncio.open_connection("127.0.0.1", port)
            second.write(PING)
            answer = await asyncio.wait_for(reader.read(64), timeout=2)
            second.close()
            return stick_core.outcomes, answer

    outcomes, answer = asyncio.run(run())
    assert [(o.joined, str(o.ieee)) for o in outcomes] == [
        (True, str(METER.ieee)), (False, "00:db:12:34:56:78:90:a9")]  # when the window closed
    assert isinstance(frames_of(answer)[0], c.SYS.Ping.Rsp)
