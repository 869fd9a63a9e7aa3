"""What one service request came to: response code, reason, DUIS documents, SMI changes.

Response codes are DUIS's (I0 success, I99 acknowledgement, E1-E20 as DUIS defines
them, M; the SRV-specific E and W codes of ``srv_codes.yaml``, L). DUIS answers a
request that is not well-formed or fails the schema at the HTTP layer, not with a DUIS
code; hansim writes a DUIS Response with ``E100`` for it and for content it cannot use
(a bad install code), so every outcome is a DUIS file (the choice of E100 is hansim's, L).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.dcc.smi import StatusChange
from sim.duis.request import ServiceRequest
from sim.duis.response import PreCommand, ResponseMessage, ServiceResponse

SUCCESS = "I0"
ACKNOWLEDGED = "I99"
INVALID_USER = "E1"
ROLE_NOT_ALLOWED = "E2"
NOT_DEVICE_SUPPLIER = "E4"
DEVICE_STATUS = "E5"
WRONG_DEVICE_TYPE = "E11"
WRONG_COMMAND_VARIANT = "E12"
WRONG_URL = "E13"
UNKNOWN_DEVICE = "E19"
CANNOT_COMMUNICATE = "E20"
INVALID_REQUEST = "E100"
#: 11.1 carried out for some listed devices only (those not Commissioned are listed in the
#: response's DSPUpdateFirmwareWarning): DUIS's one 11.1 warning code (hansim's reading, M).
UPDATE_FIRMWARE_WARNING = "W110101"


#: SRV-specific codes by SRV and outcome (srv_codes.yaml).
SRV_CODES: dict[str, dict[str, str]] = yaml.safe_load(
    Path(__file__).with_name("srv_codes.yaml").read_text())


def code(srv: str, outcome: str) -> str:
    """The SRV-specific code DUIS gives this SRV's ``outcome`` (srv_codes.yaml)."""
    return SRV_CODES[srv][outcome]


class Refused(Exception):
    """The DCC (or the device) refuses a request: a DUIS code and hansim's reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass
class Outcome:
    """Everything one request produced, in the order the DCC sent it."""

    request: ServiceRequest | None
    code: str
    reason: str
    documents: list[tuple[str, ServiceResponse]] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    payload: dict = field(default_factory=dict)  # what the I0 ResponseMessage carries

    @property
    def pre_command(self) -> PreCommand | None:
        """The pre-command a variant-4 request got back, for the supplier to sign."""
        for name, document in self.documents:
            if name == "response" and isinstance(document.body, ResponseMessage):
                return document.body.pre_command
        return None

    def alert_count(self) -> int:
        return sum(1 for name, _ in self.documents if name.startswith("alert_"))

    @property
    def accepted(self) -> bool:
        return self.code in (SUCCESS, ACKNOWLEDGED) or self.code.startswith("W")

    def summary(self) -> str:
        """One line for people: SRV, outcome, SMI changes, alerts. Never a secret."""
        srv = f"SRV {self.request.srv} CV{self.request.command_variant}" if self.request else "not read as a request"
        text = f"{srv}: {self.code} {'accepted' if self.accepted else 'refused'}"
        if self.reason:
            text += f" ({self.reason})"
        if self.changes:
            text += "; SMI " + ", ".join(str(c) for c in self.changes)
        alerts = [name.split("_", 1)[1] for name, _ in self.documents if name.startswith("alert_")]
        if alerts:
            text += "; alerts " + " ".join(alerts)
        return text
