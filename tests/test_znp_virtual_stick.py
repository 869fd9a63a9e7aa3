"""The virtual Z-Stack stick driven by UNMODIFIED zigpy-znp over a PTY and a TCP port.

The independent side is zigpy-znp itself (its ControllerApplication connects, forms,
takes an install-code link key, permits, and reports joins through zigpy's listener
events) and zigpy's own install-code -> link-key conversion for the key it hands over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random

import pytest
import zigpy.util

pytest.importorskip("zigpy_znp")

import zigpy_znp.zigbee.application as znp_app  # noqa: E402

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from han.znp.serve import VirtualStick  # noqa: E402

SPEC_CODE = "83FED3407A939723A5C639B26916D505C3B5"  # ZigBee spec vector, code + CRC
OTHER_CODE = "000102030405060708090A0B0C0D0E0F"  # valid 16-byte code (CRC added below)
ESME = EmulatedMeter.parse(f"00-DB-12-34-56-78-90-A0={SPEC_CODE}")


def zigpy_link_key(code_with_crc: str):
    """The link key as zigpy derives it from an install code (not our code path)."""
    return zigpy.util.convert_install_code(bytes.fromhex(code_with_crc))


def app_config(path: str) -> dict:
    return {
        "device": {"path": path},
        "database_path": None,
        "ota": {"enabled": False},
        "network": {"channel": 15},
        "backup_enabled": False,
        "topology_scan_enabled": False,
        "znp_config": {"skip_bootloader": False},
    }


class Events:
    def __init__(self) -> None:
        self.joined: list = []
        self.initialized = asyncio.Event()
        self.left = asyncio.Event()
        self.devices: list = []
        self.then = None  # what the session's ``then`` step returned

    def device_left(self, device) -> None:
        self.left.set()

    def device_removed(self, device) -> None:
        pass

    def device_joined(self, device) -> None:
        self.joined.append(device.ieee)

    def device_initialized(self, device) -> None:
        self.devices.append(device)
        self.initialized.set()


async def _session(stick_kind: str, meters, key_for, window: int, wait_init: bool,
                   emulator_cls=ZStackEmulator, then=None):
    """Form, permit with one key, optionally wait for the interview, run ``then(app,
    events)`` once the window has closed, shut down."""
    emulator = emulator_cls(meters=meters, seed=7, join_delay=0.1)
    async with VirtualStick(emulator) as stick:
        path = await (stick.open_pty() if stick_kind == "pty" else stick.open_tcp())
        app = await znp_app.ControllerApplication.new(app_config(path), auto_form=True)
        events = Events()
        app.add_listener(events)
        try:
            ieee, key = key_for
            permit = asyncio.create_task(app.permit_with_link_key(ieee, key, window))
            if wait_init:
                await asyncio.wait_for(events.initialized.wait(), timeout=window + 5)
            await permit
            await asyncio.sleep(0.05)
            if then is not None:
                events.then = await then(app, events)
            network = app.state.network_info
        finally:
            await app.shutdown()
    return emulator, events, network


@pytest.mark.parametrize("stick_kind", ["pty", "tcp"])
def test_right_install_code_joins_and_is_interviewed(stick_kind: str) -> None:
    emulator, events, network = asyncio.run(_session(
        stick_kind, (ESME,), (ESME.ieee, zigpy_link_key(SPEC_CODE)), window=1, wait_init=True))
    assert network.channel == 15
    assert events.joined == [ESME.ieee]
    [outcome] = emulator.outcomes
    assert outcome.joined and outcome.ieee == ESME.ieee
    # zigpy interviewed the meter: SE profile endpoint, Basic cluster strings
    [device] = events.devices
    assert device.model == "ESME" and device.manufacturer == "hansim"
    assert device.endpoints[1].profile_id == 0x0109
    assert 0x0702 in device.endpoints[1].in_clusters


def test_smart_energy_metering_read_reaches_zigpy() -> None:
    """A Metering (0x0702) read on the meter's SE-profile endpoint comes back parsed:
    zigpy-znp types the reply by the coordinator endpoint it arrives on."""
    meter = EmulatedMeter(ESME.ieee, ESME.install_code, energy_wh=1234567)

    async def read(app, events):
        metering = app.get_device(ieee=meter.ieee).endpoints[1].smartenergy_metering
        return await metering.read_attributes(
            ["current_summ_delivered", "divisor", "unit_of_measure", "demand_limit"])

    _, events, _ = asyncio.run(_session(
        "pty", (meter,), (meter.ieee, zigpy_link_key(SPEC_CODE)), window=1, wait_init=True,
        then=read))
    values, failed = events.then
    assert values["current_summ_delivered"] == 1234567 and values["divisor"] == 1000
    assert values["unit_of_measure"] == 0
    assert "demand_limit" in failed  # an attribute the meter does not serve


class NoisyLine(ZStackEmulator):
    """Line noise in both directions between frames (never a start-of-frame byte)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.noise = random.Random(11)

    def _garbage(self) -> bytes:
        return bytes(self.noise.choice(range(0xFE)) for _ in range(self.noise.randint(0, 12)))

    def receive(self, data: bytes, now: float | None = None) -> None:
        super().receive(self._garbage() + data, now)

    def take_output(self) -> bytes:
        out = super().take_output()
        return self._garbage() + out + self._garbage() if out else out


