"""Every GBCS payload ``hansim duis run`` writes in a story, read by SmartDCC's gbcs-parser
with the DCC Boxed / RTDS test keys plus the run's own ``keystore/`` folder: 100% must
parse, every MAC and signature must be "valid", and each message must have the shape of
the RTDS vector of its use case."""

from __future__ import annotations

import base64
import dataclasses
import re
from functools import cache
from pathlib import Path

import pytest
from _firmware_support import template_image
from click.testing import CliRunner
from duis_support import DEFAULT_SITE, cos_site, schema_path, templates, xsd

from firmware import image
from gbcs import use_cases as uc
from gbcs.keystore import KeyStore, eui_bytes
from gbcs.messages import ACB, Envelopes
from han.installcode import InstallCode
from sim.cli import main
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises, load_site
from sim.duis.bodies import (
    ActivateFirmware,
    CommissionDeviceSynchroniseClock,
    DevicePrenotification,
    JoinServiceCritical,
    JoinServiceNonCritical,
    ReadDeviceLog,
    ReadFirmwareVersion,
    SignedPreCommand,
    UnjoinServiceNonCritical,
    UpdateHANDeviceLog,
)
from sim.duis.precommand import signed_request, supplier_test_key
from sim.duis.request import RequestID, ServiceRequest
from tests.gbcs_support import (
    all_valid,
    checks,
    fits,
    layout,
    message_code,
    parse_all,
    payloads_in,
    rtds,
    rtds_keystore,
    shape,
)

#: (message code, kind) -> the RTDS vectors one of which hansim's message must look like
#: (a CS06 response is an outcome, or "Command Accepted" to a future-dated command).
VECTORS: dict[tuple[int, str], list[str]] = {}
for use_case in uc.USE_CASES:
    VECTORS.setdefault((use_case.code, use_case.kind), []).append(use_case.rtds)


def kind_of(message: dict) -> str:
    cra = message["Grouping Header"]["children"]["CRA Flag"]["notes"].lower()
    if cra == "command" and "MAC Header" not in message:
        return "signed pre-command" if "Signature" in message else "pre-command"
    return cra


def run_story(out: Path, *requests: Path, site: Path | None = None,
              interval: float = 60, join: str = "keys") -> dict[str, bytes]:
    argv = ["duis", "run", *map(str, requests), "--out", str(out), "--schema", str(schema_path()),
            "--interval", str(interval), "--join", join]
    if site is not None:
        argv += ["--site", str(site)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return payloads_in(out)


@cache
def rtds_reading() -> dict[str, dict]:
    """gbcs-parser's reading of every RTDS vector a use case follows (read once)."""
    vectors = sorted({v for vs in VECTORS.values() for v in vs})
    return {k: r["message"] for k, r in parse_all({v: rtds(v) for v in vectors}).items()}


def check_story(out: Path, payloads: dict[str, bytes],
                keystore: Path | None = None) -> set[tuple[int, str]]:
    """The parser's verdict on every payload (with the run's certificates, ``keystore`` or
    ``out/keystore``, and the RTDS keys); returns the (code, kind) pairs seen."""
    assert payloads and all(payloads.values()), "a GBCSPayload is empty"
    parsed = parse_all(payloads, [keystore or out / "keystore", rtds_keystore()])
    reference = rtds_reading()
    seen = set()
    for name, result in parsed.items():
        assert result["ok"], (name, result.get("error"))
        message = result["message"]
        assert all_valid(message), (name, checks(message))
        kind = kind_of(message)
        assert checks(message) or kind == "pre-command", name  # something was verified
        code = message_code(message)
        signed_pre = kind == "signed pre-command"
        sections = ("Grouping Header", "Payload") if signed_pre else None
        candidates = VECTORS[(code, "pre-command" if signed_pre else kind)]
        assert any(fits(shape(message, sections), shape(reference[v], sections))
                   and layout(message) == layout(reference[v]) for v in candidates), (name, candidates)
        seen.add((code, kind))
    return seen


def active_devices(message: dict) -> list[dict]:
    """The CHF's active devices as gbcs-parser reads a CCS06 response: per device its EUI,
    status bits, RSSI (max, average, min) and transmission successes."""
    data = message["Payload"]["children"]["DLMS Access Response"]["children"]
    array = next(iter(data["List of Access Response Data"]["children"].values()))
    devices = []
    for entry in array.get("children", {}).values():
        fields = [item["hex"].replace(" ", "") for item in entry["children"].values()]
        def signed(h: str) -> int:
            return int.from_bytes(bytes.fromhex(h[2:]), signed=True)
        devices.append({"mac": fields[0][4:], "status": int(fields[1][-2:], 16),
                        "rssi": [signed(f) for f in fields[2:5]],
                        "successes": int(fields[11][2:], 16)})
    return devices


def template(prefix: str) -> Path:
    return next(p for p in templates().iterdir() if p.name.startswith(prefix))


def test_commissioning_story(tmp_path: Path) -> None:
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"))
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.CCS01, "response"), (c.CS14, "alert"), (c.GNCA, "alert"), (c.ECS70, "pre-command"),
            (c.ECS70, "signed pre-command"), (c.ECS70, "response")} <= seen


