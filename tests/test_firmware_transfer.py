"""The Comms Hub's HAN transfer of an 11.1 image: it takes time, and each DUIS
FirmwareTransferAlert outcome (GBCS CCS08 response code) comes from its own cause."""

from __future__ import annotations

import pytest
from _firmware_support import key, signed, template_image

from devices.alerts import AlertCode
from devices.firmware import DeviceFirmware
from devices.firmware_transfer import OTA_BYTES_PER_SECOND, transfer
from firmware.catalogue import Catalogue

CHF, ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
CATALOGUE = Catalogue.load()


def esme(hardware: int = 0x1111) -> DeviceFirmware:
    return DeviceFirmware(ESME, CATALOGUE.model("GFI-ESME"), hardware, 0xACDCACDB, CATALOGUE)


@pytest.mark.parametrize(("case", "expected"), [
    ("ok", "SUCCESS"), ("off the HAN", "FILE_TRANSFER_FAILURE"),
    ("other hardware", "HARDWARE_VERSION_MISMATCH"), ("other supplier", "IMAGE_DISCARDED"),
])
def test_outcomes(case: str, expected: str) -> None:
    device = esme(0x2000 if case == "other hardware" else 0x1111)
    supplier = key(1 if case == "other supplier" else 0).public_key()
    image = template_image()
    alerts = transfer(CHF, ESME, device, case != "off the HAN", image, 100.0, supplier)
    done = 100.0 + len(image) / OTA_BYTES_PER_SECOND
    assert alerts[0].raised_by == CHF and alerts[0].subject == ESME and alerts[0].time == done
    assert alerts[0].detail == {"transfer_result": expected, "firmware_version": "ACDCACDC"}
    assert alerts[0].code == (AlertCode.FIRMWARE_TRANSFER_SUCCEEDED if expected == "SUCCESS"
                              else AlertCode.FIRMWARE_TRANSFER_FAILED)
    receipts = [a.code for a in alerts[1:]]
    assert receipts == {"SUCCESS": [AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL],
                        "IMAGE_DISCARDED": [AlertCode.FIRMWARE_VERIFICATION_FAILED]}.get(expected, [])
    assert (device.pending is not None) == (expected == "SUCCESS")


def test_a_bigger_image_takes_longer() -> None:
    small, big = signed(b"x" * 100), signed(b"x" * 100_000)
    t_small = transfer(CHF, ESME, esme(), True, small, 0.0, key().public_key())[0].time
    t_big = transfer(CHF, ESME, esme(), True, big, 0.0, key().public_key())[0].time
    assert t_big - t_small == pytest.approx(99_900 / OTA_BYTES_PER_SECOND)
