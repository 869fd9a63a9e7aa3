"""``hansim duis run`` and ``hansim duis validate`` through click's runner."""

import base64
from pathlib import Path

import pytest

from _firmware_support import signed
from click.testing import CliRunner
from duis_support import cos_site, schema_path, templates, xsd

from firmware.image import parse
from sim.cli import main
from sim.duis import schema as duis_schema
from sim.duis.bodies import ActivateFirmware, UpdateFirmware
from sim.duis.request import RequestID, ServiceRequest

CODE = "30313233343536373839414243444546"


def run(*args: str):
    """``hansim`` with the schema given explicitly (the checkout may be a worktree)."""
    argv = [str(a) for a in args]
    if argv[:2] in (["duis", "run"], ["duis", "validate"]) and "--schema" not in argv:
        argv += ["--schema", str(schema_path())]
    return CliRunner().invoke(main, argv)


def story_files() -> list[Path]:
    names = ("12.2_", "8.14.1_", "CCS01_", "ECS70")
    return [next(p for p in templates().iterdir() if p.name.startswith(n)) for n in names]


def test_run_the_commissioning_story(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("duis", "run", *story_files(), "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].startswith("CCS01_8.11_SUCCESS_REQUEST_DUIS.XML: SRV 8.11 CV1: I0 accepted")
    assert lines[2].endswith("alerts 8F12 N24 8F49")
    assert "pre-command returned" in lines[3]
    assert lines[4].startswith("  signed pre-command resubmitted: SRV 8.1.1 CV5: I0 accepted")
    assert "00-DB-12-34-56-78-90-A0 Whitelisted->Commissioned" in lines[4]
    assert CODE not in result.output
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert (out / "keystore" / "00db1234567890a0-ds.pem").is_file()
    assert names[:3] == ["001-1_12.2_response.xml", "002-1_8.14.1_response.xml",
                         "003-1_8.11_ack.xml"]
    assert "005-1_8.1.1_request_cv5.xml" in names
    for path in out.glob("*.xml"):
        assert duis_schema.check_bytes(xsd(), path.read_bytes()) == [], path.name
        assert CODE.encode() not in path.read_bytes()
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = tmp_path / "again"
    assert run("duis", "run", *story_files(), "--out", again).exit_code == 0
    assert {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()} == first


def test_no_wan_site_file(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    default = (Path(__file__).parents[1] / "sim" / "dcc" / "default_site.yaml").read_text()
    site.write_text(default.replace("wan: {connected: true}",
                                    "wan: {connected: false, arrives: 2024-01-08T09:02:30Z}"))
    files = story_files()
    install = next(p for p in templates().iterdir() if p.name.startswith("8.14.2_"))
    ccs01 = files[2]
    result = run("duis", "run", files[0], install, ccs01, ccs01, files[3],
                 "--site", site, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "E20 refused (no SM WAN at the premises" in lines[2]
    # The CHF is commissioned; its GPF waits for the gas meter (DCC Boxed's 8.2 shows that)
    assert lines[3] == ("SM WAN arrived: SMI 00-DB-12-34-56-78-90-A2 InstalledNotCommissioned"
                        "->Commissioned")
    assert "Whitelisted->Commissioned" in lines[6]


def test_not_duis_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("this is not xml")
    out = tmp_path / "out"
    result = run("duis", "run", story_files()[0], junk, "--out", out)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {junk}: not a DUIS service request: not XML: a DUIS request starts with '<'"]
    assert not out.exists()


def test_bad_site_file_is_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("devices: []\nusers: {}\nsuppliers: {gas: 90-B3-D5-1F-30-01-00-00}\n")
    result = run("duis", "run", story_files()[0], "--site", site, "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert result.output == (f"Error: {site}:3: suppliers.gas: 90-B3-D5-1F-30-01-00-00 "
                             "is not listed under users\n")


def test_missing_request_file(tmp_path: Path) -> None:
    result = run("duis", "run", tmp_path / "nope.xml", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.xml'}: cannot read: No such file or directory\n"


def test_validate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(story_files()[2].read_bytes().replace(b">90<", b">0<"))
    good = story_files()[0]
    result = run("duis", "validate", good, bad)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{good}: valid DUIS"
    assert lines[1].startswith(f"{bad}: invalid: line 14: /Request/Body/UpdateHANDeviceLog/"
                               "AddDeviceToCHFWhitelist/JoinTimePeriod:")
    assert run("duis", "validate", good).exit_code == 0


def test_validate_without_schema_says_so(tmp_path: Path) -> None:
    result = run("duis", "validate", story_files()[0], "--schema", tmp_path)
    assert result.exit_code == 1
    assert "validation is off" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("text", ["<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element",
                                  "<a/>", "\x00\xff"])
@pytest.mark.parametrize("command", [["duis", "validate"], ["duis", "run", "--out", "o"],
                                     ["replay", "--quiet", "--out", "o"]])
def test_a_schema_that_is_no_xsd_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch, text: str,
                                                                command: list[str]) -> None:
    """Issue 19: ``--schema bad.xsd`` was an XMLResourceParseError traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.xsd").write_bytes(text.encode("latin-1"))
    requests = [str(story_files()[0])] if command[0] == "duis" else []
    result = CliRunner().invoke(main, [*command[:2], *requests, *command[2:], "--schema", "bad.xsd"])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].startswith("Error: bad.xsd: not a usable DUIS XSD: ")
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xsd"]


def test_no_sign_stops_at_the_pre_command(tmp_path: Path) -> None:
    result = run("duis", "run", *story_files(), "--no-sign", "--out", tmp_path / "o")
    assert result.exit_code == 0
    assert result.output.splitlines()[-2].endswith("(pre-command returned for the supplier to sign)")
    assert "CV5" not in result.output


def test_run_without_schema_warns_and_carries_on(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["duis", "run", str(story_files()[0]), "--schema", str(tmp_path),
               "--out", str(tmp_path / "o")])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: DUIS schema not found at {tmp_path}")
    assert "I99 accepted" in result.stdout


def test_firmware_update_through_the_cli(tmp_path: Path) -> None:
    """Site file models the Comms Hub's firmware; 11.1 (signed by the supplier, as GBCS
    has it) then critical 11.3 via hansim duis run."""
    default = (Path(__file__).parents[1] / "sim" / "dcc" / "default_site.yaml").read_text()
    site = tmp_path / "site.yaml"
    site.write_text(default.replace(
        "manufacturer: AB01, model: 010A030B}",
        "manufacturer: AB01, model: 010A030B,\n            firmware: {model: NHW-CH-SB, "
        "hardware_version: 0x0105, running: 0x00020000}}"))
    image = signed(version=0x00020100)
    user, chf = "90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A2"
    update = tmp_path / "11.1.xml"
    update.write_bytes(ServiceRequest(
        RequestID(user, "90-B3-D5-1F-30-00-00-02", 1), 8, "11.1", "11.1",
        UpdateFirmware(base64.b64encode(image).decode(), "00020100", chf)).to_xml())
    activate = tmp_path / "11.3.xml"
    activate.write_bytes(ServiceRequest(
        RequestID(user, chf, 2), 4, "11.3", "11.3",
        ActivateFirmware(firmware_hash=parse(image).hash.hex().upper())).to_xml())
    install = next(p for p in templates().iterdir() if p.name.startswith("8.14.1_"))
    result = run("duis", "run", install, update, activate, "--site", site, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == f"11.1.xml: SRV 11.1 CV8: I0 accepted (image delivered to {chf}); alerts 8F72"
    assert lines[3] == (f"  signed pre-command resubmitted: SRV 11.3 CV5: I0 accepted "
                        f"({chf} now runs firmware 00020100); alerts 8F43")

    site.write_text(site.read_text().replace("model: NHW-CH-SB", "model: NOPE"))
    bad = run("duis", "run", install, "--site", site, "--out", tmp_path / "o2")
    assert bad.exit_code == 1
    assert bad.output == (f"Error: {site}:6: comms_hub.firmware.model: "
                          "model 'NOPE' is not in the catalogue\n")


def test_mp121_story_through_the_cli(tmp_path: Path) -> None:
    """Install and leave; CoS while the WAN is away; the gaining supplier commissions."""
    losing, gaining = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-05-00-00"
    site = cos_site(tmp_path, gaining)
    files = {p.name[:6]: p for p in templates().iterdir()}
    gaining_files = []
    for prefix in ("CCS01_", "ECS70C"):
        copy = tmp_path / f"gaining-{prefix[:5]}.xml"
        copy.write_bytes(files[prefix].read_bytes().replace(losing.encode(), gaining.encode()))
        gaining_files.append(copy)
    result = run("duis", "run", files["12.2_D"], files["8.14.2"], files["CCS01_"],
                 files["CCS01_"], *gaining_files, "--site", site, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "E20 refused" in lines[2]
    assert lines[3] == f"change of supplier: electricity now {gaining}"
    assert "E4 refused" in lines[4]  # the losing supplier, one minute later
    assert lines[5].startswith("SM WAN arrived")
    assert lines[6].startswith("gaining-CCS01.xml: SRV 8.11 CV1: I0 accepted (HAN join: joined")
    assert "Whitelisted->Commissioned" in lines[8]


def test_bad_out_folder_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    result = run("duis", "run", story_files()[0], "--out", a_file)
    assert (result.exit_code, result.output) == (1, f"Error: {a_file}: cannot write: a file is in the way "
                                                    "(a folder was expected) (nothing written)\n")
    assert a_file.read_text() == "keep me"
    blocked = a_file / "sub"
    result = run("duis", "run", story_files()[0], "--out", blocked)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {blocked}: cannot write:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_story_with_frame_level_join(tmp_path: Path) -> None:
    result = run("duis", "run", *story_files(), "--join", "frames", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].endswith("alerts 8F12 N24 8F49")
    assert "Whitelisted->Commissioned" in lines[4]