def test_gas_story_and_device_log_removal(tmp_path: Path) -> None:
    """The GSME's path, its joins frame by frame: 8.11 Add, 8.7.1 join with the GPF
    (CS03A1: a meter initiates), 8.1.1 (GCS28; the GSME's 0x8F69 is a GBZ alert), 8.7.1 on
    the GPF (CS03A2: the GPF responds), 11.2 (GCS38), 8.9 on the CHF (CCS06: the device log
    with the GSME's link as the CHF measured it), 11.1 to the GSME (its signed GBZ 0x00CF
    receipt); then 8.11 Remove of the GSME (CCS02 and 0x8F12 with the log after it)."""
    gsme, gpf = "00-DB-12-34-56-78-90-A1", "00-DB-12-34-56-78-90-A3"
    code = default_premises().devices[gsme].install_code

    def request(name: str, target: str, cv: int, ref: str, srv: str, body, counter: int) -> Path:
        path = tmp_path / f"{name}.xml"
        path.write_bytes(ServiceRequest(RequestID(LOSING, target, counter), cv, ref, srv,
                                        body).to_xml())
        return path

    chf = "00-DB-12-34-56-78-90-A2"
    remove = tmp_path / "remove.xml"
    remove.write_bytes(template("CCS02_").read_bytes().replace(ESME.encode(), gsme.encode()))
    out = tmp_path / "out"
    payloads = run_story(
        out, request("prenotify", "90-B3-D5-1F-30-00-00-02", 8, "12.2", "12.2",
                     DevicePrenotification(gsme, "AB01", "0A0B", "GSME"), 1),
        template("8.14.1_"),
        request("add", chf, 1, "8.11", "8.11",
                UpdateHANDeviceLog(gsme, "Add", 120, InstallCode(code.code)), 2),
        request("join", gsme, 4, "8.7", "8.7.1", JoinServiceCritical(gpf), 3),
        request("commission", gsme, 4, "8.1", "8.1.1",
                CommissionDeviceSynchroniseClock("2024-01-08T09:05:00Z", 60), 4),
        request("gpf-join", gpf, 4, "8.7", "8.7.1", JoinServiceCritical(gsme), 5),
        request("version", gsme, 1, "11.2", "11.2", ReadFirmwareVersion(), 6),
        template("CCS06_"), firmware_for(tmp_path, gsme), remove, site=firmware_site(tmp_path, "GSME"),
        join="frames")
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.CCS01, "response"), (c.CS03A1, "signed pre-command"), (c.CS03A1, "response"),
            (c.GCS28, "pre-command"), (c.GCS28, "signed pre-command"), (c.GCS28, "response"),
            (c.CS03A2, "signed pre-command"), (c.CS03A2, "response"), (c.GCS38, "response"),
            (c.CCS06, "response"), (c.CCS02, "response"), (c.CS14, "alert"),
            (c.FDRA_GSME, "alert")} <= seen
    receipt = next(p for k, p in payloads.items() if "alert_8F72" in k)
    assert image.parse(template_image()).hash in receipt  # the hash the GSME calculated
    commissioned = next(p for k, p in payloads.items() if "8F69" in k)
    assert uc.gbz.SMART_ENERGY_PROFILE.to_bytes(2) + b"\x00\x8f\x69" in commissioned
    version = next(p for k, p in payloads.items() if "11.2_response" in k)
    assert uc.gcs38_response(bytes.fromhex("ACDCACDB")) in version  # what its firmware runs
    log = next(p for k, p in payloads.items() if "8.9_response" in k)
    reading = parse_all({"log": log}, [out / "keystore", rtds_keystore()])["log"]["message"]
    (entry,) = active_devices(reading)
    assert entry["mac"] == gsme.replace("-", "")
    assert entry["status"] == 0xC8  # authorised, actively reporting, Smart Energy traffic
    assert -100 < entry["rssi"][2] <= entry["rssi"][1] <= entry["rssi"][0] < 0
    assert entry["successes"] > 0


