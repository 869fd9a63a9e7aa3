"""Fuzz figures for the virtual sticks' front ends: many random, truncated and mutated
frames on the line of a formed stick with a joined meter, then a well-behaved request.

Prints, per front end: frames fed, frames per second, the peak Python heap while
fuzzing (tracemalloc), the NV item count and bytes at the end against their bounds,
and whether the stick still answered a clean request after every block of frames.
Run: PYTHONPATH=. python3 benchmarks/stick_fuzz.py [FRAMES] [SEED]
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc

import zigpy_znp.commands as c
import zigpy_znp.types as t
from zigpy_znp.frames import GeneralFrame

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
    for command, cluster in zdo_mt.REQUESTS.items():
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


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    figures = fuzz_znp(frames, seed)
    print(f"ZNP front end: {figures['frames']} fuzzed frames, "
          f"{figures['frames_per_s']:.0f} frames/s, peak heap {figures['peak_heap_kib']:.0f} KiB")
    print(f"  NV at the end: {figures['nv_items']} items (bound {nvram.MAX_ITEMS}), "
          f"{figures['nv_bytes']} bytes (bound {nvram.MAX_BYTES}); "
          f"ratio {figures['nv_bytes'] / nvram.MAX_BYTES:.2f} of the bound")
    print(f"  answered a clean ping after every {BLOCK} frames: "
          f"{figures['alive_after_every_block']}; at the end: {figures['still_served']}")


if __name__ == "__main__":
    main()
