"""``hansim replay``: bundled scenarios meet their expectations; outputs are deterministic,
valid DUIS (the V5.4 XSD), decryptable pcaps (tshark, given only the scenario's install
codes) and free of secrets; bad scenario files fail with file, line and field path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from duis_support import schema_path, xsd
from han.pcap import zigbee_key_rows
from sim.cli import main
from sim.duis import schema as duis_schema
from sim.output import atomic_write
from sim.replay import report
from sim.replay.scenario import bundled, load_scenario, load_street
from sim.replay.story import Replay, replay

SCENARIOS = [p.stem for p in bundled() if load_street(p)[0].premises is None]  # streets: below
STREETS = [p.stem for p in bundled() if p.stem not in SCENARIOS]


@cache
def _replayed(name: str) -> tuple[Replay, dict[str, bytes]]:
    result = replay(load_scenario(next(p for p in bundled() if p.stem == name)), schema_path())
    return result, report.files(result, report.checks(result))


def _secrets(result: Replay) -> list[str]:
    """Every text form of every install code and link key the replay knew."""
    codes = list(result.codes.values()) + [d.installer_record for d in result.scenario.devices.values()]
    forms = []
    for code in codes:
        forms += [code.code.hex(), bytes(code.link_key()).hex()]
    forms += [r.report.network_key.hex() for r in result.joins.records]
    return [f for form in forms for f in (form.lower(), form.upper())]


def test_at_least_eight_bundled_scenarios_are_listed() -> None:
    out = CliRunner().invoke(main, ["scenarios", "list"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    replays = [line for line in lines if line.split()[1] == "replay"]
    assert len(replays) == len(SCENARIOS) + len(STREETS) >= 8 and STREETS
    assert all(line.split()[0] in SCENARIOS + STREETS for line in replays)
    assert [line.split()[:2] for line in lines if line not in replays] == [["mp155-reflash", "reflash"]]


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundled_scenario_meets_its_expectations(name: str) -> None:
    """Replayed with the DCC checking every request against the XSD (as in CI)."""
    result, _ = _replayed(name)
    assert result.dcc.schema is not None
    found = report.checks(result)
    assert found and all(c.ok for c in found), [str(c) for c in found if not c.ok]


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundled_scenario_holds_under_another_seed(name: str) -> None:
    """Every outcome a story depends on is pinned in its file: seed 7 (which once broke
    two-cos-wrong-supplier) changes codes, keys and timings, never the story."""
    result = replay(load_scenario(next(p for p in bundled() if p.stem == name), seed=7))
    failed = [str(c) for c in report.checks(result) if not c.ok]
    assert not failed


@pytest.mark.parametrize("name", SCENARIOS)
def test_duis_documents_validate_against_the_xsd(name: str) -> None:
    schema = xsd()
    _, files = _replayed(name)
    documents = {k: v for k, v in files.items() if k.startswith("duis/")}
    assert documents
    for file_name, data in documents.items():
        assert duis_schema.check_bytes(schema, data) == [], file_name


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_secret_in_timeline_or_summary_only_in_8_11_requests(name: str) -> None:
    result, files = _replayed(name)
    terminal = "\n".join(report.line(result, e) for e in result.entries)
    for text in (terminal, *(files[n].decode() for n in ("timeline.jsonl", "timeline.csv", "summary.json",
                                                          "report.html"))):
        assert not [s for s in _secrets(result) if s in text]
    adds = [v for k, v in files.items() if k.endswith("_8.11_request.xml") and b">Add<" in v]
    for data in adds:  # DUIS 8.11 Add carries the install code in the clear, as DUIS does
        assert any(s.encode() in data for s in _secrets(result))


def test_wrong_code_story_in_duis_alerts() -> None:
    result, files = _replayed("wrong-code-then-right")
    alerts = sorted(k for k in files if "_alert_8F4" in k)
    assert [k.rsplit("_", 1)[1] for k in alerts] == ["8F48.xml", "8F49.xml"]
    assert [r.result.joined for r in result.joins.records] == [False, True]


def test_same_seed_byte_identical_files_other_seed_differs(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for run, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        out = runner.invoke(main, ["replay", "wrong-code-then-right", "--out", str(tmp_path / run), "--seed", seed])
        assert out.exit_code == 0, out.output
        outputs.append(out.output.replace(str(tmp_path / run), "OUT"))
        files = {p.relative_to(tmp_path / run): p.read_bytes() for p in (tmp_path / run).rglob("*") if p.is_file()}
        outputs.append(files)
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    assert {"timeline.jsonl", "summary.json", "timeline.png"} <= {str(p) for p in outputs[1]}
    assert outputs[5] != outputs[1]  # the seed matters (install codes, PAN, keys)


@pytest.fixture(scope="module")
def tshark_home(tmp_path_factory):
    if shutil.which("tshark") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tshark is not installed but CI=true: .ci/install must install it")
        pytest.skip("tshark not installed")
    return tmp_path_factory.mktemp("home")


@pytest.mark.tshark
def test_pcaps_decrypt_in_tshark_with_the_scenarios_install_codes(tshark_home: Path, tmp_path: Path) -> None:
    """One tshark run over every join of three scenarios; keys: only the install codes'
    link keys (the network keys tshark must find in the Transport Keys itself)."""
    pcaps, keys, joins, dates = [], [], [], []
    for name in ("reactive-wan", "wrong-code-then-right", "igt-gas-new-build"):
        result, files = _replayed(name)
        for file_name, data in files.items():
            if file_name.startswith("pcap/join-"):
                pcaps.append(atomic_write(tmp_path / name / file_name, data, parents=True))
        codes = list(result.codes.values()) + [d.installer_record for d in result.scenario.devices.values()]
        keys += [(bytes(c.link_key()), f"{name} install code") for c in codes]
        joins += [r.report for r in result.joins.records]
        dates += [result.date(f.time) for r in result.joins.records for f in r.report.frames]
    merged = tmp_path / "all.pcap"
    subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", str(merged), *map(str, pcaps)], check=True)
    atomic_write(tshark_home / ".config" / "wireshark" / "zigbee_pc_keys", zigbee_key_rows(keys),
                 parents=True)
    fields = ("zbee_aps.cmd.key", "zbee_aps.zdp_cluster", "zbee_sec.encrypted_payload", "_ws.malformed",
              "frame.time_epoch")
    args = ["tshark", "-r", str(merged), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    for field in fields:
        args += ["-e", field]
    env = {**os.environ, "HOME": str(tshark_home), "XDG_CONFIG_HOME": str(tshark_home / ".config")}
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env).stdout
    rows = [dict(zip(fields, line.split("\t"))) for line in out.splitlines()]
    assert len(rows) == sum(len(r.frames) for r in joins)
    assert not any(r["_ws.malformed"] for r in rows)
    # Captures carry the story's dates (not 1970): each frame on the day the timeline says.
    assert [dt.datetime.fromtimestamp(float(r["frame.time_epoch"]), dt.UTC).date() for r in rows] == dates
    found_keys = {r["zbee_aps.cmd.key"] for r in rows if r["zbee_aps.cmd.key"]}
    assert found_keys == {r.network_key.hex() for r in joins}  # every Transport Key opened
    annces = [r for r in rows if r["zbee_aps.zdp_cluster"] == "0x0013"]
    assert len(annces) == sum(r.joined for r in joins)  # a Device_annce per successful join


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


GOOD = """\
title: test
start: 2024-01-08
devices:
  - {name: ESME, id: 00-DB-12-34-56-78-90-A0, type: ESME, install_code: generate}
