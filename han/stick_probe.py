"""What answers on a serial port: each zigpy radio library's own ``probe``, in turn.

First a quick look for an nRF 802.15.4 sniffer (its text shell echoes commands; a line
of text is noise any radio ignores). Then the radio libraries, Z-Stack first (a ZNP
ping is harmless to the others), then EZSP, then deCONZ. Each library gets ``timeout``
seconds; the first that recognises its radio is asked for its node and network with
``load_network_info``. The libraries are the optional ``hansim[sticks]`` extra,
imported only here and only when probing.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from dataclasses import dataclass

from han.radio_noise import quiet_loop, quiet_radio_libraries
from han.sniffer.nrf802154 import answers_as_sniffer

RADIO_LIBRARIES = (
    ("znp", "zigpy_znp.zigbee.application", "TI Z-Stack (ZNP, zigpy-znp)"),
    ("ezsp", "bellows.zigbee.application", "Silicon Labs EmberZNet (EZSP, bellows)"),
    ("deconz", "zigpy_deconz.zigbee.application", "dresden elektronik deCONZ (zigpy-deconz)"),
)


@dataclass(frozen=True)
class ProbeResult:
    library: str
    label: str
    node: str | None  # model and firmware version, when the radio says
    network: str | None  # channel and PAN, or None when no network is formed


async def probe(port: str, timeout: float = 4.0) -> ProbeResult | None:
    """The first radio library that recognises ``port``, or None."""
    quiet_radio_libraries()
    quiet_loop(asyncio.get_running_loop())
    if await asyncio.to_thread(answers_as_sniffer, port, min(timeout, 1.0)):
        return ProbeResult("nrf-sniffer", "nRF Sniffer for 802.15.4 (serial shell)", None, None)
    for key, module_name, label in RADIO_LIBRARIES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        app_cls = module.ControllerApplication
        try:
            async with asyncio.timeout(timeout):
                found = await app_cls.probe({"path": port})
        except Exception:  # noqa: BLE001 - a library that cannot talk to it says no
            found = False
        if found:
            node, network = await _describe(app_cls, found, timeout)
            return ProbeResult(key, label, node, network)
    return None


async def _describe(app_cls, device_config: dict, timeout: float) -> tuple[str | None, str | None]:
    import zigpy.exceptions

    app = app_cls({"device": device_config, "ota": {"enabled": False}, "database_path": None})
    node = network = None
    try:
        async with asyncio.timeout(timeout):
            await app.connect()
            try:
                await app.load_network_info(load_devices=False)
            except zigpy.exceptions.NetworkNotFormed:
                network = None
            else:
                info = app.state.network_info
                network = f"channel {info.channel}, PAN 0x{info.pan_id:04X}, " \
                          f"extended PAN {info.extended_pan_id}"
            state = app.state.node_info
            node = " ".join(str(part) for part in (state.manufacturer, state.model,
                                                   state.version) if part) or None
    except Exception as err:  # noqa: BLE001 - it answered the probe; details are a bonus
        logging.getLogger(__name__).debug("no details from %s: %s", app_cls, err)
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await app.disconnect()
    return node, network
