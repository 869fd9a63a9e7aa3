"""The other SRVs of the story: change of supplier (6.23) and what it does to critical
commands (11.3), join service, decommissioning, inventory updates, the WAN matrix, and
the HanJoin interface being the one the DCC uses."""

import base64
import dataclasses

from _firmware_support import key, signed
from duis_support import assert_valid, commissioned_site, submit_signed, template, xsd

from devices.firmware import DeviceFirmware
from devices.han_join import JoinResult
from firmware.catalogue import Catalogue
from firmware.image import parse
from gbcs.keystore import shared
from gbcs.messages import Envelopes
from gbcs.use_cases import ActivationResult, cs06_outcome
from sim.dcc.coverage import Coverage, premises_key
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.duis.bodies import (
    ActivateFirmware, DecommissionDevice, RequestWANMatrix, UpdateFirmware, UpdateInventory,
)
from sim.duis.request import RequestID, ServiceRequest

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
ESME, CHF = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A2"


def dcc_only(srv: str, body, user: str = SUPPLIER) -> bytes:
    rid = RequestID(user, "90-B3-D5-1F-30-00-00-02", 5000)
    return ServiceRequest(rid, 8, srv.rsplit(".", 1)[0] if srv.count(".") > 1 else srv,
                          srv, body).to_xml()


def test_critical_11_3_needs_the_key_the_meter_trusts_after_6_23() -> None:
    dcc = commissioned_site()
    pre = dcc.submit(template("CS06_"))
    assert submit_signed(dcc, pre).code == "I0"  # signed by the registered supplier
    cos = dcc.submit(template("CS02b"))
    assert (cos.code, cos.reason) == (
        "I0", "meter now trusts 2.5.4.45=#0090b3d51f30030000,OU=02,CN=GITTESTSUPPLIER2")
    assert_valid(cos)
    # The meter now trusts the certificate's key, not the old supplier's test key.
    pre = dcc.submit(template("CS06_"))
    refused = submit_signed(dcc, pre)
    assert (refused.code, refused.reason) == (
        "E100", "device refused the command: supplier signature does not verify with the key "
                "the device holds")


def test_8_7_2_join_service_needs_the_other_device_on_the_han() -> None:
    dcc = commissioned_site()
    to_esme = template("CS03B").replace(b"00-DB-12-34-56-78-90-A1:1001", ESME.encode() + b":1001")
    unknown = dcc.submit(to_esme)
    assert (unknown.code, unknown.reason) == ("E19", "device 00-DB-12-34-56-78-90-9C is not in the SMI")
    gsme = to_esme.replace(b"00-DB-12-34-56-78-90-9C", b"00-DB-12-34-56-78-90-A1")
    absent = dcc.submit(gsme)  # the GSME is on site but has never joined
    assert (absent.code, absent.reason) == ("E20", "device 00-DB-12-34-56-78-90-A1 has not joined the HAN")
    assert_valid(absent)


def test_decommission_and_update_inventory() -> None:
    dcc = commissioned_site()
    down = dcc.submit(dcc_only("8.4", UpdateInventory(CHF, status_ch="Withdrawn")))
    assert [str(c) for c in down.changes] == [f"{CHF} Commissioned->Withdrawn"]
    gone = dcc.submit(dcc_only("8.3", DecommissionDevice(ESME)))
    assert [str(c) for c in gone.changes] == [f"{ESME} Commissioned->Decommissioned"]
    again = dcc.submit(dcc_only("8.3", DecommissionDevice(ESME)))
    assert again.code == "E5"
    for outcome in (down, gone, again):
        assert_valid(outcome)


def test_wan_matrix_reports_what_the_database_holds() -> None:
    premises = default_premises()
    premises.coverage.add(premises_key(uprn="12345"),
                          Coverage("South", False, "Low", "2024-06-01"))
    dcc = Dcc(premises, xsd())
    outcome = dcc.submit(dcc_only("12.1", RequestWANMatrix(uprn="12345")))
    assert outcome.reason == "South: not covered (Low)"
    (row,) = dict(outcome.documents)["response"].body.wan_matrix[1]
    assert (row.coverage_available, row.anticipated_coverage_date, row.wan_technology) == (
        False, "2024-06-01", "Cellular")
    assert_valid(outcome)
    unknown = dcc.submit(dcc_only("12.1", RequestWANMatrix(uprn="999")))
    assert (unknown.code, unknown.reason) == (
        "E120101", "premises not in the SM WAN coverage database")


