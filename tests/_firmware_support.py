"""Shared by the firmware tests: keys and the DCC 11.1 template (found as the DUIS tests find it)."""

from __future__ import annotations

import base64
import re

from duis_support import template

from firmware import image, signing_keys
from sim.duis.precommand import supplier_test_key


def template_image() -> bytes:
    """The firmware image inside DCC's 11.1 Update Firmware test request."""
    xml = template("11.1_UPDATE_FIRMWARE").decode()
    return base64.b64decode(re.search(r"<sr:FirmwareImage>(.*?)</sr:FirmwareImage>", xml, re.S)[1])


_KEYS: dict[int, object] = {}


SUPPLIER = "90-B3-D5-1F-30-01-00-00"  # the DCC Boxed test supplier, the default site's


def key(n: int = 0):
    """Supplier signing key number n, the same object for the whole test run: 0 is the
    default site's supplier (DCC Boxed's test key, which the devices trust), others fresh."""
    if n not in _KEYS:
        _KEYS[n] = supplier_test_key(SUPPLIER) if n == 0 else signing_keys.generate()
    return _KEYS[n]


def signed(payload: bytes = b"firmware" * 40, *, version: int = 0x00020100, n: int = 0,
           manufacturer_code: int = 0x7A01, image_type: int = 0x0100,
           hardware_versions: tuple[int, int] | None = (0x0100, 0x01FF)) -> bytes:
    return image.build(supplier_key=key(n), manufacturer_code=manufacturer_code,
                       image_type=image_type, version=version, manufacturer_image=payload,
                       header_string="NHW CH", hardware_versions=hardware_versions).serialize()
