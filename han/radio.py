"""The Comms Hub's HAN radio behind one interface: the simulated air or a real USB stick.

What the CHF asks of its radio is small: open a join window for one EUI-64 with the
link key from its install code (SRV 8.11 Add), make a device leave (CCS02), and tell
whoever listens when a device joined or when the radio itself went away. The interface
is asynchronous because the real radios (zigpy's libraries) are; it does no I/O of its
own and keeps no clock, so the device log stays the one place that decides 0x8F49 and
0x8F48. Implementations: ``han.zigpy_radio.ZigpyRadio`` (a stick, through zigpy-znp,
bellows or zigpy-deconz) and ``sim.han_time.air_radio.AirRadio`` (meters on the simulated air).

A radio is named by a spec string ``KIND:PATH``: ``znp:/dev/ttyACM0``,
``ezsp:/dev/ttyUSB0``, ``deconz:/dev/ttyACM0``, ``znp:socket://127.0.0.1:PORT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from han.stick_probe import RADIO_LIBRARIES

#: Spec kind -> the zigpy radio library's application module.
RADIO_MODULES = {key: module for key, module, _ in RADIO_LIBRARIES}


class RadioError(Exception):
    """A radio that cannot be used: bad spec, library missing, stick not answering."""


class RadioLost(RadioError):
    """The radio went away mid-run (stick unplugged, PTY closed, TCP peer gone)."""


@dataclass(frozen=True)
class RadioSpec:
    """Which radio library drives which port."""

    kind: str
    path: str

    @classmethod
    def parse(cls, text: str) -> RadioSpec:
        kind, sep, path = text.strip().partition(":")
        kind = kind.lower()
        if not sep or not path or kind not in RADIO_MODULES:
            raise RadioError(
                f"radio {text!r}: expected KIND:PATH with KIND one of "
                f"{', '.join(RADIO_MODULES)} (e.g. znp:/dev/ttyACM0, znp:socket://127.0.0.1:6638)")
        return cls(kind, path)

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}"


class RadioListener(Protocol):
    """What a radio reports. Called on the radio's own event loop."""

    def radio_joined(self, device_id: str) -> None:
        """``device_id`` joined the HAN through the trust centre."""

    def radio_lost(self, reason: str) -> None:
        """The radio is gone; ``reason`` is one line."""


class HanRadio(Protocol):
    """The CHF's HAN radio. Device IDs are DUIS strings (``00-DB-12-34-56-78-90-A0``)."""

    async def start(self, listener: RadioListener) -> None:
        """Open the radio and form (or load) the HAN; report to ``listener`` from now on."""

    async def permit(self, device_id: str, link_key: bytes, seconds: int) -> None:
        """Let ``device_id`` join with ``link_key`` for ``seconds``; returns when the
        window has closed (cancel the call to stop waiting)."""

    async def remove(self, device_id: str) -> None:
        """Make ``device_id`` leave the HAN and forget it (CCS02)."""

    async def stop(self) -> None:
        """Close the radio."""
