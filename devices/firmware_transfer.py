"""The Comms Hub's part of SRV 11.1 for a HAN device: it sends the image over the HAN
(ZigBee OTA image blocks), which takes time, and reports the outcome with GBCS CCS08
(0x8F8A transferred, 0x8F89 not; DUIS FirmwareTransferAlert's TransferResponseCode).

Outcomes: the device is not on the HAN (never joined, or gone) -> file transfer failure,
nothing sent; the image's hardware range excludes the device's hardware -> hardware
version mismatch, nothing sent; the device refuses the image it received (signature,
model or upgrade path, its own 0x8F1C) -> image discarded; else success, and the device
raises 0x8F72. Either way the alerts carry the time the transfer ended.

Transfer time is the image size over the HAN's effective OTA rate: a parameter
(:data:`OTA_BYTES_PER_SECOND`, hansim's assumption: ZigBee OTA moves an image in blocks of
at most ~64 bytes, one request/response round trip each, far below the 250 kbit/s air
rate). No clock inside: callers pass the time in seconds.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from devices.alerts import Alert, AlertCode
from devices.firmware import DeviceFirmware
from firmware.image import FirmwareImageError, parse
from gbcs.use_cases import TransferResult

#: Effective HAN throughput of an OTA image transfer, bytes/s (assumption, L).
OTA_BYTES_PER_SECOND = 400.0


def transfer_seconds(image: bytes, rate: float = OTA_BYTES_PER_SECOND) -> float:
    return len(image) / rate


def transfer(chf_id: str, device_id: str, firmware: DeviceFirmware, on_han: bool, image: bytes,
             now: float, supplier_key: ec.EllipticCurvePublicKey | None,
             rate: float = OTA_BYTES_PER_SECOND) -> list[Alert]:
    """Send ``image`` from the Comms Hub to the device; the CHF's transfer alert, then the
    device's receipt alert (if it got the image), at the time the transfer ended."""
    try:
        header = parse(image)
        version, hardware = header.version, header.hardware_versions
    except FirmwareImageError:
        version, hardware = 0, None  # the device will discard what it cannot read
    done = now + transfer_seconds(image, rate)
    received: list[Alert]
    if not on_han:
        result, received = TransferResult.FILE_TRANSFER_FAILURE, []
    elif hardware is not None and not hardware[0] <= firmware.hardware_version <= hardware[1]:
        result, received = TransferResult.HARDWARE_VERSION_MISMATCH, []
    else:
        received = firmware.deliver(image, done, supplier_key)
        verified = received[0].code == AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL
        result = TransferResult.SUCCESS if verified else TransferResult.IMAGE_DISCARDED
    code = (AlertCode.FIRMWARE_TRANSFER_SUCCEEDED if result == TransferResult.SUCCESS
            else AlertCode.FIRMWARE_TRANSFER_FAILED)
    return [Alert(code, chf_id, done, device_id,
                  {"transfer_result": result.name, "firmware_version": f"{version:08X}"}),
            *received]
