"""A device's firmware slots: what SRV 11.1 delivers and SRV 11.3 activates.

Every device runs one version and holds at most one pending image. 11.1 delivers an
image: the device parses it, checks the signature with its current supplier's key and that the catalogue
allows it for this model, hardware and running version, and raises 0x8F72 (verified,
now pending) or 0x8F1C (refused, with the reason; the transfer overwrote the pending slot,
so nothing is pending). 11.3 names the pending image by its 32-byte hash: a wrong hash
or nothing pending is an error; otherwise the running version changes and the device
raises 0x8F43. Only a verified image is ever pending, so only a verified image can run.

The DCC turns 0x8F43 into the SMI's firmware version; that is the caller's job (sim/dcc).
No clock inside: callers pass the time in seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from devices.alerts import Alert, AlertCode
from firmware.catalogue import Catalogue, DeviceModel
from firmware.image import FirmwareImage, FirmwareImageError, SignatureError, parse
from gbcs.use_cases import ActivationResult

HASH_LENGTH = 32


class ActivationError(ValueError):
    """An 11.3 Activate Firmware the device refuses, with the reason and the GBCS CS06
    result code its response carries."""

    def __init__(self, message: str, result: ActivationResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class DeviceFirmware:
    """Running and pending firmware of one device (CHF, ESME, GSME ...)."""

    device_id: str
    model: DeviceModel
    hardware_version: int
    running: int
    catalogue: Catalogue = field(repr=False)
    pending: FirmwareImage | None = field(default=None, repr=False)

    def deliver(self, image: bytes, now: float,
                supplier_key: ec.EllipticCurvePublicKey | None) -> list[Alert]:
        """SRV 11.1 reaches the device: verify with the key of the device's current
        supplier (GBCS: the supplier signs the image), keep as pending, raise 0x8F72 or
        0x8F1C."""
        self.pending = None
        calculated = hashlib.sha256(image).digest()  # an unreadable image: hash of its bytes
        try:
            parsed = parse(image)
            calculated = parsed.hash
            if supplier_key is None:
                raise SignatureError("the device holds no supplier key to check the image with")
            parsed.verify(supplier_key)
            self.catalogue.check_image(parsed, self.model, self.hardware_version, self.running)
        except FirmwareImageError as err:
            return [Alert(AlertCode.FIRMWARE_VERIFICATION_FAILED, self.device_id, now,
                          detail={"reason": str(err),
                                  "firmware_hash": calculated.hex().upper()})]
        self.pending = parsed
        return [Alert(AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL, self.device_id, now,
                      detail={"firmware_version": f"{parsed.version:08X}",
                              "firmware_hash": parsed.hash.hex().upper()})]

    def activate(self, firmware_hash: bytes, now: float) -> list[Alert]:
        """SRV 11.3: run the pending image named by ``firmware_hash``; raise 0x8F43."""
        if len(firmware_hash) != HASH_LENGTH:
            raise ActivationError(f"{self.device_id}: firmware hash is {len(firmware_hash)} "
                                  f"bytes, 11.3 carries {HASH_LENGTH}",
                                  ActivationResult.HASH_MISMATCH)
        if self.pending is None:
            raise ActivationError(f"{self.device_id}: no verified firmware image is pending",
                                  ActivationResult.NO_IMAGE_HELD)
        if firmware_hash != self.pending.hash:
            raise ActivationError(f"{self.device_id}: firmware hash {firmware_hash.hex().upper()} "
                                  f"does not match the pending image's {self.pending.hash.hex().upper()}",
                                  ActivationResult.HASH_MISMATCH)
        previous, self.running, self.pending = self.running, self.pending.version, None
        return [Alert(AlertCode.ACTIVE_FIRMWARE_VERSION_CHANGED, self.device_id, now,
                      detail={"firmware_version": f"{self.running:08X}",
                              "previous_version": f"{previous:08X}"})]
