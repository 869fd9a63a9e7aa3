"""Fuzz figures for the virtual sticks' front ends: many random, truncated and mutated
frames on the line of a formed stick with a joined meter, then a well-behaved request.

Prints, per front end (ZNP MT; EZSP over ASH): frames fed, frames per second, the peak
Python heap while fuzzing (tracemalloc), what the stick holds at the end against its
bounds (NV items and bytes; EmberZNet tokens, queues and timers), and whether the stick
still answered a clean request after every block of frames and a new client at the end.
Run: PYTHONPATH=. python3 benchmarks/stick_fuzz.py [FRAMES] [SEED] [znp|ezsp]
"""

from __future__ import annotations

import logging
import random
import sys
import time
import tracemalloc

import bellows.types as bt
import zigpy_znp.commands as c
import zigpy_znp.types as t
from bellows.ash import AckFrame, AshProtocol, DataFrame, RStackFrame, RstFrame, parse_frame
from zigpy_znp.frames import GeneralFrame

from han.coordinator import core
from han.ezsp import ash, tokens
from han.ezsp.emulator import COMMANDS, EzspEmulator
from han.installcode import InstallCode
from han.znp import nvram, zdo_mt
from han.znp.emulator import ZStackEmulator
from han.znp.framing import FrameReader, encode, encode_frame
from han.znp.meters import EmulatedMeter, parse_eui64

METER = EmulatedMeter(parse_eui64("00-DB-12-34-56-78-90-A0"),
                      InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5"))
PING = encode(c.SYS.Ping.Req())
BLOCK = 1000  # frames between liveness checks


def formed_stick(seed: int = 0) -> ZStackEmulator:
    """A stick that formed a network and let METER join with its install code."""
    stick = ZStackEmulator(meters=(METER,), seed=seed, join_delay=0.1)
    stick.receive(encode(c.AppConfig.BDBStartCommissioning.Req(
        Mode=c.app_config.BDBCommissioningMode.NwkFormation)))
    stick.receive(encode(c.AppConfig.BDBAddInstallCode.Req(
        InstallCodeFormat=c.app_config.InstallCodeFormat.InstallCodeAndCRC, IEEE=METER.ieee,
        InstallCode=t.Bytes(METER.install_code.with_crc))))
    stick.receive(encode(c.ZDO.MgmtPermitJoinReq.Req(
        AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC, Duration=5, TCSignificance=1)))
    stick.advance(1.0)
    stick.take_output()
    assert METER.ieee in stick.joined(), "the meter did not join the fuzzed stick"
    return stick


def _seed_frames(stick: ZStackEmulator) -> list[bytes]:
    """Well-formed requests of every kind the hosts send, to mutate."""
    nwk = stick.joined()[METER.ieee]
    frames = [PING, encode(c.UTIL.GetDeviceInfo.Req()), encode(c.SYS.GetExtAddr.Req()),
              encode(c.SYS.OSALNVRead.Req(Id=0x0021, Offset=0)),
              encode(c.SYS.NVCreate.Req(SysId=1, ItemId=0x0100, SubId=1, Length=200)),
              encode(c.SYS.OSALNVWrite.Req(Id=0x0021, Offset=0, Value=t.ShortBytes(b"\x01"))),
              encode(c.AF.DataRequest.Req(
                  DstAddr=nwk, DstEndpoint=1, SrcEndpoint=1, ClusterId=0x0702, TSN=1,
                  Options=c.af.TransmitOptions.NONE, Radius=30,
                  Data=t.ShortBytes(bytes.fromhex("00010000000400")))),
              encode(c.AF.DataRequest.Req(
                  DstAddr=nwk, DstEndpoint=1, SrcEndpoint=1, ClusterId=0x0702, TSN=2,
                  Options=c.af.TransmitOptions.NONE, Radius=30,
                  Data=t.ShortBytes(bytes.fromhex("000206000000250100020000")))),
              encode(c.ZDO.MgmtPermitJoinReq.Req(AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC,
                                                 Duration=1, TCSignificance=1))]
    for command in zdo_mt.REQUESTS:
        payload = nwk.to_bytes(2, "little") + bytes(20)
        header = t.CommandHeader(0).with_type(t.CommandType.SREQ).with_subsystem(
            t.Subsystem.ZDO).with_id(command)
        frames.append(encode_frame(GeneralFrame(header, t.Bytes(payload))))
    return frames


def _mutate(frame: bytes, rng: random.Random) -> bytes:
    """Truncate, flip, insert or re-length a frame; keep a good FCS most of the time."""
    data = bytearray(frame)
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(data[:rng.randrange(len(data))])  # truncated
    if kind == 1:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 80)))  # noise
    body = data[1:-1]
    for _ in range(rng.randint(1, 4)):
        if kind == 2 and len(body) > 3:
            body[rng.randrange(3, len(body))] = rng.getrandbits(8)
        elif kind == 3:
            body[3:3] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 30)))
        else:
            body[0] = rng.getrandbits(8)  # a lying length byte
    fcs = 0
    for byte in body:
        fcs ^= byte
    return bytes([0xFE]) + bytes(body) + bytes([fcs if rng.random() < 0.9 else fcs ^ 1])


