"""A Comms Hub swap: the replacement hub goes in (8.14.1), the old one back to the CSP
(8.14.3), and 8.12.1 / 8.12.2 restore the old CHF's and GPF's device logs onto the new
one, so the meters rejoin its HAN.

Requests are SmartDCC's RTDS templates (``@smartdcc/duis-templates``: CCS03 8.12.1,
GCS59 8.12.2, 8.14.3) with only their IDs moved onto this site; every response and alert
validates against the V5.4 XSD, and the GBCS payloads (CCS03 and GCS59 responses, the
new CHF's 0x8F12) are read by SmartDCC's gbcs-parser, MACs valid, shaped as their RTDS
vectors.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from duis_support import CHF, DEFAULT_SITE, ESME, GPF, GSME, dual_fuel_site, rtds, submit, template
from gbcs_support import all_valid, checks, fits, message_code, parse_all, rtds_keystore, shape
from gbcs_support import rtds as rtds_vector

from sim.dcc import gbcs_link
from sim.dcc.frontdoor import Dcc
from sim.dcc.outcome import Outcome
from sim.dcc.site_file import load_site

NEW_CHF, NEW_GPF = "00-DB-12-34-56-78-90-C2", "00-DB-12-34-56-78-90-C3"
REPLACEMENT = f"replacement: {{chf: {NEW_CHF}, gpf: {NEW_GPF}}}"


def swap_site(folder: Path) -> Dcc:
    """The dual-fuel site (ESME and GSME commissioned on hub A2/A3) with a replacement hub."""
    site = folder / "site.yaml"
    site.write_text(DEFAULT_SITE.read_text().replace("model: 010A030B}", f"model: 010A030B, {REPLACEMENT}}}"))
    return dual_fuel_site(load_site(site))


def with_old(data: bytes, tag: str, old: str) -> bytes:
    return re.sub(rb"(?<=<sr:%s>)[^<]+" % tag.encode(), old.encode(), data)


def install(dcc: Dcc, prefix: str, device_id: str, counter: int) -> Outcome:
    data = template(prefix) if prefix.startswith("8.14.1") else rtds(prefix)
    data = re.sub(rb"(?<=<sr:DeviceID>)[^<]+", device_id.encode(), data)
    data = re.sub(rb"(?<=<sr:RequestID>)([^<]+):(\d+)", lambda m: m[1] + b":%d" % counter, data)
    return submit(dcc, data)


def restore_chf(dcc: Dcc, old: str, target: str = NEW_CHF, counter: int = 50) -> Outcome:
    return submit(dcc, with_old(rtds("CCS03_8.12.1", target=target, counter=counter), "OldCHFID", old))


def restore_gpf(dcc: Dcc, old: str, target: str = NEW_GPF, counter: int = 60) -> Outcome:
    """The GCS59 template names the DCC (90-B3-D5-1F-30-00-00-02) as sender: sent here by
    the supplier, whom the DUIS request matrix allows (IS, GS)."""
    data = rtds("GCS59_8.12.2", target=target, counter=counter).replace(
        b"<sr:RequestID>90-B3-D5-1F-30-00-00-02:", b"<sr:RequestID>90-B3-D5-1F-30-01-00-00:")
    return submit(dcc, with_old(data, "OldGPFID", old))


def read_firmware(dcc: Dcc, counter: int) -> Outcome:
    return submit(dcc, rtds("ECS52_11.2", target=ESME, counter=counter))


def alerts(outcome: Outcome) -> list[str]:
    return [name.split("_", 1)[1] for name, _ in outcome.documents if name.startswith("alert_")]


@pytest.fixture(scope="module")
def unswapped(tmp_path_factory) -> Dcc:
    """The same site before any swap (refusals change nothing, so one site serves them all)."""
    return swap_site(tmp_path_factory.mktemp("unswapped"))


@pytest.fixture(scope="module")
def swapped(tmp_path_factory) -> tuple[Dcc, dict[str, Outcome]]:
    """The whole swap, step by step, on one site."""
    dcc = swap_site(tmp_path_factory.mktemp("swap"))
    steps = {"install": install(dcc, "8.14.1_", NEW_CHF, 40),
             "before": read_firmware(dcc, 41),
             "return": install(dcc, "8.14.3_", CHF, 42),
             "8.12.1": restore_chf(dcc, CHF),
             "after": read_firmware(dcc, 51),
             "8.12.2": restore_gpf(dcc, GPF)}
    return dcc, steps


def test_the_replacement_hub_goes_in_and_the_meters_lose_their_han(swapped) -> None:
    dcc, steps = swapped
    assert (steps["install"].code, steps["install"].reason) == (
        "I99", f"Comms Hub {NEW_CHF} installed in place of {CHF}: its HAN devices rejoin once "
               "8.12.1 restores the device log")
    assert [str(c) for c in steps["install"].changes] == [
        f"{NEW_CHF} Pending->Commissioned", f"{NEW_GPF} Pending->InstalledNotCommissioned"]
    assert (steps["before"].code, steps["before"].reason) == ("E20", f"ESME {ESME} has not joined the HAN")
    assert steps["return"].code == "I99"
    assert dcc.smi.status(CHF) == dcc.smi.status(GPF) == "Withdrawn"


def test_restore_han_device_log_lets_the_meters_rejoin(swapped) -> None:
    dcc, steps = swapped
    restore = steps["8.12.1"]
    assert [name for name, _ in restore.documents] == ["ack", "response", "alert_8F12"]
    assert (restore.code, restore.reason) == (
        "I0", f"device log of {CHF} restored: 2 entries; rejoined {ESME}, {GSME}")
    assert list(dcc.premises.hub.device_log.live) == [ESME, GSME]
    assert dcc.premises.hub.chf_id == NEW_CHF
    after = steps["after"]
    assert after.code == "I0" and after.reason.startswith(f"{ESME} runs firmware")


def test_restore_gpf_device_log_moves_its_joins(swapped) -> None:
    dcc, steps = swapped
    restore = steps["8.12.2"]
    assert (restore.code, restore.reason) == ("I0", f"GPF device log of {GPF} restored: {GSME}")
    assert (GSME, NEW_GPF) in dcc.joins and not any(GPF in pair for pair in dcc.joins)
    assert dcc.smi.status(NEW_GPF) == "Commissioned"  # with the Commissioned gas meter


def test_payloads_are_read_by_gbcs_parser_as_the_rtds_vectors(swapped, tmp_path: Path) -> None:
    dcc, steps = swapped
    for name, data in gbcs_link.keystore_files(dcc.premises).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    payloads = {
        "ccs03": dict(steps["8.12.1"].documents)["response"].body.gbcs_payload,
        "8f12": dict(steps["8.12.1"].documents)["alert_8F12"].body.gbcs_payload,
        "gcs59": dict(steps["8.12.2"].documents)["response"].body.gbcs_payload,
    }
    ours = parse_all({k: base64.b64decode(v) for k, v in payloads.items()},
                     [tmp_path / "keystore", rtds_keystore()])
    vectors = {"ccs03": "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_RESPONSE_GBCS.HEX",
               "8f12": "NA_CS14/CS14_NA_8F12_ALERT_GBCS.HEX",
               "gcs59": "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_RESPONSE_GBCS.HEX"}
    reference = parse_all({k: rtds_vector(v) for k, v in vectors.items()})
    for key, result in ours.items():
        assert result["ok"], (key, result.get("error"))
        message = result["message"]
        assert all_valid(message) and checks(message), key
        assert message_code(message) == message_code(reference[key]["message"]), key
        assert fits(shape(message), shape(reference[key]["message"])), key
    outcomes = ours["gcs59"]["message"]["Payload"]["children"]["GPF Device Log Restore Response"]
    entry = outcomes["children"]["Restore Outcomes"]["children"]["[0] Restore Outcome"]["children"]
    assert entry["Device Log Entry"]["children"]["Device Id"]["hex"].replace(" ", "").endswith(GSME.replace("-", ""))
    assert entry["Join Response Code"]["notes"] == "Success"


def test_8f12_is_the_backup_ccs03_restores(swapped, tmp_path: Path) -> None:
    """The replacement CHF's 0x8F12 (CS14), as gbcs-parser reads it: the old HAN's Extended
    PAN ID (Restore PAN carried it over; the key-level join model runs no PAN, so it is
    the old CHF's EUI-64) and per entry the EUI-64 and the link key zigpy derives from the
    device's install code, the key each meter rejoined with."""
    dcc, steps = swapped
    for name, data in gbcs_link.keystore_files(dcc.premises).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    payload = base64.b64decode(dict(steps["8.12.1"].documents)["alert_8F12"].body.gbcs_payload)
    result = parse_all({"8f12": payload}, [tmp_path / "keystore", rtds_keystore()])["8f12"]
    assert result["ok"] and all_valid(result["message"]) and checks(result["message"])
    notification = result["message"]["Payload"]["children"]["DLMS Data Notification"]["children"]
    backup = notification["Body"]["children"]["[0] Structure"]["children"]
    def octets(item: dict) -> str:
        return item["hex"].replace(" ", "")[4:]  # after the DLMS tag and length
    assert octets(backup["[1] Octet String"]) == CHF.replace("-", "")
    entries = [[octets(field) for field in entry["children"].values()]
               for entry in backup["[2] Array"]["children"].values()]
    assert entries == [[d.replace("-", ""), bytes(dcc.premises.devices[d].install_code.link_key()).hex().upper()]
                       for d in (ESME, GSME)]


@pytest.mark.parametrize(("old", "srv", "expected"), [
    (CHF, "8.12.1", ("E081204", f"{CHF} is the Comms Hub in service here: there is no replaced log")),
    (GPF, "8.12.2", ("E081223", f"{GPF} is the Comms Hub in service here: there is no replaced log")),
    (NEW_CHF, "8.12.1", ("E081202", f"the DCC holds no device log of {NEW_CHF}: no Comms Hub "
                                    "replaced here")),
    ("00-DB-12-34-56-78-90-95", "8.12.1", ("E19", "device 00-DB-12-34-56-78-90-95 is not in the SMI")),
    (ESME, "8.12.1", ("E11", f"device {ESME} is a ESME, not CHF")),
])
def test_restore_refused_before_any_swap(unswapped: Dcc, old: str, srv: str, expected) -> None:
    """On a site whose hub was never replaced, there is no log to restore: refused at once,
    no I99 first."""
    outcome = restore_chf(unswapped, old, CHF) if srv == "8.12.1" else restore_gpf(unswapped, old, GPF)
    assert (outcome.code, outcome.reason) == expected
    assert [name for name, _ in outcome.documents] == ["response"]


def test_only_suppliers_may_restore(swapped) -> None:
    dcc, _ = swapped
    data = rtds("CCS03_8.12.1", target=NEW_CHF, counter=70).replace(
        b"90-B3-D5-1F-30-01-00-00:", b"00-DB-12-34-56-78-00-04:")  # the Other User
    outcome = submit(dcc, with_old(data, "OldCHFID", CHF))
    assert (outcome.code, outcome.reason) == ("E2", "OtherUser may not send SRV 8.12.1")


def test_duis_run_writes_the_swap_and_gbcs_parser_reads_every_payload(tmp_path: Path) -> None:
    """The same swap through ``hansim duis run`` (files in, files out): the commissioning
    templates, then 8.14.1 of the replacement, 8.14.3 of the old hub and 8.12.1; every
    GBCS payload it writes parses with MACs and signatures valid, shaped as its RTDS vector."""
    from test_gbcs_stories import check_story, run_story

    from gbcs import use_cases as uc

    site = tmp_path / "site.yaml"
    site.write_text(DEFAULT_SITE.read_text().replace("model: 010A030B}", f"model: 010A030B, {REPLACEMENT}}}"))
    steps = {"install.xml": re.sub(rb"(?<=<sr:DeviceID>)[^<]+", NEW_CHF.encode(), template("8.14.1_")),
             "return.xml": re.sub(rb"(?<=<sr:DeviceID>)[^<]+", CHF.encode(), rtds("8.14.3_", counter=1002)),
             "restore.xml": with_old(rtds("CCS03_8.12.1", target=NEW_CHF, counter=1003), "OldCHFID", CHF)}
    for name, data in steps.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    payloads = run_story(out, template_path("12.2_"), template_path("8.14.1_"), template_path("CCS01_"),
                         template_path("ECS70"), *(tmp_path / n for n in steps), site=site)
    seen = check_story(out, payloads)
    assert {(uc.MessageCode.CCS03, "response"), (uc.MessageCode.CS14, "alert")} <= seen
    restored = [p for p in out.glob("*.xml") if b"<sr:ServiceReferenceVariant>8.12.1<" in p.read_bytes()]
    assert any(b"<sr:ResponseCode>I0<" in p.read_bytes() for p in restored)


def template_path(prefix: str) -> Path:
    from duis_support import templates
    return next(p for p in templates().iterdir() if p.name.startswith(prefix))
