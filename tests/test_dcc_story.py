"""Whole commissioning stories through the DCC, built from the DCC's own templates.

With SM WAN: 12.2, 8.14.1, 8.11 Add, the HAN join, 8.1.1 variant 4 then 5 ends with the
ESME Commissioned. Install and leave: after 8.14.2 the story stops at 8.11 (no WAN)
and, once the WAN arrives, resumes to the same end.
"""

from duis_support import (
    assert_valid, commissioned_site, commissioning_story, submit_signed, template, xsd,
)
from han.installcode import InstallCode
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.duis.bodies import (
    CommissionDeviceSynchroniseClock, DevicePrenotification, JoinServiceCritical,
    UpdateHANDeviceLog,
)
from sim.duis.request import RequestID, ServiceRequest
from sim.duis.response import DCCAlertMessage, DeviceAlertMessage

ESME, CHF, GPF = ("00-DB-12-34-56-78-90-" + x for x in ("A0", "A2", "A3"))


def _alerts(outcome) -> list[str]:
    codes = []
    for _, doc in outcome.documents:
        if isinstance(doc.body, DeviceAlertMessage):
            codes.append(doc.body.alert_code)
        elif isinstance(doc.body, DCCAlertMessage):
            codes.append(doc.body.code)
    return codes


def test_story_with_wan_ends_commissioned() -> None:
    dcc = Dcc(default_premises(), xsd())
    outcomes = commissioning_story(dcc)
    assert [o.code for o in outcomes] == ["I99", "I99", "I0", "I0", "I0"]
    for outcome in outcomes:
        assert_valid(outcome)
    prenotify, install, add, pre, signed = outcomes
    # As DCC Boxed's 8.2 shows it: the CHF Commissioned, its GPF waiting for the gas meter
    assert [str(c) for c in install.changes] == [f"{CHF} Pending->Commissioned",
                                                  f"{GPF} Pending->InstalledNotCommissioned"]
    assert _alerts(add) == ["8F12", "N24", "8F49"]
    assert pre.pre_command is not None
    assert pre.changes == []  # variant 4 changes nothing: the meter has not seen it yet
    assert _alerts(signed) == ["8F69"]
    record = dcc.smi.get(ESME)
    assert [s for s, _ in record.history] == ["Pending", "Whitelisted", "Commissioned"]
    assert record.date_commissioned == "2024-01-08"
    assert dcc.premises.devices[ESME].commissioned


def test_install_and_leave_stops_at_8_11_and_resumes_when_wan_arrives() -> None:
    premises = default_premises()
    premises.hub.wan_connected = False
    premises.wan_arrives = 30 * 86400.0
    dcc = Dcc(premises, xsd())
    outcomes = commissioning_story(dcc, install="8.14.2")
    assert [o.code for o in outcomes] == ["I99", "I99", "E20"]
    assert outcomes[2].reason == f"no SM WAN at the premises: the DCC cannot reach Comms Hub {CHF}"
    assert dcc.smi.status(CHF) == "InstalledNotCommissioned"
    assert dcc.smi.status(ESME) == "Pending"
    assert_valid(outcomes[2])

    assert dcc.advance(29 * 86400.0) == []  # not yet
    assert dcc.advance(86400.0) == [  # the GPF waits for its gas meter
        f"SM WAN arrived: SMI {CHF} InstalledNotCommissioned->Commissioned"]
    add = dcc.submit(template("CCS01_"))
    assert add.code == "I0" and _alerts(add) == ["8F12", "N24", "8F49"]
    pre = dcc.submit(template("ECS70"))
    assert submit_signed(dcc, pre).code == "I0"
    assert dcc.smi.status(ESME) == "Commissioned"
    assert dcc.smi.get(ESME).history[-1] == ("Commissioned", "2024-02-07")


def test_wrong_install_code_fails_the_join_and_8_1_1() -> None:
    dcc = Dcc(default_premises(), xsd())
    for prefix in ("12.2_", "8.14.1_"):
        dcc.submit(template(prefix))
    wrong = template("CCS01_").replace(b"30313233343536373839414243444546",
                                       b"00112233445566778899AABBCCDDEEFF")
    add = dcc.submit(wrong)
    assert add.code == "I0"  # the CHF took the code; the meter holds another one
    assert _alerts(add) == ["8F12", "N24", "8F48"]
    assert "join window closed" in add.reason
    commission = dcc.submit(template("ECS70"))
    assert (commission.code, commission.reason) == ("I0", "pre-command returned for the supplier to sign")
    refused = submit_signed(dcc, commission)
    assert (refused.code, refused.reason) == ("E20", f"ESME {ESME} has not joined the HAN")
    assert dcc.smi.status(ESME) == "Whitelisted"