def test_other_user_may_read_inventory_but_not_update_it() -> None:
    dcc = commissioned_site()
    dcc.premises.users["90-B3-D5-1F-30-07-00-00"] = {"OtherUser"}
    read = dcc.submit(template("8.2_").replace(SUPPLIER.encode(), b"90-B3-D5-1F-30-07-00-00"))
    assert read.code == "I0"
    write = dcc.submit(dcc_only("8.3", DecommissionDevice(ESME), "90-B3-D5-1F-30-07-00-00"))
    assert (write.code, write.reason) == ("E2", "OtherUser may not send SRV 8.3")


@dataclasses.dataclass
class RecordingJoin:
    """A stand-in HanJoin that records calls: the DCC must go through the interface."""

    calls: list = dataclasses.field(default_factory=list)

    def join(self, log, device_id, device_install_code, now) -> JoinResult:
        self.calls.append((device_id, now))
        return JoinResult(False, "radio silence", 90.0, [])


def test_8_11_drives_the_han_join_interface() -> None:
    join = RecordingJoin()
    dcc = Dcc(default_premises(), xsd(), han_join=join)
    for prefix in ("12.2_", "8.14.1_"):
        dcc.submit(template(prefix))
    outcome = dcc.submit(template("CCS01_"))
    assert join.calls == [(ESME, 0.0)]
    assert outcome.reason == "HAN join: radio silence after 90 s"
    assert not dcc.premises.devices[ESME].joined


def test_firmware_11_1_then_critical_11_3_updates_the_smi() -> None:
    """Wired to devices.firmware: a verified image is pending, 11.3 runs it (0x8F43)."""
    dcc = commissioned_site()
    catalogue = Catalogue.load()
    dcc.premises.hub.firmware = DeviceFirmware(
        CHF, catalogue.model("NHW-CH-SB"), 0x0105, 0x00020000, catalogue)
    image = signed(version=0x00020100)
    deliver = dcc.submit(dcc_only("11.1", UpdateFirmware(
        base64.b64encode(image).decode(), "00020100", CHF)))
    assert (deliver.code, deliver.reason) == ("I0", f"image delivered to {CHF}")
    assert [name for name, _ in deliver.documents] == ["response", "alert_8F72"]
    assert_valid(deliver)

    wrong = ServiceRequest(RequestID(SUPPLIER, CHF, 9), 4, "11.3", "11.3",
                           ActivateFirmware(firmware_hash="00" * 32))
    refused = submit_signed(dcc, dcc.submit(wrong.to_xml()))
    # the device's own CS06 answer (GBCS "Hash Mismatch"), not a DCC error; nothing changes
    assert refused.code == "I0" and "hash mismatch" in refused.reason
    answer = [d for name, d in refused.documents if name == "response"][-1].body.gbcs_payload
    outcome = Envelopes(shared()).open(base64.b64decode(answer)).message.content
    assert outcome == cs06_outcome(ActivationResult.HASH_MISMATCH, bytes.fromhex("00020000"))
    assert dcc.smi.get(CHF).firmware_version != "00020100"

    right = dataclasses.replace(wrong, body=ActivateFirmware(firmware_hash=parse(image).hash.hex().upper()))
    activated = submit_signed(dcc, dcc.submit(right.to_xml()))
    assert (activated.code, activated.reason) == ("I0", f"{CHF} now runs firmware 00020100")
    assert [name for name, _ in activated.documents][-1] == "alert_8F43"
    assert dcc.smi.get(CHF).firmware_version == "00020100"
    assert_valid(activated)


def test_future_dated_6_23_runs_at_its_execution_time_with_8f66() -> None:
    """DUIS ExecutionDateTime: the meter accepts the command now and runs it then (0x8F66)."""
    dcc = commissioned_site()
    key_before = dcc.premises.supplier_key(ESME)
    data = template("CS02b").replace(
        b"<sr:UpdateSecurityCredentialsCoS>",
        b"<sr:UpdateSecurityCredentialsCoS><sr:ExecutionDateTime>2024-01-10T00:00:00Z"
        b"</sr:ExecutionDateTime>")
    cos = dcc.submit(data)
    assert_valid(cos)
    assert (cos.code, cos.reason) == ("I0", "future-dated: the device runs it at 2024-01-10T00:00:00Z")
    assert [name for name, _ in cos.documents] == ["ack", "response"]
    assert dcc.premises.supplier_key(ESME) is key_before  # not yet
    assert dcc.advance(3600) == [] and dcc.outbox == []
    (note,) = dcc.advance(2 * 86400)
    assert note.startswith("future-dated SRV 6.23") and "meter now trusts" in note, note
    assert [name for name, _ in dcc.outbox] == ["alert_8F66"]
    assert dcc.outbox[0][1].response_id.originator == ESME
    assert dcc.premises.supplier_key(ESME) is not key_before