@pytest.mark.parametrize("scenario", ["cos-email-10wd", "igt-gas-new-build", "wrong-code-then-right"])
def test_replay_payloads_verify_with_the_keystore_it_writes(tmp_path: Path, scenario: str) -> None:
    """``hansim replay`` writes keystore/ beside duis/: every GBCS payload of a change of
    supplier, a gas-first new build and a failed then good join parses and verifies."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["replay", scenario, "--out", str(out)])
    assert result.exit_code == 0, result.output
    check_story(out, payloads_in(out / "duis"), out / "keystore")


def test_the_dcc_template_pre_command_is_the_rtds_vector(tmp_path: Path) -> None:
    """8.1.1 on the DCC's ECS70 template returns the RTDS ECS70 pre-command, bit for bit."""
    payloads = run_story(tmp_path / "out", template("12.2_"), template("8.14.1_"),
                         template("CCS01_"), template("ECS70"))
    pre = [v for k, v in payloads.items() if "8.1.1_response" in k][0]
    assert pre == rtds("8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX")


LOSING, GAINING = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-03-00-00"  # DCC Boxed test suppliers
ESME = "00-DB-12-34-56-78-90-A0"


def as_gaining(tmp_path: Path, prefix: str) -> Path:
    copy = tmp_path / f"gaining-{prefix}.xml"
    copy.write_bytes(template(prefix).read_bytes().replace(LOSING.encode(), GAINING.encode()))
    return copy


def test_change_of_supplier_story(tmp_path: Path) -> None:
    """The gaining supplier (DCC Boxed's GITTESTSUPPLIER2) commissions the meter: its
    pre-command is signed with its key, the CHF's responses and alerts name it."""
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.2_"), template("CCS01_"),
                         template("CCS01_"), as_gaining(tmp_path, "CCS01_"),
                         as_gaining(tmp_path, "ECS70"), site=cos_site(tmp_path, GAINING))
    seen = check_story(out, payloads)
    assert (uc.MessageCode.ECS70, "signed pre-command") in seen
    gaining = bytes.fromhex(GAINING.replace("-", ""))
    assert any(gaining in p for k, p in payloads.items() if "8.1.1_request_cv5" in k)


def firmware_site(tmp_path: Path, meter: str = "ESME") -> Path:
    """The default site with the meter's (ESME's or GSME's) firmware modelled: the DCC
    11.1 template's model."""
    site = tmp_path / "site.yaml"
    entry = {"ESME": 'type: ESME, install_code: "30313233343536373839414243444546"',
             "GSME": "type: GSME, install_code: generate"}[meter]
    site.write_text(DEFAULT_SITE.read_text().replace(entry + "}", entry + ",\n     firmware: "
                    "{model: GFI-ESME, hardware_version: 0x1111, running: 0xACDCACDB}}"))
    return site


def firmware_for(tmp_path: Path, device: str) -> Path:
    """The DCC's 11.1 template, its image sent to ``device`` only."""
    path = tmp_path / "11.1-gas.xml"
    path.write_bytes(re.sub(rb"(?<=<sr:DeviceIDList>)[^<]+", device.encode(),
                            template("11.1_").read_bytes()))
    return path


