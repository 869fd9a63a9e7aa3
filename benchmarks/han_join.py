"""Complete HAN joins per second (SimPy air, capture on, pcap written) on one core, beside the
rate of merely building and encrypting the same frames, measured in the same run.

    PYTHONPATH=$PWD python3 benchmarks/han_join.py [--seconds S]

The ratio says what the join logic, scapy parsing, SimPy and pcap writing cost on top of
frame construction and CCM*.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from devices.device_log import DeviceLog
from han import frames, zcl, zdo
from han.eui import to_eui64
from han.installcode import InstallCode
from han.node import HanNode
from han.pcap import pcap_bytes
from han.security import KeyId
from sim.han_time.frame_join import run_join
from sim.output import atomic_write

CHF, ESME = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1"


def one_join(seed: int, out: Path) -> bool:
    secret = InstallCode.generate(16, random.Random(seed))
    log = DeviceLog(CHF)
    log.add(ESME, secret, 300, 0.0)
    report = run_join(None, log, CHF, ESME, secret, seed=seed)
    atomic_write(out, pcap_bytes((f.time, f.raw) for f in report.frames))
    return report.joined


def build_only(seed: int) -> int:
    """The frames of one successful join (15 with acks), built and encrypted, nothing parsed."""
    rng = np.random.default_rng(seed)
    link_key = bytes(InstallCode.generate(16, random.Random(seed)).link_key())
    chf, esme = HanNode(to_eui64(CHF), rng), HanNode(to_eui64(ESME), rng)
    chf.short, chf.pan_id, chf.network_key = 0x0000, 0x1A2B, rng.bytes(16)
    esme.short, esme.pan_id, esme.network_key = 0x4321, 0x1A2B, chf.network_key
    built = [frames.beacon_request(1), frames.beacon(2, 0x1A2B, chf.eui_int, permit_joining=True),
             frames.association_request(3, 0x1A2B, esme.eui_int), frames.data_request(4, 0x1A2B, esme.eui_int),
             frames.association_response(5, 0x1A2B, esme.eui_int, chf.eui_int, 0x4321,
                                         frames.AssociationStatus.SUCCESS)]
    command = frames.transport_key_command(chf.network_key, 0, esme.eui_int, chf.eui_int)
    aps = chf.aps_secure(frames.aps_command_header(1), command, KeyId.KEY_TRANSPORT, link_key)
    built.append(frames.mac_data(6, 0x1A2B, 0x4321, 0, chf.nwk_frame(0x4321, aps, secured=False)))
    built.append(esme.send_data(frames.NWK_BROADCAST_RX_ON, frames.PROFILE_ZDO, zdo.DEVICE_ANNCE, 0,
                                zdo.device_annce(1, 0x4321, esme.eui)))
    built.append(chf.send_data(0x4321, frames.PROFILE_SMART_ENERGY, zcl.METERING, 1,
                               zcl.read_attributes(1), link_key=link_key))
    built.append(esme.send_data(0, frames.PROFILE_SMART_ENERGY, zcl.METERING, 1,
                                zcl.MeterReading(0).respond(1, [0, 0x300]), link_key=link_key))
    built += [frames.ack(n) for n in range(6)]
    return len(built)


def rate(work, seconds: float) -> tuple[float, int]:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        work(count)
        count += 1
    return count / elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "join.pcap"
        assert one_join(0, out)
        joins, n_joins = rate(lambda i: one_join(i, out), args.seconds)
    builds, n_builds = rate(build_only, args.seconds)
    print(f"complete joins (SimPy air, capture + pcap): {joins:8.1f} /s  ({n_joins} joins)")
    print(f"build + encrypt the same 15 frames only:    {builds:8.1f} /s  ({n_builds} sets)")
    print(f"ratio build-only / complete join:           {builds / joins:8.1f}")


if __name__ == "__main__":
    main()
