"""Which ZigBee stick is on a serial port: a guess from USB VID:PID and product string.

The table is data (``usb_sticks.yaml``) because sticks come and go faster than code.
Several sticks share one USB-serial bridge chip, so an entry may name a word of the
port's product string; an entry without one matches any product and is a weaker guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class KnownStick:
    vid: int
    pid: int
    name: str
    radio: str
    library: str | None  # znp, ezsp, deconz, nrf-sniffer, or None when unknown
    product: str | None = None

    def matches(self, vid: int | None, pid: int | None, product: str | None) -> bool:
        if (vid, pid) != (self.vid, self.pid):
            return False
        return self.product is None or self.product.lower() in (product or "").lower()


@cache
def known_sticks() -> tuple[KnownStick, ...]:
    text = resources.files("han").joinpath("usb_sticks.yaml").read_text(encoding="utf-8")
    return tuple(KnownStick(**row) for row in yaml.safe_load(text))


def guess(vid: int | None, pid: int | None, product: str | None) -> KnownStick | None:
    """The best table entry for a port: one naming its product first, then the chip's."""
    matches = [stick for stick in known_sticks() if stick.matches(vid, pid, product)]
    matches.sort(key=lambda stick: stick.product is None)
    return matches[0] if matches else None