def _answers_ping(stick: ZStackEmulator) -> bool:
    """After garbage, a host resynchronises by sending a ping until one is answered."""
    stick.take_output()
    for _ in range(3):
        stick.receive(PING, stick.now + 1.0)  # as hosts do: silence, then a retry
        reader = FrameReader()
        if any(f.header == c.SYS.Ping.Rsp.header for f in reader.feed(stick.take_output())):
            return True
    return False


def fuzz_znp(frames: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    stick = formed_stick(seed)
    seeds = _seed_frames(stick)
    alive = True
    tracemalloc.start()
    start = time.perf_counter()
    for index in range(frames):
        stick.receive(_mutate(rng.choice(seeds), rng))
        if index % 7 == 0:
            stick.advance(stick.now + 0.5)
        stick.take_output()
        if index % BLOCK == BLOCK - 1:
            alive = alive and _answers_ping(stick)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nv = stick.nvram
    return {"frames": frames, "frames_per_s": frames / elapsed, "peak_heap_kib": peak / 1024,
            "nv_items": len(nv.osal) + len(nv.tables),
            "nv_bytes": sum(map(len, nv.osal.values())) + sum(map(len, nv.tables.values())),
            "alive_after_every_block": alive, "still_served": _answers_ping(stick)}


# -- EZSP over ASH --------------------------------------------------------------------------

FLAG = b"\x7e"
CANCEL = b"\x1a"


def ash_bytes(frame) -> bytes:
    """One ASH frame on the line: stuffed, then the flag byte."""
    return bytes(AshProtocol._stuff_bytes(frame.to_bytes())) + FLAG


def ash_frames(line: bytes) -> list:
    """The ASH frames in what the NCP wrote (bellows' parser, as a host reads them)."""
    frames = []
    for chunk in line.split(FLAG):
        if chunk:
            frames.append(parse_frame(AshProtocol._unstuff_bytes(chunk)))
    return frames


class EzspHost:
    """A well-behaved host on the stick's line: ASH numbering and acknowledgements, EZSP
    v13 commands built and answers read with bellows' own definitions."""

    def __init__(self, stick: EzspEmulator) -> None:
        self.stick = stick
        self.tx = self.rx = self.seq = 0

    def reset(self) -> bool:
        """RST; True when the NCP answered RSTACK."""
        self.stick.take_output()
        self.stick.receive(CANCEL + ash_bytes(RstFrame()))
        self.tx = self.rx = 0
        return any(isinstance(f, RStackFrame) for f in ash_frames(self.stick.take_output()))

    def data_frame(self, name: str, **params) -> bytes:
        frame_id, request, _ = COMMANDS[name]
        self.seq = (self.seq + 1) & 0xFF
        ezsp = bytes([self.seq, 0x00, 0x01]) + frame_id.to_bytes(2, "little") \
            + bt.serialize_dict([], params, request)
        frame = DataFrame(frm_num=self.tx, re_tx=False, ack_num=self.rx, ezsp_frame=ezsp)
        self.tx = (self.tx + 1) % 8
        return ash_bytes(frame)

    def acknowledge(self, line: bytes) -> list[bytes]:
        """Take the NCP's DATA frames in order and ACK them; their EZSP frames."""
        frames = []
        for frame in ash_frames(line):
            if isinstance(frame, DataFrame) and frame.frm_num == self.rx:
                self.rx = (self.rx + 1) % 8
                frames.append(frame.ezsp_frame)
        if frames:
            self.stick.receive(ash_bytes(AckFrame(res=0, ncp_ready=0, ack_num=self.rx)))
        return frames

    def command(self, name: str, **params) -> dict | None:
        """Send one command; its response's fields, or None when none came."""
        self.stick.receive(self.data_frame(name, **params))
        frame_id, _, response = COMMANDS[name]
        for ezsp in self.acknowledge(self.stick.take_output()):
            if ezsp[0] == self.seq and int.from_bytes(ezsp[3:5], "little") == frame_id:
                answer, _ = bt.deserialize_dict(ezsp[5:], response)
                return answer
        return None

    def start(self) -> bool:
        """What every host does first: reset, then EZSP version 13."""
        if not self.reset():
            return False
        answer = self.command("version", desiredProtocolVersion=13)
        return answer is not None and answer["protocolVersion"] == 13


def formed_ezsp_stick(seed: int = 0) -> tuple[EzspEmulator, EzspHost]:
    """An EZSP stick that formed a network and let METER join with its install code."""
    stick = EzspEmulator(meters=(METER,), seed=seed, join_delay=0.1)
    host = EzspHost(stick)
    assert host.start()
    host.command("formNetwork", parameters=bt.EmberNetworkParameters(
        extendedPanId=bt.ExtendedPanId.convert("dd:dd:dd:dd:dd:dd:dd:dd"), panId=0x1A62,
        radioTxPower=8, radioChannel=15, joinMethod=bt.EmberJoinMethod.USE_MAC_ASSOCIATION,
        nwkManagerId=0, nwkUpdateId=0, channels=bt.Channels.CHANNEL_15))
    host.command("importTransientKey", eui64=METER.ieee, plaintext_key=METER.link_key,
                 flags=bt.SecurityManagerContextFlags.NONE)
    host.command("permitJoining", duration=5)
    stick.advance(1.0)
    host.acknowledge(stick.take_output())
    assert METER.ieee in stick.joined(), "the meter did not join the fuzzed EZSP stick"
    return stick, host


def _ezsp_seeds(host: EzspHost, nwk: int) -> list[bytes]:
    """Well-formed DATA frames of what the hosts send (raw: control, payload, CRC)."""
    aps = bt.EmberApsFrame(profileId=0x0104, clusterId=0x0702, sourceEndpoint=1,
                           destinationEndpoint=1, options=bt.EmberApsOption.APS_OPTION_NONE,
                           groupId=0, sequence=0)
    zdo = bt.EmberApsFrame(profileId=0, clusterId=0x0031, sourceEndpoint=0,
                           destinationEndpoint=0, options=bt.EmberApsOption.APS_OPTION_NONE,
                           groupId=0, sequence=0)
    commands = [
        ("version", {"desiredProtocolVersion": 13}), ("networkState", {}), ("nop", {}),
        ("getNetworkParameters", {}), ("getEui64", {}),
        ("getValue", {"valueId": bt.EzspValueId.VALUE_VERSION_INFO}),
        ("setValue", {"valueId": bt.EzspValueId.VALUE_ENDPOINT_FLAGS, "value": b"\x01\x01\x00"}),
        ("getConfigurationValue", {"configId": bt.EzspConfigId.CONFIG_KEY_TABLE_SIZE}),
        ("importTransientKey", {"eui64": METER.ieee, "plaintext_key": METER.link_key,
                                "flags": bt.SecurityManagerContextFlags.NONE}),
        ("importLinkKey", {"index": 1, "address": METER.ieee, "key": METER.link_key}),
        ("exportLinkKeyByIndex", {"index": 0}),
        ("replaceAddressTableEntry", {"addressTableIndex": 0, "newEui64": METER.ieee,
                                      "newId": nwk, "newExtendedTimeout": False}),
        ("permitJoining", {"duration": 254}),
        ("setTokenData", {"token": bt.NV3KeyId.CREATOR_STACK_RESTORED_EUI64, "index": 0,
                          "token_data": bt.LVBytes32(bytes(8))}),
        ("startScan", {"scanType": bt.EzspNetworkScanType.ENERGY_SCAN,
                       "channelMask": bt.Channels.ALL_CHANNELS, "duration": 2}),
        ("sendUnicast", {"type": bt.EmberOutgoingMessageType.OUTGOING_DIRECT,
                         "indexOrDestination": nwk, "apsFrame": aps, "messageTag": 1,
                         "messageContents": bytes.fromhex("00010000000400")}),
        ("sendUnicast", {"type": bt.EmberOutgoingMessageType.OUTGOING_DIRECT,
                         "indexOrDestination": nwk, "apsFrame": aps, "messageTag": 2,
                         "messageContents": bytes.fromhex("000206000000250100010000")}),
        ("sendUnicast", {"type": bt.EmberOutgoingMessageType.OUTGOING_DIRECT,
                         "indexOrDestination": nwk, "apsFrame": zdo, "messageTag": 3,
                         "messageContents": bytes.fromhex("0100")}),
        ("sendBroadcast", {"destination": 0xFFFC, "apsFrame": zdo.replace(clusterId=0x0036),
                           "radius": 0, "messageTag": 4, "messageContents": b"\x05\x3c\x01"}),
    ]
    seeds = []
    for name, params in commands:
        line = host.data_frame(name, **params)
        seeds.append(bytes(AshProtocol._unstuff_bytes(line[:-1])))
    return seeds


def _mutate_ash(raw: bytes, rng: random.Random, number: int) -> bytes:
    """Truncate, corrupt, re-number or garble an ASH frame; stuff it onto the line.

    Most mutations keep a good CRC, so the EZSP layer behind ASH sees the damage too.
    """
    kind = rng.randrange(7)
    if kind == 0:
        return bytes(AshProtocol._stuff_bytes(raw[:rng.randrange(len(raw))])) + FLAG
    if kind == 1:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 300)))  # line noise
    frame = DataFrame.from_bytes(raw)
    payload = bytearray(frame.ezsp_frame)
    if kind == 2 and len(payload) > 5:  # the EZSP parameters
        for _ in range(rng.randint(1, 4)):
            payload[rng.randrange(5, len(payload))] = rng.getrandbits(8)
    elif kind == 3:  # truncated or grown EZSP frame
        payload = payload[:rng.randrange(len(payload) + 1)] + bytes(
            rng.getrandbits(8) for _ in range(rng.randrange(0, 40)))
    elif kind == 4:  # another frame ID, or a legacy/odd frame control
        payload[rng.choice((1, 2, 3, 4))] = rng.getrandbits(8)
    elif kind == 5:  # a reserved byte in the middle of a frame
        line = bytearray(AshProtocol._stuff_bytes(raw))
        line.insert(rng.randrange(len(line) + 1), rng.choice((0x1A, 0x18, 0x11, 0x13, 0x7D)))
        return bytes(line) + FLAG
    data = DataFrame(frm_num=number % 8 if rng.random() < 0.9 else rng.randrange(8),
                     re_tx=rng.random() < 0.1, ack_num=rng.randrange(8),
                     ezsp_frame=bytes(payload[:250])).to_bytes()
    if rng.random() < 0.1:
        data = data[:-1] + bytes([data[-1] ^ 0x01])  # a bad CRC
    return bytes(AshProtocol._stuff_bytes(data)) + FLAG