def test_line_noise_both_ways_does_not_stop_a_join() -> None:
    emulator, events, _ = asyncio.run(_session(
        "pty", (ESME,), (ESME.ieee, zigpy_link_key(SPEC_CODE)), window=1, wait_init=True,
        emulator_cls=NoisyLine))
    assert events.joined == [ESME.ieee]
    assert [o.joined for o in emulator.outcomes] == [True]


@pytest.mark.parametrize("right", [True, False])
def test_frame_level_join_behind_the_same_interface(right: bool) -> None:
    """The meters' joins run frame by frame on the simulated air (sim.han_time.stick_join)."""
    from sim.han_time.stick_join import FrameLevelJoiner

    joiner = FrameLevelJoiner(seed=1)
    code = SPEC_CODE if right else OTHER_CODE + zigpy_crc(OTHER_CODE)
    emulator, events, _ = asyncio.run(_session(
        "pty", (ESME,), (ESME.ieee, zigpy_link_key(code)), window=1, wait_init=right,
        emulator_cls=functools.partial(ZStackEmulator, joiner=joiner)))
    [outcome] = emulator.outcomes
    [(meter, report)] = joiner.reports
    assert meter == ESME and outcome.joined is right is report.joined
    assert events.joined == ([ESME.ieee] if right else [])
    labels = [frame.label for frame in report.frames]
    assert "association request" in labels
    if right:
        assert any(label.startswith("APS Transport Key") for label in labels)
        assert "frame by frame" in outcome.reason
    else:
        assert "wrong link key" in outcome.reason


def test_wrong_install_code_gives_no_join_and_a_failure_when_window_closes() -> None:
    wrong = OTHER_CODE + zigpy_crc(OTHER_CODE)
    emulator, events, _ = asyncio.run(_session(
        "pty", (ESME,), (ESME.ieee, zigpy_link_key(wrong)), window=1, wait_init=False))
    assert events.joined == []
    [outcome] = emulator.outcomes
    assert not outcome.joined and outcome.ieee == ESME.ieee
    assert "mismatch" in outcome.reason
    assert outcome.time >= 1.0  # reported when the permit window closed, not before


def test_key_for_absent_meter_is_reported_when_window_closes() -> None:
    absent = EmulatedMeter.parse(f"00-DB-12-34-56-78-90-A1={SPEC_CODE}")
    emulator, events, _ = asyncio.run(_session(
        "tcp", (), (absent.ieee, zigpy_link_key(SPEC_CODE)), window=1, wait_init=False))
    assert events.joined == []
    [outcome] = emulator.outcomes
    assert not outcome.joined and outcome.ieee == absent.ieee
    assert "no device" in outcome.reason


def test_removed_meter_leaves_and_the_stick_forgets_it() -> None:
    async def remove(app, events):
        await app.remove(ESME.ieee)
        await asyncio.wait_for(events.left.wait(), timeout=5)

    emulator, events, _ = asyncio.run(_session(
        "pty", (ESME,), (ESME.ieee, zigpy_link_key(SPEC_CODE)), window=1, wait_init=True,
        then=remove))
    assert events.joined == [ESME.ieee]
    assert ESME.ieee not in emulator.joined()


def test_restart_loads_the_network_it_formed() -> None:
    async def run():
        emulator = ZStackEmulator(seed=3)
        async with VirtualStick(emulator) as stick:
            path = await stick.open_tcp()
            first = await znp_app.ControllerApplication.new(app_config(path), auto_form=True)
            formed = first.state.network_info
            await first.shutdown()
            again = await znp_app.ControllerApplication.new(app_config(path), auto_form=False)
            loaded = again.state.network_info
            await again.shutdown()
        return formed, loaded

    formed, loaded = asyncio.run(run())
    assert (loaded.pan_id, loaded.extended_pan_id, loaded.channel) == \
        (formed.pan_id, formed.extended_pan_id, formed.channel)
    assert loaded.network_key.key == formed.network_key.key


def test_stick_unplugged_is_seen_by_zigpy_as_connection_lost() -> None:
    async def run():
        emulator = ZStackEmulator(seed=5)
        stick = VirtualStick(emulator)
        path = await stick.open_pty()
        app = await znp_app.ControllerApplication.new(app_config(path), auto_form=True)
        lost = asyncio.Event()

        class Listener:
            def connection_lost(self, exc) -> None:
                lost.set()

        app.add_listener(Listener())
        await stick.close()
        await asyncio.wait_for(lost.wait(), timeout=5)
        await app.shutdown()

    asyncio.run(run())


def zigpy_crc(code_hex: str) -> str:
    from han.installcode import crc_x25
    return crc_x25(bytes.fromhex(code_hex)).hex().upper()


@pytest.fixture(autouse=True)
def _quiet_zigpy():
    logging.getLogger("zigpy").setLevel(logging.WARNING)
    yield


def test_tcp_stick_serves_one_client_at_a_time_the_newest() -> None:
    async def run():
        async with VirtualStick(ZStackEmulator()) as stick:
            port = int((await stick.open_tcp()).rsplit(":", 1)[1])
            r1, w1 = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.sleep(0.05)
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            first = await asyncio.wait_for(r1.read(10), timeout=2)  # taken over: EOF
            w2.write(bytes.fromhex("fe00210120"))  # SYS.Ping
            second = await asyncio.wait_for(r2.read(10), timeout=2)
            for writer in (w1, w2):
                writer.close()
        return first, second

    first, second = asyncio.run(run())
    assert first == b""
    assert second[:4] == bytes.fromhex("fe026101")  # SYS.Ping SRSP