def test_past_execution_date_time_runs_at_once() -> None:
    dcc = commissioned_site()
    data = template("CS02b").replace(
        b"<sr:UpdateSecurityCredentialsCoS>",
        b"<sr:UpdateSecurityCredentialsCoS><sr:ExecutionDateTime>2020-01-01T00:00:00Z"
        b"</sr:ExecutionDateTime>")
    assert dcc.submit(data).reason.startswith("meter now trusts")


def test_8_14_3_and_8_14_4_withdraw_the_comms_hub() -> None:
    """Fault / no-fault return: CHF and GPF Withdrawn (I99); nothing reaches a device after."""
    for srv, body in (
        ("8.14.3", "<sr:CHFFaultReturn><sr:DeviceID>{chf}</sr:DeviceID><sr:CHFFaultReturnType>"
                   "Fault identified post installation</sr:CHFFaultReturnType><sr:OtherDeviceID>"
                   "{chf}</sr:OtherDeviceID><sr:CHFConnectionMethod>Hot-shoe</sr:CHFConnectionMethod>"
                   "<sr:CHFFaultReason>SM WAN Fault</sr:CHFFaultReason></sr:CHFFaultReturn>"),
        ("8.14.4", "<sr:CHFNoFaultReturn><sr:DeviceID>{chf}</sr:DeviceID><sr:CHFNoFaultReturnType>"
                   "Lost or Stolen Hub</sr:CHFNoFaultReturnType></sr:CHFNoFaultReturn>"),
    ):
        dcc = commissioned_site()
        data = template("8.14.1_").replace(b"8.14.1<", srv.encode() + b"<")
        start, end = data.index(b"<sr:CHFInstallSuccessSMWAN>"), data.index(b"</sr:CHFInstallSuccessSMWAN>")
        data = data[:start] + body.format(chf=CHF).encode() + data[end + len(b"</sr:CHFInstallSuccessSMWAN>"):]
        outcome = dcc.submit(data)
        assert_valid(outcome)
        assert outcome.code == "I99", outcome.reason
        assert [str(c) for c in outcome.changes] == [
            f"{CHF} Commissioned->Withdrawn", "00-DB-12-34-56-78-90-A3 InstalledNotCommissioned->Withdrawn"]
        assert dcc.submit(template("CCS06_")).code == "E5"  # a Withdrawn hub delivers nothing


def test_11_1_for_an_uncommissioned_device_is_listed_not_sent() -> None:
    """DUIS DSPUpdateFirmwareWarning/NotCommissionedDeviceIDList: the image goes only to
    Commissioned devices; the others are named in the (warning) response."""
    dcc = Dcc(default_premises(), xsd())
    for prefix in ("12.2_", "8.14.1_", "CCS01_"):
        assert dcc.submit(template(prefix)).accepted
    catalogue = Catalogue.load()
    esme = dcc.premises.devices[ESME]
    esme.firmware = DeviceFirmware(ESME, catalogue.model("GFI-ESME"), 0x1111, 0xACDCACDB, catalogue)
    dcc.premises.hub.firmware = DeviceFirmware(
        CHF, catalogue.model("NHW-CH-SB"), 0x0105, 0x00020000, catalogue)
    image = signed(version=0x00020100)
    outcome = dcc.submit(dcc_only("11.1", UpdateFirmware(
        base64.b64encode(image).decode(), "00020100", f"{CHF},{ESME}")))
    assert outcome.code == "W110101" and outcome.accepted
    assert outcome.reason == f"image delivered to {CHF}; not Commissioned, not sent: {ESME}"
    response = outcome.documents[0][1]
    assert response.response_code == "W110101"
    assert response.body.not_commissioned == (ESME,)
    assert esme.firmware.pending is None and dcc.premises.hub.firmware.pending is not None
    assert_valid(outcome)


def test_11_1_with_an_image_that_is_not_base64_is_refused_before_any_rule() -> None:
    """Without a schema the DCC model must still refuse what xs:base64Binary would: a
    lenient decode dropped the stray characters and accepted a different image."""
    dcc = Dcc(default_premises(), None)
    assert dcc.submit(template("12.2_")).accepted  # the ESME is in the SMI: no E19 to hide behind
    image = base64.b64encode(signed(version=0x00020100)).decode()
    for bad in ("!!!*;^%$" + image[8:], image[:-1], image[:40] + "-_" + image[42:]):
        outcome = dcc.submit(dcc_only("11.1", UpdateFirmware(bad, "00020100", ESME)))
        assert (outcome.code, outcome.reason) == ("E100", "FirmwareImage is not base64")
        assert_valid(outcome)  # a DUIS response the V5.4 XSD accepts
    wrapped = "\n".join(image[i:i + 76] for i in range(0, len(image), 76))  # whitespace is allowed
    assert dcc.submit(dcc_only("11.1", UpdateFirmware(wrapped, "00020100", ESME))).code == "W110101"

