"""Device alerts (GBCS alert codes) that devices raise and the DCC turns into DUIS alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class AlertCode(IntEnum):
    """GBCS device alert codes hansim raises (domain.md §4-6)."""

    DEVICE_LOG_CHANGED = 0x8F12
    FIRMWARE_VERIFICATION_FAILED = 0x8F1C
    ACTIVE_FIRMWARE_VERSION_CHANGED = 0x8F43
    JOINING_FAILED = 0x8F48
    JOINING_SUCCEEDED = 0x8F49
    FUTURE_DATED_ACTIONED = 0x8F66  # a future-dated command ran and succeeded
    FUTURE_DATED_NOT_ACTIONED = 0x8F67  # it ran and failed (DUIS MMC schema, gbcs-parser)
    DEVICE_COMMISSIONED = 0x8F69
    FIRMWARE_VERIFICATION_SUCCESSFUL = 0x8F72
    FIRMWARE_TRANSFER_FAILED = 0x8F89
    FIRMWARE_TRANSFER_SUCCEEDED = 0x8F8A

    @property
    def hex(self) -> str:
        """As DUIS writes it (xs:hexBinary)."""
        return f"{self.value:04X}"


@dataclass(frozen=True)
class Alert:
    """One alert: which code, from which device, about which device, when (clock seconds)."""

    code: AlertCode
    raised_by: str
    time: float
    subject: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
