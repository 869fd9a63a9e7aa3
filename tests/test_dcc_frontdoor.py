"""The DCC front door on bad input: each refusal is a DUIS response with a precise reason.

Not well-formed, failing the XSD, unknown device, wrong role, unknown user, wrong
supplier (also after a change of supplier), wrong command variant or device type, a
bad install code, a tampered or unissued signed pre-command. Bytes that are not a DUIS
request at all raise NotDUIS (the CLI turns that into one error line).
"""

import base64
import dataclasses

import pytest

from duis_support import assert_valid, commissioned_site, submit_signed, template, xsd
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.dcc.smi import SmiRecord
from sim.duis.bodies import SignedPreCommand
from sim.duis.precommand import signed_request, supplier_test_key
from sim.duis.request import NotDUIS, ServiceRequest
from sim.duis.xmlio import parse

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
OTHER = "90-B3-D5-1F-30-09-00-00"
CODE = b"30313233343536373839414243444546"
NOT_VERIFIED = ("device refused the command: supplier signature does not verify with the "
                "key the device holds")


def ready_for_8_11() -> Dcc:
    dcc = Dcc(default_premises(), xsd())
    for prefix in ("12.2_", "8.14.1_"):
        assert dcc.submit(template(prefix)).accepted
    return dcc


def refused(dcc: Dcc, data: bytes) -> tuple[str, str]:
    outcome = dcc.submit(data)
    assert_valid(outcome)
    assert [name for name, _ in outcome.documents] == ["response"]
    return outcome.code, outcome.reason


def test_not_well_formed_gets_an_e100_response_with_the_request_id() -> None:
    data = template("CCS01_").replace(b"</sr:RequestType>", b"")
    outcome = ready_for_8_11().submit(data)
    assert outcome.code == "E100"
    assert outcome.reason == "line 19: not well-formed XML: mismatched tag"
    response = dict(outcome.documents)["response"]
    assert str(response.request_id) == f"{SUPPLIER}:00-DB-12-34-56-78-90-A2:1002"
    assert response.body.service_reference_variant == "8.11"
    assert_valid(outcome)


@pytest.mark.parametrize("counter", [b"01002", b"1" * 21, b"18446744073709551616", "\u0661\u0660".encode()])
def test_e100_echoes_no_request_id_that_duis_would_refuse(counter: bytes) -> None:
    """A counter with a leading zero, past 2^64-1, or in non-ASCII digits was read as a
    RequestID and echoed, making the E100 response itself invalid DUIS (found by the
    duis-http fuzz target)."""
    data = template("CCS01_").replace(b"</sr:RequestType>", b"").replace(
        b"90-A2:1002<", b"90-A2:" + counter + b"<")
    outcome = ready_for_8_11().submit(data)
    assert outcome.code == "E100"
    assert_valid(outcome)


def test_schema_failure_names_line_and_rule() -> None:
    data = template("CCS01_").replace(b">90<", b">9000<")
    code, reason = refused(ready_for_8_11(), data)
    assert code == "E100"
    assert reason.startswith("line 14: /Request/Body/UpdateHANDeviceLog/AddDeviceToCHFWhitelist/"
                             "JoinTimePeriod: value has to be less than or equal than 3600")


@pytest.mark.parametrize("data", [b"hello, not xml", b"\x89PNG\r\n", b"<a><b/></a>",
                                  b"<broken"])
def test_not_duis_at_all_raises(data: bytes) -> None:
    with pytest.raises(NotDUIS):
        ready_for_8_11().submit(data)


def test_unknown_device() -> None:
    data = template("CCS01_").replace(b"<sr:DeviceID>00-DB-12-34-56-78-90-A0",
                                      b"<sr:DeviceID>00-DB-12-34-56-78-90-FF")
    assert refused(ready_for_8_11(), data) == (
        "E19", "device 00-DB-12-34-56-78-90-FF is not in the SMI")


