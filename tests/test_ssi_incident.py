"""The SSI "Request for Install Code" incident, step by step as the DCC's preliminary
impact assessment describes it (seeds/MP121-DCC-preliminary-impact-assessment.txt §4):
the SMI existence and state check, auto-assignment to whoever pre-notified the device,
the code as a note, only the creator closes, and anyone may raise one."""

from __future__ import annotations

import pytest

from sim.dcc.smi import Inventory, SmiRecord
from sim.dcc.ssi import IncidentRefused, SelfServiceInterface
from sim.replay.scenario import bundled, load_scenario
from sim.replay.story import replay

ESME, GSME = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1"
STOCK, INSTALLER, GAINING = "90-B3-D5-1F-30-03-00-00", "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-05-00-00"


def _ssi() -> SelfServiceInterface:
    smi = Inventory()
    for device_id, kind in ((ESME, "ESME"), (GSME, "GSME")):
        smi.apply("prenotify", SmiRecord(device_id, kind, "AB01", "010A030B", prenotified_by=STOCK), "2024-01-08")
    smi.apply("set_InstalledNotCommissioned", ESME, "2024-01-08")
    return SelfServiceInterface(smi)


def test_the_incident_goes_to_whoever_pre_notified_and_only_its_creator_closes_it() -> None:
    ssi = _ssi()
    incident = ssi.raise_incident(GAINING, ESME, 10.0)
    assert (incident.assignee, incident.creator) == (STOCK, GAINING)
    with pytest.raises(IncidentRefused, match="neither the creator nor the assignee"):
        ssi.add_note(incident, INSTALLER, 11.0, carries_code=True)
    ssi.add_note(incident, STOCK, 11.0, carries_code=False)
    with pytest.raises(IncidentRefused, match=f"only {GAINING}"):
        ssi.close(incident, STOCK, 12.0)
    ssi.close(incident, GAINING, 12.0)
    with pytest.raises(IncidentRefused, match="is closed"):
        ssi.add_note(incident, STOCK, 13.0, carries_code=True)


def test_the_ssi_checks_the_smi_but_not_who_asks() -> None:
    ssi = _ssi()
    with pytest.raises(IncidentRefused, match="not in the SMI"):
        ssi.raise_incident(GAINING, "00-DB-12-34-56-78-90-FF", 0.0)
    with pytest.raises(IncidentRefused, match="GSME .* is Pending in the SMI"):
        ssi.raise_incident(GAINING, GSME, 0.0)  # left Pending after install and leave: no state check passes
    anyone = ssi.raise_incident("90-B3-D5-1F-30-09-00-00", ESME, 0.0)  # not the supplier: accepted
    assert anyone.assignee == STOCK


def test_replayed_ssi_route_tells_the_assessments_steps_in_order() -> None:
    result = replay(load_scenario(next(p for p in bundled() if p.stem == "ssi-incident-5wd")))
    told = [e.event for e in result.entries if "INC000001" in e.event or "SRV 8.4" in e.event]
    assert [t.split(" (")[0].split(":")[0] for t in told] == [
        "SRV 8.4 CV8",  # the installer sets the ESME InstalledNotCommissioned
        "install code",  # raised, after the SMI check
        "install code",  # assigned to the pre-notifier
        "install code",  # the note
        "install code",  # closed by the requester
    ]
    assert "InstalledNotCommissioned in the SMI" in told[1]
    assert "assigns INC000001 to installer, who pre-notified" in told[2]
    assert "adds a note to INC000001: the install code" in told[3]
    assert "gaining closes INC000001" in told[4]
