"""Figures for the virtual Z-Stack stick driven by unmodified zigpy-znp (PTY).

Prints: zigpy-znp start-up time forming a new network and loading it again, and the
time from permit_with_link_key to device_joined and to a finished interview for N
meters joining in one window. Run: PYTHONPATH=. python3 benchmarks/virtual_stick.py [N]
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import sys
import time

import zigpy_znp.zigbee.application as znp_app

from han.installcode import InstallCode
from han.znp.emulator import ZStackEmulator
from han.znp.meters import EmulatedMeter, parse_eui64
from han.znp.serve import VirtualStick

CONFIG = {"database_path": None, "ota": {"enabled": False}, "network": {"channel": 15},
          "backup_enabled": False, "topology_scan_enabled": False,
          "znp_config": {"skip_bootloader": False}}


def meters(n: int) -> tuple[EmulatedMeter, ...]:
    rng = random.Random(1)
    return tuple(EmulatedMeter(parse_eui64(f"00:db:00:00:00:00:{i >> 8:02x}:{i & 255:02x}"),
                               InstallCode.generate(16, rng)) for i in range(n))


async def once(n: int) -> dict[str, float]:
    fleet = meters(n)
    emulator = ZStackEmulator(meters=fleet, seed=2, join_delay=0.05)
    async with VirtualStick(emulator) as stick:
        path = await stick.open_pty()
        config = {**CONFIG, "device": {"path": path}}
        t0 = time.perf_counter()
        app = await znp_app.ControllerApplication.new(config, auto_form=True)
        formed = time.perf_counter() - t0
        await app.shutdown()
        t0 = time.perf_counter()
        app = await znp_app.ControllerApplication.new(config, auto_form=False)
        loaded = time.perf_counter() - t0
        joined, initialized = asyncio.Event(), asyncio.Event()
        counts = {"joined": 0, "init": 0}

        class Listener:
            def device_joined(self, device) -> None:
                counts["joined"] += 1
                if counts["joined"] == n:
                    joined.set()

            def device_initialized(self, device) -> None:
                counts["init"] += 1
                if counts["init"] == n:
                    initialized.set()

        app.add_listener(Listener())
        window = 10 + n
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(app.permit_with_link_key(m.ieee, m.install_code.link_key(),
                                                              window)) for m in fleet]
        await joined.wait()
        t_join = time.perf_counter() - t0
        await initialized.wait()
        t_init = time.perf_counter() - t0
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.shutdown()
    return {"form": formed, "load": loaded, "join": t_join, "interview": t_init}


def main() -> None:
    logging.disable(logging.WARNING)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    runs = [asyncio.run(once(n)) for _ in range(3)]
    print(f"virtual Z-Stack stick + zigpy-znp over a PTY, {n} meters, median of 3 runs")
    for key, label in [("form", "start-up, forming a new network"),
                       ("load", "start-up, loading the formed network"),
                       ("join", f"permit -> all {n} device_joined (join delay 0.05 s each)"),
                       ("interview", f"permit -> all {n} interviews finished")]:
        print(f"  {label:<55} {statistics.median(r[key] for r in runs):6.2f} s")


if __name__ == "__main__":
    main()
