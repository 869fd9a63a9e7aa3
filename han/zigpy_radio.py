"""A real (or virtual) USB stick as the CHF's HAN radio, through zigpy's radio libraries.

zigpy-znp, bellows and zigpy-deconz are the optional ``hansim[sticks]`` extra, imported
only when a stick is opened. Two things make zigpy talk to Smart Energy meters, both
done here and only here:

- the coordinator registers an SE-profile endpoint (:data:`CHF_ENDPOINT`), as a real
  CHF does, so requests to a meter's SE endpoint go out from it (zigpy-znp is told not
  to force endpoint 1);
- zigpy parses ZCL replies only on the HA and ZLL profiles and silently drops others
  (zigpy issues 1709, 1810), so :func:`accept_smart_energy` relabels incoming profile
  0x0109 packets as HA before zigpy parses them. The ZCL frame format does not depend
  on the profile, so nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from typing import Any

import zigpy.profiles.zha
import zigpy.types as zt

from han.eui import to_device_id, to_eui64
from han.radio import RADIO_MODULES, RadioError, RadioListener, RadioSpec
from han.radio_noise import quiet_loop, quiet_radio_libraries

SMART_ENERGY_PROFILE = 0x0109
#: The CHF's own SE endpoint: Metering client, Time and Key Establishment servers,
#: Basic, Price and Messaging (device type 0x0500, ESI: Energy Service Interface).
CHF_ENDPOINT = {
    "endpoint": 10,
    "profile": SMART_ENERGY_PROFILE,
    "device_type": 0x0500,
    "device_version": 0,
    "input_clusters": [0x0000, 0x000A, 0x0800],
    "output_clusters": [0x0700, 0x0702, 0x0703],
}
STARTUP_TIMEOUT = 30.0
#: The longest permit-join ZigBee allows (zigpy asserts it).
MAX_PERMIT_SECONDS = 254
REMOVE_TIMEOUT = 10.0  # zigpy gives a router 7 s to answer the leave request
_log = logging.getLogger(__name__)


def accept_smart_energy(app: Any) -> None:
    """Make ``app`` (a zigpy ControllerApplication) parse Smart Energy replies."""
    deliver = app.packet_received

    def packet_received(packet: zt.ZigbeePacket) -> None:
        if packet.profile_id == SMART_ENERGY_PROFILE:
            packet = packet.replace(profile_id=zigpy.profiles.zha.PROFILE_ID)
        deliver(packet)

    app.packet_received = packet_received


def zigpy_config(spec: RadioSpec, extra: dict | None = None) -> dict:
    """The ControllerApplication config for ``spec``: no OTA, no database, the SE endpoint."""
    config: dict[str, Any] = {
        "device": {"path": spec.path},
        "database_path": None,
        "ota": {"enabled": False},
        "backup_enabled": False,
        "topology_scan_enabled": False,
        "additional_endpoints": [CHF_ENDPOINT],
    }
    if spec.kind == "znp":
        config["znp_config"] = {"prefer_endpoint_1": False}
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


class ZigpyRadio:
    """``han.radio.HanRadio`` on a stick. ``extra`` is merged into zigpy's config."""

    def __init__(self, spec: RadioSpec, extra: dict | None = None) -> None:
        """Imports the radio library here, in the caller's thread, not in the asyncio
        thread that runs it: importing evaluates string annotations with ``compile``, and
        CPython 3.11's AST recursion counter is shared between threads (compiles in two
        threads at once can later fail with "AST constructor recursion depth mismatch")."""
        self.spec = spec
        self.extra = extra
        quiet_radio_libraries()
        try:
            self._library = importlib.import_module(RADIO_MODULES[spec.kind])
        except ImportError as err:
            raise RadioError(f"radio {spec}: {err.name} is not installed "
                             "(pip install 'hansim[sticks]')") from None
        self.app: Any = None
        self._listener: RadioListener | None = None

    async def start(self, listener: RadioListener) -> None:
        module = self._library
        self._listener = listener
        quiet_loop(asyncio.get_running_loop())
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                self.app = await module.ControllerApplication.new(
                    zigpy_config(self.spec, self.extra), auto_form=True)
        except Exception as err:  # noqa: BLE001 - any library failure is one line for the user
            why = str(err) or type(err).__name__
            raise RadioError(f"radio {self.spec}: cannot start the HAN coordinator: {why}") \
                from None
        accept_smart_energy(self.app)
        self.app.add_listener(self)

    async def permit(self, device_id: str, link_key: bytes, seconds: int) -> None:
        """ZigBee's permit-join lasts at most 254 s, but a JoinTimePeriod may be 3600:
        re-open the window, as a CHF does, until ``seconds`` have passed. zigpy-znp returns
        when a window closes, bellows once it is open: wait out each window either way."""
        loop = asyncio.get_running_loop()
        while seconds > 0:
            chunk = min(seconds, MAX_PERMIT_SECONDS)
            closes = loop.time() + chunk
            await self.app.permit_with_link_key(to_eui64(device_id), zt.KeyData(link_key), chunk)
            await asyncio.sleep(max(0.0, closes - loop.time()))
            seconds -= chunk

    async def remove(self, device_id: str) -> None:
        """zigpy sends Mgmt_Leave_req in a task and forgets the device when it is done:
        wait for that (at most :data:`REMOVE_TIMEOUT`), so the caller knows it is gone."""
        ieee = to_eui64(device_id)
        await self.app.remove(ieee)
        try:
            async with asyncio.timeout(REMOVE_TIMEOUT):
                while ieee in self.app.devices:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise RadioError(f"radio {self.spec}: {device_id} still on the HAN "
                             f"{REMOVE_TIMEOUT:.0f} s after the remove") from None

    async def stop(self) -> None:
        if self.app is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.app.shutdown()
            self.app = None

    # zigpy listener events ---------------------------------------------------------------
    def device_joined(self, device: Any) -> None:
        if self._listener is not None:
            self._listener.radio_joined(to_device_id(device.ieee))

    def connection_lost(self, exc: Exception | None) -> None:
        _log.debug("radio %s lost: %r", self.spec, exc)
        if self._listener is not None:
            self._listener.radio_lost(f"radio {self.spec} disconnected "
                                      f"({exc or 'the port closed'})")