def test_gas_meter_story_with_join_service() -> None:
    """GSME: 12.2, 8.11 Add, 8.7.1 join with the GPF (critical), 8.1.1 (domain.md §5.5)."""
    gsme, user = "00-DB-12-34-56-78-90-A1", "90-B3-D5-1F-30-01-00-00"
    premises = default_premises()
    code = premises.devices[gsme].install_code  # what the gas supplier was delivered
    dcc = Dcc(premises, xsd())

    def send(target: str, cv: int, ref: str, srv: str, body, counter: int):
        rid = RequestID(user, target, counter)
        outcome = dcc.submit(ServiceRequest(rid, cv, ref, srv, body).to_xml())
        assert_valid(outcome)
        if cv == 4 and outcome.accepted:
            outcome = submit_signed(dcc, outcome)
            assert_valid(outcome)
        return outcome

    assert send("90-B3-D5-1F-30-00-00-02", 8, "12.2", "12.2",
                DevicePrenotification(gsme, "AB01", "0A0B", "GSME"), 1).code == "I99"
    assert dcc.submit(template("8.14.1_")).code == "I99"
    add = send(CHF, 1, "8.11", "8.11", UpdateHANDeviceLog(gsme, "Add", 120, InstallCode(code.code)), 2)
    assert _alerts(add) == ["8F12", "N24", "8F49"]
    join = send(gsme, 4, "8.7", "8.7.1", JoinServiceCritical(GPF), 3)
    assert (join.code, join.changes) == ("I0", [])
    commission = send(gsme, 4, "8.1", "8.1.1",
                      CommissionDeviceSynchroniseClock("2024-01-08T09:05:00Z", 60), 4)
    assert commission.code == "I0" and dcc.smi.status(gsme) == "Commissioned"
    assert [str(c) for c in commission.changes] == [  # the GPF is commissioned with its GSME
        f"{gsme} Whitelisted->Commissioned", f"{GPF} InstalledNotCommissioned->Commissioned"]


def test_change_of_supplier_before_commissioning_needs_the_install_code() -> None:
    """Install and leave, CoS, then the gaining supplier (MP121): only the right code works."""
    losing, gaining = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-05-00-00"
    premises = default_premises()
    premises.hub.wan_connected, premises.wan_arrives = False, 90 * 86400.0
    premises.users[gaining] = {"ImportSupplier"}
    dcc = Dcc(premises, xsd())
    assert [o.code for o in commissioning_story(dcc, install="8.14.2")] == ["I99", "I99", "E20"]
    premises.change_supplier("electricity", gaining)
    dcc.advance(90 * 86400.0)  # the WAN arrives

    def as_gaining(prefix: str, code: bytes | None = None) -> bytes:
        data = template(prefix).replace(losing.encode(), gaining.encode())
        return data.replace(b"30313233343536373839414243444546", code) if code else data

    assert dcc.submit(template("CCS01_")).code == "E4"  # the losing supplier is out
    guess = dcc.submit(as_gaining("CCS01_", b"00000000000000000000000000000001"))
    assert _alerts(guess) == ["8F12", "N24", "8F48"]  # no install code: no join
    dcc.advance(120)
    # The CHF keeps the first code of a device already in its log: remove, then add.
    assert dcc.submit(as_gaining("CCS02_")).code == "I0"
    exchanged = dcc.submit(as_gaining("CCS01_"))  # the code, obtained under MP121
    assert _alerts(exchanged) == ["8F12", "N24", "8F49"]
    assert submit_signed(dcc, dcc.submit(as_gaining("ECS70"))).code == "I0"
    assert dcc.smi.status(ESME) == "Commissioned"


def test_8_2_returns_what_12_2_and_8_11_supplied() -> None:
    """DUIS's Device: every field the DCC holds (12.2's and 8.11's), not just ID and status."""
    dcc = commissioned_site()
    read = template("8.2_").replace(b"<sr:DeviceID>00-DB-12-34-56-78-90-A2", f"<sr:DeviceID>{ESME}".encode())
    outcome = dcc.submit(read)
    assert_valid(outcome)
    (device,) = outcome.payload["inventory"]
    assert (device.status, device.smets_chts_version, device.firmware_version, device.esme_variant,
            device.import_mpxn, device.secondary_import_mpan, device.date_commissioned) == (
        "Commissioned", "SMETS V1.58", "0002012F", "AD", "1312345678111", "1312345678222",
        "2024-01-08")