parties:
  - {name: a, id: 90-B3-D5-1F-30-01-00-00, fuels: [electricity, gas]}
  - {name: b, id: 90-B3-D5-1F-30-05-00-00, fuels: [electricity, gas]}
policy: {name: email-10wd, reply_probability: 1.0}
timeline:
  - {wd: 0, event: install, by: a}
  - {wd: 5, event: cos, to: b}
  - {wd: 30, event: wan}
expect:
  commissioned: {ESME: 40}
"""

BAD = [
    ("  - {wd: 30, event: wan}", "  - {wd: 30, event: wan, colour: red}", ":12: timeline[2].colour: unknown key"),
    ("  - {wd: 5, event: cos, to: b}", "  - {wd: 5, event: cos, to: c}", ":11: timeline[1].to: unknown party 'c'"),
    ("  - {wd: 0, event: install, by: a}", "  - {wd: 9, event: install, by: a}",
     ":11: timeline[1].event: cos before any install"),
    ("  - {wd: 0, event: install, by: a}", "  - {wd: 0, event: install, by: a, devices: [GSME]}",
     ":10: timeline[0].devices[0]: unknown device 'GSME'"),
    ("install_code: generate", 'install_code: "83FED3407A939723A5C639B26916D505C3B6"',
     ":4: devices[0].install_code: "),
    ("  - {wd: 5, event: cos, to: b}", "  - {wd: 5, event: code}",
     ":11: timeline[1].event: code before any change of supplier"),
    ("  - {wd: 30, event: wan}", "  - {wd: 30, event: visit}", ":12: timeline[2].event: a replacement visit before"),
    ("  - {wd: 0, event: install, by: a}\n  - {wd: 5, event: cos, to: b}",
     "  - {wd: 3, event: install, by: a}\n  - {date: 2024-01-10, event: cos, to: b}",
     ":11: timeline[1].event: cos before any install"),  # 2024-01-10 is WD 2, listed after WD 3
    ("  commissioned: {ESME: 40}", "  not_commissioned: 5", ":14: expect.not_commissioned: expected a list"),
    ("reply_probability: 1.0}", "reply_probability: 1.0, 7: 1}", ":8: policy[7]: a policy parameter is a name"),
    ("  commissioned: {ESME: 40}", "  commissioned: {IHD: 40}", ":14: expect.commissioned.IHD: unknown device"),
    ("  - {wd: 30, event: wan}", "  - {wd: 30, time: 10:30, event: wan}",
     ":12: timeline[2].time: 630 is not a time of day like '10:30' (quoted)"),
    ("  - {wd: 30, event: wan}", "  - {wd: 30, time: '25:00', event: wan}", ":12: timeline[2].time: '25:00' is not"),
    ("  commissioned: {ESME: 40}", "  refusals: [E4, I0]", ":14: expect.refusals[1]: 'I0' is not a DUIS refusal"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_scenarios_fail_with_file_line_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("earlier result")
    path = _scenario(tmp_path, GOOD.replace(old, new))
    out = CliRunner().invoke(main, ["replay", str(path), "--out", str(out_dir), "--overwrite"])
    assert out.exit_code == 1
    assert f"{path}{message}" in out.output, out.output
    assert "Traceback" not in out.output
    assert [p.name for p in out_dir.iterdir()] == ["keep.txt"]  # nothing written, nothing lost


def test_policy_parameter_out_of_range_names_the_field(tmp_path: Path) -> None:
    path = _scenario(tmp_path, GOOD.replace("reply_probability: 1.0", "reply_probability: 1.5"))
    out = CliRunner().invoke(main, ["replay", str(path), "--out", str(tmp_path / "o")])
    assert out.exit_code == 1 and f"{path}:8: policy.reply_probability: " in out.output, out.output


def test_failed_expectation_exits_1_and_lists_it(tmp_path: Path) -> None:
    # (Commissioned before the SM WAN is refused up front: the timeline cannot give it.)
    path = _scenario(tmp_path, GOOD.replace("{ESME: 40}", "{ESME: 40}\n  joins: 2"))
    out = CliRunner().invoke(main, ["replay", str(path), "--out", str(tmp_path / "o")])
    assert out.exit_code == 1
    assert "1 of 2 expectations failed: HAN joins: expected 2, got 1" in out.output, out.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["ok"] is False and [c["ok"] for c in summary["expectations"]] == [True, False]


def test_keys_out_only_on_request_and_only_there(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    out = CliRunner().invoke(main, ["replay", "wrong-code-then-right", "--out", str(tmp_path / "o"),
                                    "--keys-out", str(keys)])
    assert out.exit_code == 0, out.output
    result, _ = _replayed("wrong-code-then-right")
    rows = keys.read_text().splitlines()
    device = result.scenario.devices["ESME"]
    for secret in (device.install_code, device.installer_record):
        assert f'"{bytes(secret.link_key()).hex().upper()}","Normal",' in keys.read_text()
    # Two joins on the premises' one HAN: one network key decrypts both.
    assert len(result.joins.records) == 2 and sum("network key" in row for row in rows) == 1
    assert not [s for s in _secrets(result) if s in out.output]
    refused = CliRunner().invoke(main, ["replay", "--out", str(tmp_path / "p"),
                                        "--keys-out", str(tmp_path / "missing" / "k.txt")])
    assert refused.exit_code == 1 and "missing does not exist" in refused.output
    assert not (tmp_path / "p").exists()


@pytest.mark.tshark
def test_one_han_per_premises_in_tshark(tshark_home: Path, tmp_path: Path) -> None:
    """The premises capture of a story with several joins (ESME, GSME, IHD, and a failed then
    successful join) is one HAN: tshark, given only the ``--keys-out`` table, decrypts every
    secured frame, sees one PAN and the hub's radio (the GPF) as trust centre with one NWK
    frame counter rising across all joins; the GSME joins as a sleepy end device."""
    for name in ("reactive-wan", "wrong-code-then-right"):
        result, files = _replayed(name)
        capture = atomic_write(tmp_path / name / "premises.pcap", files["pcap/premises.pcap"], parents=True)
        keys_file = tshark_home / ".config" / "wireshark" / "zigbee_pc_keys"
        atomic_write(keys_file, report.wireshark_keys(result).encode(), parents=True)
        fields = ("wpan.src_pan", "wpan.dst_pan", "zbee.sec.src64", "zbee.sec.counter", "zbee.sec.key_id",
                  "zbee_sec.encrypted_payload", "wpan.src64", "wpan.cinfo.idle_rx", "wpan.pending",
                  "wpan.frame_type", "_ws.malformed")
        args = ["tshark", "-r", str(capture), "-T", "fields", "-E", "occurrence=f"]
        for field in fields:
            args += ["-e", field]
        env = {**os.environ, "HOME": str(tshark_home), "XDG_CONFIG_HOME": str(tshark_home / ".config")}
        out = subprocess.run(args, capture_output=True, text=True, check=True, env=env).stdout
        rows = [dict(zip(fields, line.split("\t"))) for line in out.splitlines()]
        joins = [r.report for r in result.joins.records]
        assert len(joins) >= 2 and len(rows) == sum(len(j.frames) for j in joins)
        assert not any(r["_ws.malformed"] for r in rows)
        # Secured frames all open with the key table (an undecrypted one shows its payload).
        secured = [r for r in rows if r["zbee.sec.counter"]]
        assert secured and not any(r["zbee_sec.encrypted_payload"] for r in secured)
        assert len({r["wpan.dst_pan"] for r in rows if r["wpan.dst_pan"] not in ("", "0xffff")}) == 1
        # The trust centre is the hub's radio (GPF ID) and its NWK frame counter only rises.
        gpf = result.scenario.gpf.replace("-", ":").lower()
        from_hub = [int(r["zbee.sec.counter"]) for r in secured
                    if r["zbee.sec.src64"] == gpf and int(r["zbee.sec.key_id"], 16) == 1]
        assert len(from_hub) >= sum(j.joined for j in joins) and from_hub == sorted(set(from_hub))
        # The GSME's association request: receiver off when idle; a polled ack says Frame Pending.
        sleepy = {d.device_id.replace("-", ":").lower() for d in result.scenario.devices.values()
                  if d.device_type == "GSME"}
        receiver_on = {r["wpan.src64"]: r["wpan.cinfo.idle_rx"] == "1" for r in rows if r["wpan.cinfo.idle_rx"]}
        assert receiver_on and all(on != (eui in sleepy) for eui, on in receiver_on.items())
        if sleepy & receiver_on.keys():  # a poll the hub answers with a held frame: Frame Pending set
            assert any(int(r["wpan.frame_type"], 16) == 2 and r["wpan.pending"] == "1" for r in rows)


def test_a_supplier_that_lost_the_meter_is_refused_e4_and_the_gainer_commissions_itself() -> None:
    """The CoS reaches the DCC between the installer's 8.1.1 CV4 and its signed CV5: the
    DCC answers the CV5 with a DUIS E4 response; the gaining supplier sends its own 8.11
    and 8.1.1 (the fault: the losing CV5 accepted, the gainer commissioned by nobody)."""
    import xml.etree.ElementTree as ET

    result, files = _replayed("cos-while-commissioning")
    ns = {"sr": "http://www.dccinterface.co.uk/ServiceUserGateway"}

    def header(name: str, field: str) -> str:
        return ET.fromstring(files[name]).find(f".//sr:{field}", ns).text

    [refused] = [n for n in files if n.startswith("duis/") and n.endswith("_response.xml")
                 and header(n, "ResponseCode") == "E4"]
    request = refused.replace("-2_8.1.1_response.xml", "-1_8.1.1_request_cv5.xml")
    installer, gaining = (p.user_id for p in result.scenario.parties.values())
    assert header(request, "RequestID").startswith(installer)
    later = [n for n in files if n.startswith("duis/") and n > refused and "_request" in n]
    assert [n.split("_", 1)[1] for n in later] == ["8.11_request.xml", "8.11_request.xml",
                                                  "8.1.1_request.xml", "8.1.1_request_cv5.xml"]
    assert all(header(n, "RequestID").startswith(gaining) for n in later)
    commissioned = [r for r in result.requests if "Whitelisted->Commissioned" in r.summary]
    assert [r.actor for r in commissioned] == ["gaining"]


def test_a_reflash_study_named_to_replay_says_where_it_belongs(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["replay", "mp155-reflash", "--out", str(tmp_path / "o")])
    assert out.exit_code == 1 and "mp155-reflash is an MP155 re-flash study" in out.output
    assert out.output.count("\n") == 1 and not (tmp_path / "o").exists()


@pytest.mark.tshark
def test_meters_scan_the_bdb_channels_and_keep_steering_until_the_window_closes(tshark_home: Path,
                                                                               tmp_path: Path) -> None:
    """tshark reads each frame's channel from the TAP header: a joining meter sends a beacon
    request on BDB's primary channels (11, 15, 20, 25), then, finding no network there, on
    the secondary ones, and associates on the channel the hub's beacon came from. With a
    wrong code it keeps steering, with back-off, until the 8.11 window closes (0x8F48 then)."""
    result, files = _replayed("wrong-code-then-right")
    fields = ("frame.time_epoch", "wpan-tap.ch_num", "wpan.frame_type", "wpan.cmd", "_ws.malformed")
    args = ["tshark", "-r", "-", "-T", "fields"]
    for field in fields:
        args += ["-e", field]
    env = {**os.environ, "HOME": str(tshark_home), "XDG_CONFIG_HOME": str(tshark_home / ".config")}
    wrong, right = sorted(n for n in files if n.startswith("pcap/join-"))
    rows = {}
    for name in (wrong, right):
        capture = atomic_write(tmp_path / name, files[name], parents=True)
        out = subprocess.run([*args[:2], str(capture), *args[3:]], capture_output=True, text=True,
                             check=True, env=env).stdout
        rows[name] = [dict(zip(fields, line.split("\t"))) for line in out.splitlines()]
    channel = result.joins.records[0].report.channel
    for name in (wrong, right):
        assert not any(r["_ws.malformed"] for r in rows[name])
        requests = [int(r["wpan-tap.ch_num"]) for r in rows[name] if r["wpan.cmd"] == "0x07"]
        primary, secondary = [11, 15, 20, 25], [c for c in range(11, 27) if c not in (11, 15, 20, 25)]
        first_scan = primary if channel in primary else primary + secondary
        assert requests[:len(first_scan)] == first_scan
        beacons = {int(r["wpan-tap.ch_num"]) for r in rows[name] if r["wpan.frame_type"] == "0x0000"}
        associations = {int(r["wpan-tap.ch_num"]) for r in rows[name] if r["wpan.cmd"] == "0x01"}
        assert beacons == associations == {channel}
    association_times = [float(r["frame.time_epoch"]) for r in rows[wrong] if r["wpan.cmd"] == "0x01"]
    assert len(association_times) > 4  # more than one BDB steering (4 attempts)
    window = 300.0  # the JoinTimePeriod of the 8.11
    assert association_times[-1] - association_times[0] > window - 60.0 - 30.0
    [failed] = [r for r in result.requests if "8F48" in r.summary]
    assert "8F49" not in failed.summary


def test_a_street_tells_each_premises_on_its_own_han(tshark_home: Path, tmp_path: Path) -> None:
    """Three premises, each its own Comms Hub, meters, story and folder; the terminal marks
    each line with its premises; tshark reads one PAN per premises capture, a different one
    at each (neighbouring HANs)."""
    [name] = STREETS
    out = tmp_path / "street"
    result = CliRunner().invoke(main, ["replay", name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    folders = [p["folder"] for p in summary["premises"]]
    assert summary["ok"] and folders == ["no-2", "no-4", "no-6"]
    assert all(line.startswith(("No. 2 ", "No. 4 ", "No. 6 ")) for line in result.output.splitlines()[1:]
               if line[:4] == "No. ")
    assert {line.split()[2] for line in result.output.splitlines() if line.startswith("No. ")} >= {"2024-01-08"}
    pans = []
    for folder in folders:
        assert json.loads((out / folder / "summary.json").read_text())["ok"]
        fields = subprocess.run(["tshark", "-r", str(out / folder / "pcap" / "premises.pcap"), "-T", "fields",
                                 "-e", "wpan.dst_pan"], capture_output=True, text=True, check=True,
                                env={**os.environ, "HOME": str(tshark_home)}).stdout.split()
        found = {f for f in fields if f != "0xffff"}
        assert len(found) == 1  # one HAN per premises
        pans += found
    assert len(set(pans)) == 3 and [f"0x{int(p, 16):04X}" for p in pans] == [p["pan_id"] for p in summary["premises"]]


def _street_premises(n: int, name: str) -> str:
    return f"""\
  - name: {name}
    comms_hub: {{chf: 00-DB-12-34-56-78-0{n}-A2, gpf: 00-DB-12-34-56-78-0{n}-A3}}
    devices:
      - {{name: ESME, id: 00-DB-12-34-56-78-0{n}-A0, type: ESME, install_code: generate}}
    timeline: [{{wd: 0, event: install, by: a}}, {{wd: 30, event: wan}}]
    expect: {{commissioned: {{ESME: 30}}}}