def test_unknown_user_and_wrong_role() -> None:
    dcc = ready_for_8_11()
    data = template("CCS01_").replace(SUPPLIER.encode(), OTHER.encode())
    assert refused(dcc, data) == ("E1", f"user {OTHER} is not a DCC user known here")
    dcc.premises.users[OTHER] = {"ElectricityDistributor"}
    assert refused(dcc, data) == ("E2", "ElectricityDistributor may not send SRV 8.11")
    dcc.premises.users[OTHER] = {"OtherUser"}  # DUIS: Other User is eligible for 8.11
    assert dcc.submit(data).accepted


def test_wrong_supplier_and_change_of_supplier() -> None:
    dcc = ready_for_8_11()
    dcc.premises.users[OTHER] = {"ImportSupplier"}
    gaining = template("CCS01_").replace(SUPPLIER.encode(), OTHER.encode())
    assert refused(dcc, gaining) == (
        "E4", f"{OTHER} is not the registered supplier of ESME 00-DB-12-34-56-78-90-A0")
    dcc.premises.change_supplier("electricity", OTHER)
    assert refused(dcc, template("CCS01_")) == (
        "E4", f"{SUPPLIER} is not the registered supplier of ESME 00-DB-12-34-56-78-90-A0")
    assert dcc.submit(gaining).code == "I0"  # only the new supplier now


def test_bad_install_code_length() -> None:
    data = template("CCS01_").replace(CODE, CODE[:14])  # 7 bytes: schema allows 6-16
    code, reason = refused(ready_for_8_11(), data)
    assert code == "E100"
    assert "install code is 7 bytes; it must be 6, 8, 12 or 16 bytes" in reason
    assert CODE[:14].decode() not in reason


def test_wrong_command_variant_and_device_type() -> None:
    dcc = ready_for_8_11()
    cv1 = template("ECS70").replace(b"<sr:CommandVariant>4<", b"<sr:CommandVariant>1<")
    assert refused(dcc, cv1) == ("E12", "SRV 8.1.1 takes command variant 4/5, not 1")
    to_chf = template("ECS70").replace(b":00-DB-12-34-56-78-90-A0:", b":00-DB-12-34-56-78-90-A2:")
    assert refused(dcc, to_chf) == (
        "E11", "target 00-DB-12-34-56-78-90-A2 is a CHF, not ESME or GSME")


def test_8_1_1_before_the_join_is_refused_by_state() -> None:
    assert refused(ready_for_8_11(), template("ECS70")) == (
        "E5", "ESME 00-DB-12-34-56-78-90-A0 is Pending; commission needs "
              "InstalledNotCommissioned or Whitelisted")


def _pre_command_ready() -> tuple[Dcc, object]:
    dcc = ready_for_8_11()
    assert dcc.submit(template("CCS01_")).code == "I0"
    return dcc, dcc.submit(template("ECS70"))


def _signed(pre) -> ServiceRequest:
    return signed_request(pre.request, pre.pre_command, supplier_test_key(SUPPLIER))


def test_command_changed_after_signing_is_refused_by_the_meter() -> None:
    dcc, pre = _pre_command_ready()
    signed = _signed(pre)
    data = base64.b64decode(signed.body.gbcs_payload)
    window_end = bytes.fromhex("07DF0101FF00000A008000FF")  # ECS70: 2015-01-01 00:00:10
    assert window_end in data
    forged = data.replace(window_end, bytes.fromhex("07DF0101FF00000B008000FF"))
    body = SignedPreCommand(base64.b64encode(forged).decode())
    outcome = dcc.submit(dataclasses.replace(signed, body=body).to_xml())
    assert (outcome.code, outcome.reason) == (
        "E100", "device refused the command: GBCSPayload is not the pre-command this DCC issued")
    assert dcc.smi.status("00-DB-12-34-56-78-90-A0") == "Whitelisted"


def test_signed_with_a_key_the_meter_does_not_trust() -> None:
    dcc, pre = _pre_command_ready()
    dcc.premises.devices["00-DB-12-34-56-78-90-A0"].supplier_key = (
        supplier_test_key(OTHER).public_key())
    outcome = dcc.submit(_signed(pre).to_xml())
    assert (outcome.code, outcome.reason) == ("E100", NOT_VERIFIED)


