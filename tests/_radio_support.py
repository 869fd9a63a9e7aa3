"""Shared by the radio tests: a virtual stick (Z-Stack, or EmberZNet) with one ESME, and a
RadioJoin driving it through unmodified zigpy-znp (or bellows), both on one asyncio loop
(``AsyncioBridge``)."""

from __future__ import annotations

import gc

from duis_support import template

from han.ezsp.emulator import EzspEmulator
from han.installcode import InstallCode
from han.radio import RadioSpec
from han.zigpy_radio import ZigpyRadio
from han.znp.emulator import ZStackEmulator
from han.znp.meters import EmulatedMeter
from han.znp.serve import VirtualStick
from sim.radio_join import RadioJoin
from sim.realtime import AsyncioBridge

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
# The ESME of the default site holds the code the CCS01 template sends.
TEMPLATE_CODE = InstallCode.parse("30313233343536373839414243444546")
OTHER_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505")
#: The virtual stick does not need zigpy-znp's bootloader wait.
FAST = {"znp_config": {"skip_bootloader": False}, "network": {"channel": 15}}
WINDOW = 2  # seconds: the JoinTimePeriod the tests put in 8.11 (real time)


class Stick:
    """A virtual stick with one ESME holding ``code``, and a RadioJoin on it (same loop)."""

    def __init__(self, code: InstallCode, kind: str = "pty", library: str = "znp") -> None:
        self.bridge = AsyncioBridge()
        front_end = EzspEmulator if library == "ezsp" else ZStackEmulator
        self.emulator = front_end(meters=(EmulatedMeter.parse(f"{ESME}={code.reveal()}"),),
                                  seed=7, join_delay=0.1)
        self.stick = self.bridge.call(make_stick(self.emulator))
        path = self.bridge.call(self.stick.open_pty() if kind == "pty" else self.stick.open_tcp())
        options = FAST if library == "znp" else {"network": FAST["network"]}
        self.radio = ZigpyRadio(RadioSpec.parse(f"{library}:{path}"), options)
        self.join = RadioJoin(self.radio, self.bridge)

    def __enter__(self) -> Stick:
        self.join.start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.bridge.call(self.radio.stop(), timeout=10)
            self.bridge.call(self.stick.close(), timeout=10)
        finally:
            self.bridge.close()
            settle()


async def make_stick(emulator: ZStackEmulator | EzspEmulator) -> VirtualStick:
    return VirtualStick(emulator)


def ccs01(window: int = WINDOW) -> bytes:
    return template("CCS01_").replace(b"<sr:JoinTimePeriod>90<", f"<sr:JoinTimePeriod>{window}<".encode())


def settle() -> None:
    """Collect the closed loop's objects now: their finalizers otherwise run during a later
    garbage collection, possibly inside pytest's ``ast.parse`` of a module it imports, and
    CPython 3.11 then fails that parse ("AST constructor recursion depth mismatch")."""
    gc.collect()