"""


STREET = """\
title: street
start: 2024-01-08
parties:
  - {name: a, id: 90-B3-D5-1F-30-01-00-00, fuels: [electricity, gas]}
premises:
""" + _street_premises(1, "one") + _street_premises(2, "two")
BAD_STREETS = [
    ("{name: ESME, id: 00-DB-12-34-56-78-02-A0", "{name: ESME, id: 00-DB-12-34-56-78-01-A0",
     ":15: premises[1].devices[0].id: 00-DB-12-34-56-78-01-A0 is already at another premises"),  # a meter at two
    ("gpf: 00-DB-12-34-56-78-02-A3}", "gpf: 00-DB-12-34-56-78-01-A0}",
     ":13: premises[1].comms_hub.gpf: 00-DB-12-34-56-78-01-A0 is already a device at another premises"),
    ("  - name: two", "  - name: One", ":12: premises[1].name: 'One' appears twice"),
    ("gpf: 00-DB-12-34-56-78-02-A3}", "gpf: 00-DB-12-34-56-78-02-A2}",  # issue 19: said "another premises"
     ":13: premises[1].comms_hub.gpf: 00-DB-12-34-56-78-02-A2 is the CHF's ID too"),
    ("    timeline: [{wd: 0, event: install, by: a}, {wd: 30, event: wan}]\n    expect: {commissioned: {ESME: 30}}\n"
     "  - name: two", "    timeline: [{wd: 0, event: install, by: a, devices: [GSME]}]\n    expect: {joins: 0}\n"
     "  - name: two", ":10: premises[0].timeline[0].devices[0]: unknown device 'GSME'"),  # a meter it lacks
    ("{wd: 30, event: wan}]\n    expect: {commissioned: {ESME: 30}}\n  - name: two",
     "{wd: 30, event: wan}]\n    expect: {commissioned: {ESME: 10}}\n  - name: two",
     ":11: premises[0].expect.commissioned.ESME: ESME Commissioned by WD 10, but the SM WAN arrives only on WD 30"),
]


@pytest.mark.parametrize("old, new, message", BAD_STREETS)
def test_bad_streets_fail_with_file_line_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in STREET
    out_dir = tmp_path / "out"
    path = _scenario(tmp_path, STREET.replace(old, new, 1))
    out = CliRunner().invoke(main, ["replay", str(path), "--out", str(out_dir)])
    assert out.exit_code == 1 and message in out.output and str(path) in out.output, out.output
    assert out.output.count("\n") == 1 and not out_dir.exists()


def test_an_unanswered_request_is_chased_and_escalated_at_the_sla_and_the_escalation_gets_the_code(
        tmp_path: Path) -> None:
    """The fault: after an SLA breach the site was stranded at once. Now the requester
    escalates at the SLA's end (10 WD) and, the escalation answered within 2 WD (pinned:
    p_escalated 1), gets the code and commissions when the WAN comes."""
    text = GOOD.replace("reply_probability: 1.0", "reply_probability: 0.0, p_escalated: 1.0, escalation_wd: 2")
    result = replay(load_scenario(_scenario(tmp_path, text)))
    told = [(result.wd(e.time), e.event) for e in result.entries if e.event.startswith("install code:")]
    assert told == [(5, "install code: request sent to the installing supplier (supplier 0)"),
                    (15, "install code: SLA breached: chased and escalated"),
                    (17, "install code: install code received")]
    assert all(c.ok for c in report.checks(result)) and not result.replaced


def test_a_lost_reply_is_chased_at_the_sla_not_given_up_before_it() -> None:
    """The fault: in cos-reply-lost the requester gave up at WD 22, before its SLA ended at
    WD 30. It now hears nothing, escalates at WD 30 and gives up only at its give-up day."""
    result, _ = _replayed("cos-reply-lost")
    told = [(result.wd(e.time), e.event) for e in result.entries if e.event.startswith("install code:")]
    assert told[1:] == [(30, "install code: SLA breached: chased and escalated"),
                        (40, "install code: no reply: the requester gives up")]