def activate(tmp_path: Path, name: str, image_hash: str, counter: int,
             at: str | None = None) -> Path:
    path = tmp_path / f"{name}.xml"
    body = ActivateFirmware(firmware_hash=image_hash, execution_date_time=at)
    path.write_bytes(ServiceRequest(RequestID(LOSING, ESME, counter), 4, "11.3", "11.3",
                                    body).to_xml())
    return path


def test_firmware_story(tmp_path: Path) -> None:
    """The DCC's own 11.1 template image (signed by the DCC Boxed test supplier) reaches the
    ESME (0x8F72 with the hash it calculated), a wrong 11.3 hash is the meter's CS06
    "Hash Mismatch", the right one activates it (CS06 success, 0x8F43)."""
    good = image.parse(template_image()).hash.hex().upper()
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"), template("11.1_"),
                         activate(tmp_path, "wrong", "00" * 32, 2000),
                         activate(tmp_path, "right", good, 2001), site=firmware_site(tmp_path))
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.FDRA_ESME, "alert"), (c.CCS08, "alert"), (c.CS06, "pre-command"),
            (c.CS06, "signed pre-command"), (c.CS06, "response")} <= seen
    receipt = next(p for k, p in payloads.items() if "alert_8F72" in k)
    assert bytes.fromhex(good) in receipt
    results = [p for k, p in payloads.items() if "11.3_response" in k and p[:1] == b"\xdf"
               and p[-65] == 0x40]
    assert len(results) == 2  # hash mismatch, then success


def test_future_dated_firmware_story(tmp_path: Path) -> None:
    """11.3 with an ExecutionDateTime: the pre-command carries it (CS06 future-dated), the
    meter answers "Command Accepted" at once and, when the time comes, raises the signed
    future-dated activation alert: 0x8F67 "not actioned" with "Hash Mismatch" for a wrong
    hash, 0x8F66 "actioned" with success for the right one (then 0x8F43)."""
    good = image.parse(template_image()).hash.hex().upper()
    out = tmp_path / "out"
    # default site start 09:00, one step an hour: the 11.3s are signed at 16:00 and 18:00
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"), template("11.1_"),
                         activate(tmp_path, "wrong", "00" * 32, 2000, "2024-01-08T16:20:00Z"),
                         activate(tmp_path, "right", good, 2001, "2024-01-08T18:20:00Z"),
                         template("8.2_"), site=firmware_site(tmp_path), interval=3600)
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.CS06, "pre-command"), (c.CS06, "response"), (c.CS06_ALERT, "alert")} <= seen
    alerts = sorted(k for k in payloads if "scheduled_alert" in k)
    assert [k.split("_")[-1] for k in alerts] == ["8F67.xml#0", "8F43.xml#0", "8F66.xml#0"], alerts
    held = [alerts[0], alerts[2]]
    parsed = parse_all({k: payloads[k] for k in held}, [out / "keystore", rtds_keystore()])
    outcomes = [parsed[k]["message"]["Payload"]["children"]["Activate Firmware Alert"]["children"]
                for k in held]
    assert [o["Alert Code"]["notes"] for o in outcomes] == [
        "Future-date HAN Interface Command not Successfully Actioned",
        "Future-date HAN Interface Command Successfully Actioned"]
    assert [o["Execution Outcome"]["children"]["Response Code"]["notes"] for o in outcomes] == [
        "Hash Mismatch", "Success"]
    assert [o["Originator Counter"]["notes"] for o in outcomes] == ["2000", "2001"]


def test_future_dated_6_23_story(tmp_path: Path) -> None:
    """6.23 with an ExecutionDateTime: the meter's signed CS02b "Command Accepted", then
    0x8F66 with the certificates it replaced (the RTDS future-dated CS02b alert)."""
    cos = tmp_path / "cos.xml"
    cos.write_bytes(template("CS02b").read_bytes().replace(
        b"<sr:UpdateSecurityCredentialsCoS>",
        b"<sr:UpdateSecurityCredentialsCoS><sr:ExecutionDateTime>2024-01-08T09:55:00Z"
        b"</sr:ExecutionDateTime>"))
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"), cos, template("8.2_"), interval=600)
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.CS02B_SUPPLIER_BY_TRANSCOS, "response"), (c.CS02B_ALERT, "alert")} <= seen
    alert = next(p for k, p in payloads.items() if "scheduled_alert_8F66" in k)
    assert bytes.fromhex("4A8103ADAC183A89") in alert  # GITTESTSUPPLIER2's DS key ID