def test_signed_pre_command_the_dcc_never_issued() -> None:
    dcc, pre = _pre_command_ready()
    signed = _signed(pre)
    other_id = dataclasses.replace(signed.request_id, counter=7)
    outcome = dcc.submit(dataclasses.replace(signed, request_id=other_id).to_xml())
    assert (outcome.code, outcome.reason) == (
        "E100", f"no outstanding pre-command for RequestID {other_id}")


def test_a_signed_pre_command_is_used_once() -> None:
    dcc, pre = _pre_command_ready()
    assert submit_signed(dcc, pre).code == "I0"
    again = submit_signed(dcc, pre)
    assert again.code == "E5"  # the ESME is Commissioned now; a replay is not let in


def test_smi_holds_no_install_codes() -> None:
    dcc = commissioned_site()
    fields = {f.name for f in dataclasses.fields(SmiRecord)}
    assert not any("install" in name or "key" in name for name in fields)
    for record in dcc.smi.records.values():
        assert CODE.decode() not in repr(record)


def test_install_code_never_in_responses() -> None:
    dcc = ready_for_8_11()
    outcome = dcc.submit(template("CCS01_"))
    for _, document in outcome.documents:
        assert CODE not in document.to_xml()
    assert CODE.decode() not in outcome.summary()
    assert parse(template("CCS01_")).root is not None


def test_without_a_schema_the_model_still_refuses_incomplete_requests() -> None:
    dcc = Dcc(default_premises(), schema=None)
    for prefix in ("12.2_", "8.14.1_"):
        assert dcc.submit(template(prefix)).accepted
    no_device = template("CCS01_").replace(b"<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>", b"")
    outcome = dcc.submit(no_device)
    assert (outcome.code, outcome.reason) == (
        "E100", "line 10: UpdateHANDeviceLog: UpdateHANDeviceLog has no DeviceID")
    assert_valid(outcome)  # what it writes is still valid DUIS
    assert dcc.submit(template("CCS01_")).code == "I0"


def test_a_meter_that_is_not_on_site_is_never_reached() -> None:
    dcc = ready_for_8_11()
    del dcc.premises.devices["00-DB-12-34-56-78-90-A0"]  # pre-notified, never installed
    add = dcc.submit(template("CCS01_"))
    assert add.reason == "00-DB-12-34-56-78-90-A0 is not on site: no join attempt"
    signed = submit_signed(dcc, dcc.submit(template("ECS70")))
    assert (signed.code, signed.reason) == (
        "E20", "ESME 00-DB-12-34-56-78-90-A0 has not joined the HAN")


def test_unknown_encoding_is_not_well_formed() -> None:
    data = template("CCS01_").replace(b'encoding="UTF-8"', b'encoding="TF-8"')
    code, reason = refused(ready_for_8_11(), data)
    assert (code, reason) == ("E100", "line 1: not well-formed XML: unknown encoding: TF-8")


def test_12_2_from_a_supplier_not_yet_registered_is_accepted() -> None:
    """12.2 pre-notifies a device before anyone is registered for it: no E4 (DUIS)."""
    dcc = Dcc(default_premises(), xsd())
    gaining = "90-B3-D5-1F-30-03-00-00"  # a ZAZ1 supplier of the default site, registered for nothing
    outcome = dcc.submit(template("12.2_").replace(SUPPLIER.encode(), gaining.encode()))
    assert (outcome.code, outcome.accepted) == ("I99", True), outcome.reason


def test_request_id_is_echoed_exactly_as_sent() -> None:
    dcc = ready_for_8_11()
    data = template("CCS01_").replace(SUPPLIER.encode(), SUPPLIER.lower().encode())
    outcome = dcc.submit(data)
    for _, document in outcome.documents:
        if document.request_id is not None:
            assert f"<sr:RequestID>{SUPPLIER.lower()}:" in document.to_xml().decode()
