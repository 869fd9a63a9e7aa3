"""Every GBCS payload ``hansim duis run`` writes in a story, read by SmartDCC's gbcs-parser
with the DCC Boxed / RTDS test keys plus the run's own ``keystore/`` folder: 100% must
parse, every MAC and signature must be "valid", and each message must have the shape of
the RTDS vector of its use case."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from _firmware_support import template_image
from click.testing import CliRunner
from duis_support import DEFAULT_SITE, cos_site, schema_path, templates, xsd

from firmware import image
from gbcs import use_cases as uc
from sim.cli import main
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises, load_site
from sim.duis.precommand import signed_request, supplier_test_key
from sim.duis.bodies import ActivateFirmware, SignedPreCommand
from sim.duis.request import RequestID, ServiceRequest
from tests.gbcs_support import (
    all_valid,
    checks,
    parse_all,
    payloads_in,
    rtds,
    rtds_keystore,
    shape,
    message_code,
)

#: (message code, kind) -> the RTDS vector hansim's message must look like.
VECTORS = {}
for use_case in uc.USE_CASES:
    VECTORS.setdefault((use_case.code, use_case.kind), use_case.rtds)


def kind_of(message: dict) -> str:
    cra = message["Grouping Header"]["children"]["CRA Flag"]["notes"].lower()
    if cra == "command" and "MAC Header" not in message:
        return "signed pre-command" if "Signature" in message else "pre-command"
    return cra


def run_story(out: Path, *requests: Path, site: Path | None = None) -> dict[str, bytes]:
    argv = ["duis", "run", *map(str, requests), "--out", str(out), "--schema", str(schema_path())]
    if site is not None:
        argv += ["--site", str(site)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return payloads_in(out)


def check_story(out: Path, payloads: dict[str, bytes]) -> set[tuple[int, str]]:
    """The parser's verdict on every payload; returns the (code, kind) pairs seen."""
    assert payloads and all(payloads.values()), "a GBCSPayload is empty"
    parsed = parse_all(payloads, [out / "keystore", rtds_keystore()])
    seen = set()
    references = {}
    for name, result in parsed.items():
        assert result["ok"], (name, result.get("error"))
        message = result["message"]
        assert all_valid(message), (name, checks(message))
        kind = kind_of(message)
        assert checks(message) or kind == "pre-command", name  # something was verified
        code = message_code(message)
        vector = VECTORS[(code, "pre-command" if kind == "signed pre-command" else kind)]
        references.setdefault(vector, rtds(vector))
        seen.add((code, kind))
    reference = parse_all(references)
    for name, result in parsed.items():
        message = result["message"]
        kind = kind_of(message)
        vector = VECTORS[(message_code(message), "pre-command" if kind == "signed pre-command" else kind)]
        sections = ("Grouping Header", "Payload") if kind == "signed pre-command" else None
        assert shape(message, sections) == shape(reference[vector]["message"], sections), (name, vector)
    return seen


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


def firmware_site(tmp_path: Path) -> Path:
    """The default site with the ESME's firmware modelled: the DCC 11.1 template's model."""
    site = tmp_path / "site.yaml"
    site.write_text(DEFAULT_SITE.read_text().replace(
        'type: ESME, install_code: "30313233343536373839414243444546"}',
        'type: ESME, install_code: "30313233343536373839414243444546",\n'
        '     firmware: {model: GFI-ESME, hardware_version: 0x1111, running: 0xACDCACDB}}'))
    return site


def activate(tmp_path: Path, name: str, image_hash: str, counter: int) -> Path:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(ServiceRequest(RequestID(LOSING, ESME, counter), 4, "11.3", "11.3",
                                    ActivateFirmware(image_hash)).to_xml())
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


def test_after_cos_only_the_gaining_suppliers_signature_is_obeyed(tmp_path: Path) -> None:
    """A pre-command signed by the wrong supplier: the meter refuses it (E100, the reason),
    nothing changes; signed by its current supplier it is obeyed."""
    dcc = Dcc(load_site(cos_site(tmp_path, GAINING)), xsd())
    for request in (template("12.2_"), template("8.14.2_")):
        assert dcc.submit(request.read_bytes()).code == "I0"
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
    changed = {"truncated": data[:-10], "oversized": data + b"\x00",
               "unsigned": data[:-65], "signature bit": data[:-1] + bytes([data[-1] ^ 1]),
               "not GBCS": b"\x00" + data[1:]}.get(how)
    return "%%% not base64" if changed is None else base64.b64encode(changed).decode()


@pytest.mark.parametrize("how", ["truncated", "oversized", "unsigned", "signature bit",
                                 "not GBCS", "not base64"])
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