def test_after_cos_only_the_gaining_suppliers_signature_is_obeyed(tmp_path: Path) -> None:
    """A pre-command signed by the wrong supplier: the meter refuses it (E100, the reason),
    nothing changes; signed by its current supplier it is obeyed."""
    dcc = Dcc(load_site(cos_site(tmp_path, GAINING)), xsd())
    for request in (template("12.2_"), template("8.14.2_")):
        assert dcc.submit(request.read_bytes()).code == "I99"  # DUIS: non-device, acknowledged
    dcc.advance(240)  # change of supplier, then the SM WAN
    assert dcc.submit(as_gaining(tmp_path, "CCS01_").read_bytes()).code == "I0"
    pre = dcc.submit(as_gaining(tmp_path, "ECS70").read_bytes())
    assert pre.pre_command is not None
    wrong = dcc.handle(signed_request(pre.request, pre.pre_command, supplier_test_key(LOSING)))
    assert (wrong.code, wrong.reason) == (
        "E100", "device refused the command: supplier signature does not verify with the key "
                "the device holds")
    assert dcc.smi.status(ESME) == "Whitelisted" and not dcc.premises.devices[ESME].commissioned
    right = dcc.handle(signed_request(pre.request, pre.pre_command, supplier_test_key(GAINING)))
    assert right.code == "I0" and dcc.smi.status(ESME) == "Commissioned"


def test_6_23_story_cs02b_response(tmp_path: Path) -> None:
    """6.23 with the DCC's template on a commissioned meter: the meter's signed CS02b
    response names the DCC Boxed test supplier's certificates it replaced by
    GITTESTSUPPLIER2's, as the RTDS response does."""
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"), template("CS02b"))
    seen = check_story(out, payloads)
    assert (uc.MessageCode.CS02B_SUPPLIER_BY_TRANSCOS, "response") in seen
    response = next(p for k, p in payloads.items() if "6.23_response" in k)
    for key_id in ("44899792D196F4B8", "4A8103ADAC183A89", "405B8C62687D8F70",
                   "483972547DCD7835", "41FB49221588C570", "43049452FE1FCE0A"):
        assert bytes.fromhex(key_id) in response


def _mangled(payload: str, how: str) -> str:
    data = base64.b64decode(payload)
    unknown = data[:31] + b"\xff\xff" + data[33:]  # the message code: no GBCS use case
    changed = {"truncated": data[:-10], "oversized": data + b"\x00", "unknown use case": unknown,
               "unsigned": data[:-65], "signature bit": data[:-1] + bytes([data[-1] ^ 1]),
               "not GBCS": b"\x00" + data[1:]}.get(how)
    return "%%% not base64" if changed is None else base64.b64encode(changed).decode()


@pytest.mark.parametrize("how", ["truncated", "oversized", "unsigned", "signature bit",
                                 "not GBCS", "not base64", "unknown use case"])
def test_bad_signed_pre_command_is_refused_and_changes_nothing(how: str) -> None:
    dcc = Dcc(default_premises(), xsd())
    for prefix in ("12.2_", "8.14.1_", "CCS01_"):
        assert dcc.submit(template(prefix).read_bytes()).accepted
    pre = dcc.submit(template("ECS70").read_bytes())
    signed = signed_request(pre.request, pre.pre_command, supplier_test_key(LOSING))
    bad = dataclasses.replace(signed, body=SignedPreCommand(_mangled(signed.body.gbcs_payload, how)))
    outcome = dcc.handle(bad)
    assert outcome.code == "E100" and outcome.reason.startswith("device refused the command: ")
    assert dcc.smi.status(ESME) == "Whitelisted" and not dcc.premises.devices[ESME].commissioned
    assert dcc.handle(signed).code == "I0"  # the genuine one is still outstanding


def plain_request(tmp_path: Path, name: str, target: str, srv: str, body, counter: int) -> Path:
    """A non-critical request from the supplier (``LOSING``) to ``target``."""
    path = tmp_path / f"{name}.xml"
    reference = srv.rsplit(".", 1)[0] if srv.count(".") == 2 else srv  # 8.7.2 -> 8.7
    path.write_bytes(ServiceRequest(RequestID(LOSING, target, counter), 1, reference, srv,
                                    body).to_xml())
    return path


