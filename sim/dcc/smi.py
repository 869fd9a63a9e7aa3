"""The Smart Metering Inventory (SMI): each device's type, status and status history.

Statuses move only along the rules in ``smi_transitions.yaml`` (data, so the table can
be changed without code). Type 2 devices (IHD, CAD) have no status. The SMI holds no
install codes: that is the MP121 problem (only the installing supplier has them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from devices.meter import TYPE_2

ABSENT = "Absent"
STATUSES = (
    "Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned", "Decommissioned",
    "Withdrawn", "Suspended", "Recovery", "Recovered",
)
TRANSITIONS = Path(__file__).with_name("smi_transitions.yaml")


class SmiRefusal(ValueError):
    """An event the SMI does not allow for a device in its current status."""


@dataclass(frozen=True)
class Rule:
    event: str
    types: frozenset[str]
    sources: frozenset[str]
    to: str | None


class TransitionTable:
    """The SMI's allowed status changes, read from YAML."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules

    @classmethod
    def load(cls, path: Path = TRANSITIONS) -> TransitionTable:
        rules = []
        for raw in yaml.safe_load(path.read_text()):
            for status in [*raw["from"], raw["to"]]:
                if status not in (*STATUSES, ABSENT, None):
                    raise ValueError(f"{path}: unknown SMI status {status!r} in rule {raw}")
            rules.append(Rule(raw["event"], frozenset(raw["types"]), frozenset(raw["from"]), raw["to"]))
        return cls(tuple(rules))

    def find(self, event: str, device_type: str, status: str) -> Rule | None:
        for rule in self.rules:
            if rule.event == event and device_type in rule.types and status in rule.sources:
                return rule
        return None

    def sources(self, event: str, device_type: str) -> list[str]:
        """The statuses ``event`` may start from for ``device_type`` (for refusal messages)."""
        found = {s for r in self.rules if r.event == event and device_type in r.types for s in r.sources}
        return sorted(found)


@dataclass
class SmiRecord:
    """What the SMI knows about one device; ``history`` is (status, effective date)."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    firmware_version: str | None = None
    mpxn: str | None = None
    date_commissioned: str | None = None
    #: What 12.2 and 8.11 told the DCC, returned by 8.2.
    smets_chts_version: str | None = None
    esme_variant: str | None = None
    secondary_import_mpan: str | None = None
    export_mpan: str | None = None
    #: The user that sent 12.2 for it: DSMS assigns an SSI install-code incident to them.
    prenotified_by: str | None = None
    history: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.history[-1][0] if self.history else None


@dataclass(frozen=True)
class StatusChange:
    device_id: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.device_id} {self.before}->{self.after}"


@functools.cache
def default_table() -> TransitionTable:
    """``smi_transitions.yaml``, read once per process and shared by every Inventory."""
    return TransitionTable.load()


class Inventory:
    """The SMI: records by device ID and the transition table they obey."""

    def __init__(self, table: TransitionTable | None = None) -> None:
        self.table = table or default_table()
        self.records: dict[str, SmiRecord] = {}

    def get(self, device_id: str) -> SmiRecord | None:
        return self.records.get(device_id.upper())

    def status(self, device_id: str) -> str | None:
        record = self.get(device_id)
        return record.status if record else None

    def check(self, event: str, device_id: str, device_type: str | None = None) -> None:
        """Raise :class:`SmiRefusal` unless ``event`` is allowed for the device now."""
        self._rule(event, device_id, device_type)

    def apply(self, event: str, record: SmiRecord | str, date: str) -> StatusChange | None:
        """Apply ``event`` (a new record for events from Absent); the change, if any."""
        device_id = record if isinstance(record, str) else record.device_id
        device_type = None if isinstance(record, str) else record.device_type
        rule = self._rule(event, device_id, device_type)
        if rule is None:  # Type 2: recorded, no status
            if not isinstance(record, str):
                self.records[device_id.upper()] = record
            return None
        before = self.status(device_id) or ABSENT
        if rule.to is None:
            return None
        if rule.to == ABSENT:
            del self.records[device_id.upper()]
        else:
            if before == ABSENT:
                assert not isinstance(record, str)
                self.records[device_id.upper()] = record
            target = self.records[device_id.upper()]
            target.history.append((rule.to, date))
            if rule.to == "Commissioned":
                target.date_commissioned = date
        return StatusChange(device_id.upper(), before, rule.to)

    def ch_prenotification(
        self, device_id: str, manufacturer: str, model: str, firmware_version: str, date: str,
        device_type: str = "CHF",
    ) -> StatusChange | None:
        """The CSP pre-notifies a CH's CHF or GPF (new, or re-flashed in stock under MP155): a
        new record is Pending; a known one keeps its status and takes the new firmware version."""
        record = self.get(device_id) or SmiRecord(device_id.upper(), device_type, manufacturer, model)
        change = self.apply("ch_prenotify", record, date)
        record.model, record.firmware_version = model, firmware_version
        return change

    def _rule(self, event: str, device_id: str, device_type: str | None) -> Rule | None:
        existing = self.get(device_id)
        kind = existing.device_type if existing else device_type
        if kind is None:
            raise SmiRefusal(f"device {device_id} is not in the SMI")
        if kind in TYPE_2:
            return None
        status = existing.status if existing and existing.status else ABSENT
        rule = self.table.find(event, kind, status)
        if rule is None:
            allowed = " or ".join(self.table.sources(event, kind)) or "no status"
            if status == ABSENT:
                raise SmiRefusal(f"{kind} {device_id} is not in the SMI")
            raise SmiRefusal(
                f"{kind} {device_id} is {status}; {event.replace('_', ' ')} needs {allowed}"
            )
        return rule
