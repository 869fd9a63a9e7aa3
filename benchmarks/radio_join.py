"""Figures for SRV 8.11 through a stick (``sim.han_time.radio_join.RadioJoin``): unmodified
zigpy-znp on the virtual Z-Stack stick (PTY), both on the radio's asyncio thread, the
join waited for in a SimPy RealtimeEnvironment.

Prints, over N runs: zigpy-znp start-up (forming a network) and the real time from the
device log's 8.11 Add to the 0x8F49 (the stick's meters answer after its join delay,
0.1 s here). Run: PYTHONPATH=. python3 benchmarks/radio_join.py [N]
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

from devices.device_log import DeviceLog
from han.eui import to_eui64
from han.installcode import InstallCode
from han.radio import RadioSpec
from han.zigpy_radio import ZigpyRadio
from han.znp.emulator import ZStackEmulator
from han.znp.meters import EmulatedMeter
from han.znp.serve import VirtualStick
from sim.han_time.radio_join import RadioJoin
from sim.realtime import AsyncioBridge

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
ESME_EUI = to_eui64(ESME)
CODE = InstallCode.parse("30313233343536373839414243444546")
FAST = {"znp_config": {"skip_bootloader": False}, "network": {"channel": 15}}


async def _stick(emulator: ZStackEmulator) -> VirtualStick:
    return VirtualStick(emulator)


def once() -> tuple[float, float]:
    bridge = AsyncioBridge()
    emulator = ZStackEmulator(meters=(EmulatedMeter(ESME_EUI, CODE),), seed=1, join_delay=0.1)
    stick = bridge.call(_stick(emulator))
    join = RadioJoin(ZigpyRadio(RadioSpec("znp", bridge.call(stick.open_pty())), FAST), bridge)
    try:
        t0 = time.perf_counter()
        join.start()
        started = time.perf_counter() - t0
        log = DeviceLog(CHF)
        log.add(ESME, CODE, 10, now=0.0)
        t0 = time.perf_counter()
        result = join.join(log, ESME, CODE, 0.0)
        joined = time.perf_counter() - t0
        assert result.joined and [a.code.hex for a in result.alerts] == ["8F49"]
    finally:
        bridge.call(join.radio.stop())
        bridge.call(stick.close())
        bridge.close()
    return started, joined


if __name__ == "__main__":
    logging.getLogger("zigpy").setLevel(logging.WARNING)
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    figures = [once() for _ in range(runs)]
    for label, values in (("zigpy-znp start", [f[0] for f in figures]),
                          ("8.11 Add -> 0x8F49", [f[1] for f in figures])):
        print(f"{label}: median {statistics.median(values):.3f} s, "
              f"max {max(values):.3f} s over {runs} runs")