def test_read_firmware_and_non_critical_unjoin_story(tmp_path: Path) -> None:
    """11.2 on the ESME is ECS52 (its DLMS get of the version it runs, MACed for the
    supplier); 8.7.2 and 8.8.2 on a meter are CS03B and CS04B (MACed, supplier to device),
    on the GPF CS03A2 and CS04AC sent by the DCC's ACB for the supplier and signed by the
    GPF (RTDS 8.7.2 and 8.8.2 vectors)."""
    gpf = "00-DB-12-34-56-78-90-A3"
    out = tmp_path / "out"
    payloads = run_story(
        out, template("12.2_"), template("8.14.1_"), template("CCS01_"), template("ECS70"),
        template("11.1_"), plain_request(tmp_path, "version", ESME, "11.2", ReadFirmwareVersion(), 30),
        plain_request(tmp_path, "join", ESME, "8.7.2", JoinServiceNonCritical(gpf), 31),
        plain_request(tmp_path, "joined", ESME, "8.9", ReadDeviceLog(), 35),
        plain_request(tmp_path, "unjoin", ESME, "8.8.2", UnjoinServiceNonCritical(gpf), 32),
        plain_request(tmp_path, "gpf-join", gpf, "8.7.2", JoinServiceNonCritical(ESME), 33),
        plain_request(tmp_path, "gpf-unjoin", gpf, "8.8.2", UnjoinServiceNonCritical(ESME), 34),
        site=firmware_site(tmp_path))
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.ECS52, "response"), (c.CS07, "response"), (c.CS04B, "response"),
            (c.CS04AC, "response"), (c.CS03B, "response"), (c.CS03A2, "response")} <= seen
    joins = [Envelopes(KeyStore([out / "keystore", rtds_keystore()])).open(p).message.header
             for k, p in sorted(payloads.items()) if "8.7.2_response" in k]
    assert [(h.message_code, h.originator, h.recipient, h.supplementary_party) for h in joins] == [
        (c.CS03B, eui_bytes(ESME), eui_bytes(LOSING), None),
        (c.CS03A2, eui_bytes(gpf), ACB, eui_bytes(LOSING))]
    version = next(p for k, p in payloads.items() if "11.2_response" in k)
    assert bytes.fromhex("ACDCACDB") in version  # the version firmware_site's ESME runs
    joined = next(p for k, p in payloads.items() if "8.9_response" in k)
    assert bytes.fromhex(gpf.replace("-", "")) in joined  # CS07 lists the GPF it joined


def test_cancelled_firmware_activation_story(tmp_path: Path) -> None:
    """A future-dated 11.3, then its cancellation (ExecutionDateTime 3000-12-31, the DCC's
    CANCELLATION template value): the cancelling pre-command is CS06 with GBCS's
    9999-12-31 23:59:59, the meter answers it "Command Accepted" (signed, as the RTDS
    CANCELLATION response), and no future-dated alert follows."""
    good = image.parse(template_image()).hash.hex().upper()
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"), template("11.1_"),
                         activate(tmp_path, "held", good, 2000, "2024-01-08T18:20:00Z"),
                         activate(tmp_path, "cancel", good, 2001, "3000-12-31T00:00:00Z"),
                         template("8.2_"), site=firmware_site(tmp_path), interval=3600)
    seen = check_story(out, payloads)
    assert {(uc.MessageCode.CS06, "pre-command"), (uc.MessageCode.CS06, "response")} <= seen
    pre, answer = payloads["009-1_11.3_response.xml#0"], "010-3_11.3_response.xml#0"
    assert uc.cs06_command(bytes.fromhex(good), 2001, uc.CANCEL) in pre
    parsed = parse_all({answer: payloads[answer]}, [out / "keystore", rtds_keystore()])
    assert "Command Accepted" in parsed[answer]["message"]["Payload"]["children"]
    assert not [k for k in payloads if "8F66" in k or "8F67" in k]  # the held one never ran
