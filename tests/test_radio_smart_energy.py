"""Smart Energy (profile 0x0109) replies through ``han.zigpy_radio``: the CHF talks to
the meter from its SE endpoint, as a real CHF does, and zigpy (which drops non-HA/ZLL
replies, zigpy issues 1709/1810) still parses them. Without
``accept_smart_energy`` the same read times out: the test can fail.

Independent side: unmodified zigpy-znp and zigpy's own Metering cluster parsing.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("zigpy_znp")

import han.zigpy_radio  # noqa: E402
from devices.device_log import DeviceLog  # noqa: E402
from han.eui import to_eui64  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from tests.test_radio_join import CHF, ESME, TEMPLATE_CODE, Stick  # noqa: E402


async def _read_metering(app, timeout: float):
    device = app.get_device(ieee=to_eui64(ESME))
    async with asyncio.timeout(timeout):
        while not device.is_initialized:
            await asyncio.sleep(0.05)
        endpoint = device.endpoints[1]
        values, failed = await endpoint.smartenergy_metering.read_attributes(
            ["current_summ_delivered", "divisor"])
    return endpoint.profile_id, values


def _joined_stick(energy_wh: int) -> Stick:
    stick = Stick(TEMPLATE_CODE)
    stick.emulator.meters = {m.ieee: EmulatedMeter(m.ieee, m.install_code, energy_wh=energy_wh)
                             for m in stick.emulator.meters.values()}
    return stick


def _join(stick: Stick) -> None:
    log = DeviceLog(CHF)
    log.add(ESME, TEMPLATE_CODE, 3, now=0.0)
    assert stick.join.join(log, ESME, TEMPLATE_CODE, 0.0).joined


def test_metering_read_from_an_se_meter_gets_through() -> None:
    with _joined_stick(4242424) as stick:
        _join(stick)
        profile, values = stick.bridge.call(_read_metering(stick.radio.app, 8.0))
    assert profile == 0x0109
    assert values == {"current_summ_delivered": 4242424, "divisor": 1000}


def test_without_the_relabel_zigpy_drops_the_se_reply(monkeypatch) -> None:
    monkeypatch.setattr(han.zigpy_radio, "accept_smart_energy", lambda app: None)
    with _joined_stick(1) as stick:
        _join(stick)
        with pytest.raises(TimeoutError):
            stick.bridge.call(_read_metering(stick.radio.app, 3.0))
