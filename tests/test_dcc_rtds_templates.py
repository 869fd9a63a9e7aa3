"""The DCC's RTDS request templates (SmartDCC's ``@smartdcc/duis-templates``) for unjoin,
firmware version, handover and the future-dated / cancellation pairs, run in one story.

The templates are the DCC's own (the package DCC Boxed's tools use); only their IDs are
moved onto this site (RequestID target and counter, OtherDeviceID) where a template names
a device the site does not have. Every response and alert the DCC writes validates
against the V5.4 XSD.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from duis_support import (
    ESME,
    GPF,
    GSME,
    SUPPLIER,
    assert_valid,
    dual_fuel_site,
    rtds,
    submit,
    submit_signed,
)
from gbcs_support import all_valid, checks, fits, message_code, parse_all, rtds_keystore, shape
from gbcs_support import rtds as rtds_vector

from gbcs.keystore import KeyStore, eui_bytes
from sim.dcc import gbcs_link
from sim.dcc.frontdoor import Dcc
from sim.dcc.outcome import Outcome
from sim.duis.response import DeviceAlertMessage


@pytest.fixture(scope="module")
def site() -> Dcc:
    return dual_fuel_site()


def test_unjoin_undoes_a_join_and_a_second_unjoin_is_refused(site: Dcc) -> None:
    join = submit(site, rtds("CS03B_8.7.2", target=GSME, other=GPF, counter=1))
    assert (join.code, join.reason) == ("I0", f"{GPF} joined to {GSME}")
    unjoin = submit(site, rtds("CS04B_8.8.2", target=GSME, other=GPF, counter=2))
    assert (unjoin.code, unjoin.reason) == ("I0", f"{GPF} unjoined from {GSME}")
    assert [name for name, _ in unjoin.documents] == ["ack", "response"]
    again = submit(site, rtds("CS04B_8.8.2", target=GSME, other=GPF, counter=3))
    assert (again.code, again.reason) == ("E080821", f"{GPF} is not joined to {GSME}")
    assert [name for name, _ in again.documents] == ["response"]  # at once, no I99 first
    unknown = submit(site, rtds("CS04ACNonCritical_8.8.2", target=ESME, counter=4))
    assert (unknown.code, unknown.reason) == ("E19", "device 01-02-03-04-05-06-07-08 is not in the SMI")


def test_non_critical_join_answers_the_rtds_cs03b_response() -> None:
    """8.7.2 on the gas meter, the DCC's own CS03B template (its target and counter, the
    GPF as the other device): the GSME's response, MACed for the supplier, is the RTDS
    CS03B response bit for bit, and gbcs-parser verifies its MAC."""
    outcome = submit(dual_fuel_site(), rtds("CS03B_8.7.2", other=GPF))
    assert (outcome.code, outcome.reason) == ("I0", f"{GPF} joined to {GSME}")
    payload = base64.b64decode(dict(outcome.documents)["response"].body.gbcs_payload)
    vector = "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_RESPONSE_GBCS.HEX"
    assert payload.hex().upper() == rtds_vector(vector).hex().upper()
    result = parse_all({"cs03b": payload})["cs03b"]
    assert result["ok"] and all_valid(result["message"]) and checks(result["message"])


@pytest.mark.parametrize(("prefix", "target"), [("ECS52_11.2", ESME), ("GCS38_11.2", GSME)])
def test_read_firmware_version(site: Dcc, prefix: str, target: str) -> None:
    outcome = submit(site, rtds(prefix))
    running = site.premises.firmware(target)
    expected = f"{running.running:08X}" if running else site.smi.get(target).firmware_version or "unknown"
    assert (outcome.code, outcome.reason) == ("I0", f"{target} runs firmware {expected}")


def test_handover_of_a_dcc_controlled_device(site: Dcc, tmp_path: Path) -> None:
    """6.21: the device trusts the supplier's key; its signed CS02b supplier-by-supplier
    response (ACB's credentials replaced by the template's) verifies with gbcs-parser."""
    request = rtds("CS02bSupplierBySupplierHandover_6.21", target=GPF)
    outcome = submit(site, request)
    for name, data in gbcs_link.keystore_files(site.premises).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    payload = base64.b64decode(dict(outcome.documents)["response"].body.gbcs_payload)
    result = parse_all({"6.21": payload}, [tmp_path / "keystore", rtds_keystore()])["6.21"]
    assert result["ok"], result.get("error")
    assert message_code(result["message"]) == 0x0102  # CS02b supplier by supplier
    assert all_valid(result["message"]) and checks(result["message"])
    cells = result["message"]["Payload"]["children"]["Update Security Credentials Response"]
    replaced = cells["children"]["Execution Outcome"]["children"]["Replacement Outcomes"]
    assert len(replaced["children"]) >= 2  # the template's DS and KA certificates at least
    vector = "6.21_CS02bSupplierBySupplierHandover/CS02bSupplierBySupplierHandover_6.21_SUCCESS_RESPONSE_GBCS.HEX"
    reference = parse_all({"v": rtds_vector(vector)})["v"]["message"]
    assert fits(shape(result["message"], ("Payload",)), shape(reference, ("Payload",)))
    assert outcome.code == "I0" and outcome.reason.startswith("Supplier credentials now ")
    assert "CN=GITTESTSUPPLIER" in outcome.reason  # the template's Digital Signing certificate
    der = base64.b64decode(re.search(rb"<sr:DigitalSigningCertificate>([^<]+)<", request)[1])
    trusted = site.premises.supplier_key(GPF)
    assert trusted is not None
    assert trusted.public_numbers() == x509.load_der_x509_certificate(der).public_key().public_numbers()


@pytest.mark.parametrize("pair", ["CS06_11.3", "CS02bSupplierByTransCoS_6.23"])
def test_cancellation_drops_the_future_dated_command(pair: str) -> None:
    dcc = dual_fuel_site()
    dated = submit(dcc, rtds(f"{pair}_FUTURE_DATED", counter=10))
    assert dated.code == "I0" and dated.reason.startswith("future-dated: the device runs it at ")
    assert len(dcc.scheduled) == 1
    cancel = submit(dcc, rtds(f"{pair}_CANCELLATION", counter=11))
    assert (cancel.code, cancel.reason) == (
        "I0", f"cancelled 1 future-dated SRV {pair.rsplit('_', 1)[1]} command(s): "
              f"{SUPPLIER}:{ESME}:10")
    assert dcc.scheduled == []
    assert dcc.advance(10 * 365 * 86400.0 * 10) == [] and dcc.outbox == []  # no 8F66 / 8F67, ever
    nothing = submit(dcc, rtds(f"{pair}_CANCELLATION", counter=12))
    assert nothing.reason == f"no future-dated SRV {pair.rsplit('_', 1)[1]} command was pending"


def test_future_dated_command_runs_when_not_cancelled() -> None:
    dcc = dual_fuel_site()
    submit(dcc, rtds("CS02bSupplierByTransCoS_6.23_FUTURE_DATED", counter=10))
    notes = dcc.advance(10 * 365 * 86400.0 * 10)
    assert len(notes) == 1 and "alert 8F66" in notes[0]
    assert [d.body.alert_code for _, d in dcc.outbox if isinstance(d.body, DeviceAlertMessage)] == ["8F66"]


def test_critical_unjoin_takes_a_signed_pre_command(site: Dcc, tmp_path: Path) -> None:
    """8.8.1: CS04AC pre-command, signed by the supplier, obeyed, answered by the ESME's
    signed response; gbcs-parser (SmartDCC's) reads both and verifies the signature."""
    join = submit(site, rtds("CS03A1_8.7.1", target=ESME, other=GPF, counter=20))
    assert join.code == "I0", join.reason
    pre = site.submit(rtds("CS04ACCritical_8.8.1", target=ESME, other=GPF, counter=21))
    unjoin = submit_signed(site, pre)
    assert_valid(unjoin)
    assert (unjoin.code, unjoin.reason) == ("I0", f"{GPF} unjoined from {ESME}")
    for name, data in gbcs_link.keystore_files(site.premises).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    payloads = {"pre-command": base64.b64decode(pre.pre_command.gbcs_payload),
                "response": base64.b64decode(dict(unjoin.documents)["response"].body.gbcs_payload)}
    parsed = parse_all(payloads, [tmp_path / "keystore", rtds_keystore()])
    for name, result in parsed.items():
        assert result["ok"], (name, result.get("error"))
        assert message_code(result["message"]) == 0x000F, name  # CS04AC
    assert all_valid(parsed["response"]["message"]) and checks(parsed["response"]["message"])


def test_cs07_reads_a_meters_join_details(site: Dcc) -> None:
    """The DCC's CS07 8.9 template, aimed at the GSME (it used to get E11)."""
    submit(site, rtds("CS03B_8.7.2", target=GSME, other=GPF, counter=30))
    outcome = submit(site, rtds("CS07_8.9", counter=31))
    assert (outcome.code, outcome.reason) == ("I0", f"{GSME} joined to: {GPF}")


def _gbcs_reading(dcc: Dcc, payload: str, tmp_path: Path) -> dict:
    """gbcs-parser's reading of one payload, with the run's and the RTDS key stores."""
    for name, data in gbcs_link.keystore_files(dcc.premises).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    result = parse_all({"p": base64.b64decode(payload)}, [tmp_path / "keystore", rtds_keystore()])["p"]
    assert result["ok"], result.get("error")
    return result["message"]


@pytest.mark.parametrize(("template", "vector"), [
    ("CS02bSupplierBySupplier_6.15.1_IMMEDIATE",
     "6.15.1_CS02bSupplierBySupplier/CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX"),
    ("CS02bNOByNO_6.15.1", "6.15.1_CS02bNOByNO/CS02bNOByNO_6.15.1_SUCCESS_PRECOMMAND_GBCS.HEX"),
    ("CS02d_6.15.2", "6.15.2_CS02d/CS02d_6.15.2_SUCCESS_PRECOMMAND_GBCS.HEX"),
    ("CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE",
     "6.15.1_CS02gLoadControllerBySupplier/CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX")])
def test_update_security_credentials_pre_command_is_the_rtds_vector(template: str, vector: str) -> None:
    """6.15.1 (CS02b supplier by supplier, network operator by network operator) and 6.15.2
    (CS02d) on the DCC's templates: the pre-command is the RTDS vector, bit for bit."""
    outcome = dual_fuel_site().submit(rtds(template))
    assert outcome.pre_command is not None, outcome.reason
    assert base64.b64decode(outcome.pre_command.gbcs_payload) == rtds_vector(vector)


def test_supplier_replaces_its_own_credentials(tmp_path: Path) -> None:
    """6.15.1 signed by the supplier: the ESME now trusts the template's Digital Signing
    key and answers with its signed CS02b response (gbcs-parser verifies it, shaped as the
    RTDS response); a later pre-command signed with the old key is refused."""
    dcc = dual_fuel_site()
    outcome = submit(dcc, rtds("CS02bSupplierBySupplier_6.15.1_IMMEDIATE", counter=40))
    assert outcome.code == "I0" and outcome.reason.startswith("Supplier credentials now "), outcome.reason
    message = _gbcs_reading(dcc, dict(outcome.documents)["response"].body.gbcs_payload, tmp_path)
    assert message_code(message) == 0x0102 and all_valid(message) and checks(message)
    vector = "6.15.1_CS02bSupplierBySupplier/CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"
    reference = parse_all({"v": rtds_vector(vector)})["v"]["message"]
    assert fits(shape(message, ("Payload",)), shape(reference, ("Payload",)))
    der = base64.b64decode(re.search(rb"<sr:DigitalSigningCertificate>([^<]+)<",
                                     rtds("CS02bSupplierBySupplier_6.15.1_IMMEDIATE"))[1])
    trusted = dcc.premises.supplier_key(ESME)
    assert trusted is not None
    assert trusted.public_numbers() == x509.load_der_x509_certificate(der).public_key().public_numbers()
    again = submit(dcc, rtds("CS02d_6.15.2", counter=41))  # signed with the old test key
    assert again.code == "E100", again.reason


CS02D_RESPONSE = "6.15.2_CS02d/CS02d_6.15.2_SUCCESS_RESPONSE_GBCS.HEX"


def _cs02d_answer(dcc: Dcc, outcome: Outcome, tmp_path: Path) -> tuple[dict, str]:
    """gbcs-parser's reading of the device's CS02d response and its response code."""
    message = _gbcs_reading(dcc, dict(outcome.documents)["response"].body.gbcs_payload, tmp_path)
    assert message_code(message) == 0x000B and all_valid(message) and checks(message)
    reference = parse_all({"v": rtds_vector(CS02D_RESPONSE)})["v"]["message"]
    assert fits(shape(message), shape(reference))
    return message, message["Payload"]["children"]["Response Code"]["notes"]


def test_device_certificate_update(tmp_path: Path) -> None:
    """6.15.2 signed by the supplier: the device takes the template's certificate (the
    ESME's own RTDS Digital Signing certificate) and answers CS02d "Success", signed."""
    request = rtds("CS02d_6.15.2", counter=42)
    cert = x509.load_der_x509_certificate(
        base64.b64decode(re.search(rb"<sr:DeviceCertificate>([^<]+)<", request)[1]))
    dcc = dual_fuel_site()
    outcome = submit(dcc, request)
    assert (outcome.code, outcome.reason) == (
        "I0", f"device certificate {cert.subject.rfc4514_string() or cert.serial_number} taken")
    assert _cs02d_answer(dcc, outcome, tmp_path)[1] == "Success"


def _device_certificate(eui: str, *, signing: bool = True, agreement: bool = False) -> bytes:
    """A DER certificate naming ``eui`` as GBCS device certificates do (hardwareModuleName)
    for a fresh key no device holds, with the key usages asked for."""
    key = ec.derive_private_key(0x5EED, ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=signing, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=agreement,
                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    module = bytes.fromhex("3019060D2A863A0001848FB90F010202010408") + eui_bytes(eui)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(when).not_valid_after(when + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.OtherName(
                x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4"), module)]), critical=True)
            .add_extension(usage, critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def _published(eui: str, use: str) -> bytes:
    pem = KeyStore([rtds_keystore()]).published(eui_bytes(eui), use)
    assert pem is not None
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(("certificate", "answer"), [
    (lambda: _published(GSME, "ds"), "Wrong Device Identity"),  # the GSME's, sent to the ESME
    (lambda: _device_certificate(ESME), "Wrong Public Key"),  # a key the ESME does not hold
    (lambda: _device_certificate(ESME, agreement=True), "Invalid Key Usage"),  # DS and KA
    (lambda: _published(ESME, "ka"), "Success")])  # its own Key Agreement certificate
def test_device_certificate_the_device_refuses(tmp_path: Path, certificate, answer: str) -> None:
    """CS02d checks the certificate against the device: a refusal is the device's signed
    response code (I0 from the DCC), not a DCC error."""
    request = re.sub(rb"(?<=<sr:DeviceCertificate>)[^<]+", base64.b64encode(certificate()),
                     rtds("CS02d_6.15.2", counter=43))
    dcc = dual_fuel_site()
    outcome = submit(dcc, request)
    assert outcome.code == "I0"
    _, code = _cs02d_answer(dcc, outcome, tmp_path)
    assert code == answer, outcome.reason
    if answer != "Success":
        assert outcome.reason.startswith(f"device response: {answer.lower()}: "), outcome.reason


@pytest.mark.parametrize(("template", "target", "reason"), [
    ("CS02bNOByNO_6.15.1", ESME,  # hansim's devices hold a supplier key only
     "device refused the command: supplier signature does not verify with the key the device holds"),
    ("CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE", GSME,
     "CS02g (RemotePartyRole LoadController) goes to an ESME, not a GSME")])
def test_credentials_update_hansim_cannot_carry_out(template: str, target: str, reason: str) -> None:
    outcome = submit(dual_fuel_site(), rtds(template, target=target, counter=1001))
    assert (outcome.code, outcome.reason) == ("E100", reason)


def test_supplier_replaces_the_load_controllers_credentials(tmp_path: Path) -> None:
    """6.15.1 for RemotePartyRole LoadController (CS02g), signed by the supplier: the ESME
    puts the template's certificates in its load controller cells and answers with its
    signed CS02g response, which gbcs-parser verifies (it names 0x0126 but does not read
    its content). The content is the RTDS response's byte for byte, except that the ESME
    held no load controller certificate before (zero IDs where the RTDS device held
    90-B3-D5-1F-30-01-00-08's) and that DER writes one length the RTDS writes long."""
    dcc = dual_fuel_site()
    outcome = submit(dcc, rtds("CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE"))
    assert outcome.code == "I0" and outcome.reason.startswith("LoadController credentials now ")
    message = _gbcs_reading(dcc, dict(outcome.documents)["response"].body.gbcs_payload, tmp_path)
    assert message_code(message) == 0x0126 and all_valid(message) and checks(message)
    vector = ("6.15.1_CS02gLoadControllerBySupplier/"
              "CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX")
    reference = parse_all({"v": rtds_vector(vector)})["v"]["message"]
    assert shape(message) == shape(reference)

    def content(parsed: dict) -> bytes:
        return bytes.fromhex(parsed["Payload"]["children"]["Payload"]["hex"].replace(" ", ""))
    held = "040890B3D51F300100080408"
    expected = (content(reference).hex().upper()
                .replace("308200830500", "3081830500")
                .replace(held + "4694FE8205DC1ACD", "0408" + "00" * 8 + "0408" + "00" * 8)
                .replace(held + "4C42629AFA881F7A", "0408" + "00" * 8 + "0408" + "00" * 8))
    assert content(message).hex().upper() == expected
    assert dcc.premises.supplier_key(ESME) is not None  # the supplier's own key is untouched
    again = submit(dcc, rtds("CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE", counter=1001))
    message = _gbcs_reading(dcc, dict(again.documents)["response"].body.gbcs_payload, tmp_path)
    existing_ds = content(message).hex().upper().split("0A0100")[1][:40]  # after the first status
    assert existing_ds == "040890B3D51F30010000040843046B4FB7C4F11B"  # what the first one put there


@pytest.mark.parametrize(("use_case", "alert_code"), [
    ("CS02bSupplierBySupplier", 0x00CB), ("CS02gLoadControllerBySupplier", 0x0124)])
def test_future_dated_and_cancelled_credentials_update(tmp_path: Path, use_case: str,
                                                      alert_code: int) -> None:
    """6.15.1 future-dated and cancelled (the DCC's templates): the pre-commands carry the
    execution date-time (GBCS's 9999-12-31 23:59:59 to cancel), bit for bit the RTDS
    vectors; the device answers "Command Accepted", signed and shaped as the RTDS response;
    when the date comes it raises its signed 8F66 alert (0x00CB, or 0x0124 for CS02g) for
    the supplier, with the outcome; a cancelled one never runs."""
    folder = f"6.15.1_{use_case}/{use_case}_6.15.1_"
    for kind in ("FUTURE_DATED", "CANCELLATION"):
        pre = dual_fuel_site().submit(rtds(f"{use_case}_6.15.1_{kind}"))
        assert pre.pre_command is not None, pre.reason
        assert base64.b64decode(pre.pre_command.gbcs_payload) == rtds_vector(
            f"{folder}{kind}_SUCCESS_PRECOMMAND_GBCS.HEX")
    dcc = dual_fuel_site()
    dated = submit(dcc, rtds(f"{use_case}_6.15.1_FUTURE_DATED"))
    assert dated.code == "I0" and dated.reason.startswith("future-dated: the device runs it at ")
    accepted = _gbcs_reading(dcc, dict(dated.documents)["response"].body.gbcs_payload, tmp_path)
    reference = parse_all({"v": rtds_vector(f"{folder}FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX")})["v"]
    assert all_valid(accepted) and checks(accepted)
    assert shape(accepted) == shape(reference["message"])
    notes = dcc.advance(10 * 365 * 86400.0 * 10)
    assert len(notes) == 1 and "alert 8F66" in notes[0], notes
    (alert,) = [d.body for _, d in dcc.outbox if isinstance(d.body, DeviceAlertMessage)]
    message = _gbcs_reading(dcc, alert.gbcs_payload, tmp_path)
    assert message_code(message) == alert_code and all_valid(message) and checks(message)
    vector = parse_all({"v": rtds_vector(f"{folder}8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX")})["v"]
    assert fits(shape(message), shape(vector["message"]))
    again = dual_fuel_site()
    submit(again, rtds(f"{use_case}_6.15.1_FUTURE_DATED"))
    cancel = submit(again, rtds(f"{use_case}_6.15.1_CANCELLATION"))
    assert cancel.code == "I0" and cancel.reason.startswith("cancelled 1 future-dated SRV 6.15.1")
    assert all_valid(_gbcs_reading(again, dict(cancel.documents)["response"].body.gbcs_payload,
                                   tmp_path))
    assert again.advance(10 * 365 * 86400.0 * 10) == [] and again.outbox == []
