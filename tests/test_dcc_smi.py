"""The SMI: statuses move only along the transition table, which is data."""

from pathlib import Path

import pytest
import yaml

from sim.dcc.smi import STATUSES, TRANSITIONS, Inventory, SmiRecord, SmiRefusal, TransitionTable

from duis_support import xsd

ESME = "00-DB-12-34-56-78-90-A0"


def record(kind: str = "ESME", device_id: str = ESME) -> SmiRecord:
    return SmiRecord(device_id, kind, "AB01", "010A030B")


def test_statuses_are_the_xsd_enumeration() -> None:
    assert STATUSES == tuple(xsd().types["DeviceStatus"].enumeration)


def test_meter_life_and_history() -> None:
    smi = Inventory()
    steps = [("prenotify", "2024-01-01"), ("han_log_add", "2024-01-02"),
             ("commission", "2024-01-03"), ("decommission", "2025-06-30")]
    for event, date in steps:
        smi.apply(event, record() if event == "prenotify" else ESME, date)
    assert smi.get(ESME).history == [
        ("Pending", "2024-01-01"), ("Whitelisted", "2024-01-02"),
        ("Commissioned", "2024-01-03"), ("Decommissioned", "2025-06-30")]
    assert smi.get(ESME).date_commissioned == "2024-01-03"


def test_refusal_names_status_and_what_is_needed() -> None:
    smi = Inventory()
    smi.apply("prenotify", record(), "2024-01-01")
    with pytest.raises(SmiRefusal, match="ESME .* is Pending; commission needs "
                                         "InstalledNotCommissioned or Whitelisted"):
        smi.apply("commission", ESME, "2024-01-02")
    with pytest.raises(SmiRefusal, match="not in the SMI"):
        smi.apply("commission", "00-DB-12-34-56-78-90-FF", "2024-01-02")


def test_type_2_devices_have_no_status() -> None:
    smi = Inventory()
    assert smi.apply("prenotify", record("IHD", "00-DB-12-34-56-78-90-B0"), "2024-01-01") is None
    assert smi.status("00-DB-12-34-56-78-90-B0") is None
    assert smi.get("00-DB-12-34-56-78-90-B0").history == []


def test_delete_only_from_pending() -> None:
    smi = Inventory()
    smi.apply("prenotify", record(), "2024-01-01")
    smi.apply("delete", ESME, "2024-01-02")
    assert smi.get(ESME) is None


def test_table_is_data_and_can_be_changed(tmp_path: Path) -> None:
    rules = yaml.safe_load(TRANSITIONS.read_text())
    # A changed regime: meters may be commissioned straight from Pending.
    rules.append({"event": "commission", "types": ["ESME"], "from": ["Pending"],
                  "to": "Commissioned"})
    changed = tmp_path / "t.yaml"
    changed.write_text(yaml.safe_dump(rules))
    smi = Inventory(TransitionTable.load(changed))
    smi.apply("prenotify", record(), "2024-01-01")
    assert str(smi.apply("commission", ESME, "2024-01-02")) == f"{ESME} Pending->Commissioned"
    rules.append({"event": "x", "types": ["ESME"], "from": ["Lost"], "to": None})
    changed.write_text(yaml.safe_dump(rules))
    with pytest.raises(ValueError, match="unknown SMI status 'Lost'"):
        TransitionTable.load(changed)