def fuzz_ezsp(frames: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    stick, host = formed_ezsp_stick(seed)
    seeds = _ezsp_seeds(host, stick.joined()[METER.ieee])
    alive = True
    tracemalloc.start()
    start = time.perf_counter()
    for index in range(frames):
        stick.receive(_mutate_ash(rng.choice(seeds), rng, index))
        if index % 7 == 0:
            stick.advance(stick.now + 0.5)
        out = stick.take_output()
        if rng.random() < 0.8:  # mostly, the host acknowledges what the NCP sent
            host.rx = next((f.frm_num + 1 for f in reversed(ash_frames_lenient(out))
                            if isinstance(f, DataFrame)), host.rx) % 8
            stick.receive(ash_bytes(AckFrame(res=0, ncp_ready=0, ack_num=host.rx)))
            stick.take_output()
        if index % BLOCK == BLOCK - 1:
            alive = alive and host.start()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stick.new_line()  # the fuzzing host goes; a new, well-behaved one comes
    fresh = EzspHost(stick)
    served = fresh.start() and fresh.command("networkState") is not None \
        and fresh.command("getEui64") is not None
    return {"frames": frames, "frames_per_s": frames / elapsed, "peak_heap_kib": peak / 1024,
            "link_keys": len(stick.tokens.link_keys), "addresses": len(stick.tokens.addresses),
            "install_keys": len(stick.core.install_keys), "timers": len(stick.core._timers),
            "queued": len(stick.ash._queue), "dropped": stick.ash.dropped,
            "alive_after_every_block": alive, "still_served": served}


def ash_frames_lenient(line: bytes) -> list:
    """ash_frames, skipping what does not parse (the NCP writes only good frames, but a
    fuzzing host reads whatever is there)."""
    frames = []
    for chunk in line.split(FLAG):
        try:
            frames.extend(ash_frames(chunk + FLAG))
        except Exception:  # noqa: BLE001 - a host skips a frame it cannot read
            continue
    return frames


def _headline(name: str, figures: dict) -> str:
    return (f"{name}: {figures['frames']} fuzzed frames, {figures['frames_per_s']:.0f} "
            f"frames/s, peak heap {figures['peak_heap_kib']:.0f} KiB")


def main() -> None:
    logging.disable(logging.WARNING)  # zigpy warns about each malformed ZCL frame it parses
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    front_ends = sys.argv[3:] or ["znp", "ezsp"]
    if "znp" in front_ends:
        figures = fuzz_znp(frames, seed)
        print(_headline("ZNP front end", figures))
        print(f"  NV at the end: {figures['nv_items']} items (bound {nvram.MAX_ITEMS}), "
              f"{figures['nv_bytes']} bytes (bound {nvram.MAX_BYTES}); "
              f"ratio {figures['nv_bytes'] / nvram.MAX_BYTES:.2f} of the bound")
        print(f"  answered a clean ping after every {BLOCK} frames: "
              f"{figures['alive_after_every_block']}; at the end: {figures['still_served']}")
    if "ezsp" in front_ends:
        figures = fuzz_ezsp(frames, seed)
        print(_headline("EZSP front end (ASH)", figures))
        print(f"  held at the end: key table {figures['link_keys']}/{tokens.KEY_TABLE_SIZE}, "
              f"address table {figures['addresses']}/{tokens.ADDRESS_TABLE_SIZE}, "
              f"install-code keys {figures['install_keys']}/{core.MAX_INSTALL_KEYS}, "
              f"timers {figures['timers']}, callbacks queued {figures['queued']}/"
              f"{ash.MAX_QUEUED} ({figures['dropped']} dropped unread)")
        print(f"  reset + version answered after every {BLOCK} frames: "
              f"{figures['alive_after_every_block']}; a new client served at the end: "
              f"{figures['still_served']}")


if __name__ == "__main__":
    main()
