"""Wireshark decodes our captures: given only the install-code link key it finds the network key
in the Transport Key and decrypts everything after it; without it, it cannot; with the wrong
code on the meter, no Device_annce is ever on air. Both link types (195 and 283 TAP) open.
The CHF's 0x8F12 names the Extended PAN ID its beacons carry."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from han.pcap import pcap_bytes, zigbee_key_rows
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.han_time.frame_join import FrameLevelJoin
from sim.output import atomic_write
from duis_support import GPF, xsd
from gbcs_support import parse_all
from han_support import code, join
from test_gbcs_stories import template

pytestmark = pytest.mark.tshark
TSHARK = shutil.which("tshark")
FIELDS = ("frame.number", "wpan.src64", "zbee_aps.cmd.key", "zbee_aps.zdp_cluster",
          "zbee_aps.cluster", "zbee_zcl.cmd.id", "zbee_nwk.src", "zbee_sec.encrypted_payload",
          "wpan-tap.ch_num", "wpan.fcs_ok", "_ws.malformed")


@pytest.fixture(scope="module")
def tshark(tmp_path_factory):
    if TSHARK is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tshark is not installed but CI=true: .ci/install must install it")
        pytest.skip("tshark not installed")
    home = tmp_path_factory.mktemp("home")  # no user keys or preferences can leak in

    def run(pcap: Path, *options: str, fields: tuple[str, ...] = FIELDS) -> list[dict[str, str]]:
        args = [TSHARK, "-r", str(pcap), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
        for field in fields:
            args += ["-e", field]
        out = subprocess.run(args + list(options), capture_output=True, text=True, check=True,
                             env={**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
        return [dict(zip(fields, line.split("\t"))) for line in out.stdout.splitlines()]

    run.home = home
    return run


def _key_option(key: bytes) -> list[str]:
    return ["-o", f'uat:zigbee_pc_keys:"{key.hex().upper()}","Normal","test"']


def test_link_key_alone_decrypts_the_join(tshark, tmp_path: Path) -> None:
    secret = code(21)
    report = join(secret, seed=5)
    pcap = tmp_path / "join.pcap"
    atomic_write(pcap, pcap_bytes((f.time, f.raw) for f in report.frames), parents=True)

    rows = tshark(pcap, *_key_option(bytes(secret.link_key())))
    assert len(rows) == len(report.frames)
    assert [r["zbee_aps.cmd.key"] for r in rows if r["zbee_aps.cmd.key"]] == [report.network_key.hex()]
    assert [r["zbee_aps.zdp_cluster"] for r in rows if r["zbee_aps.zdp_cluster"]] == ["0x0013"]
    zcl = [(r["zbee_aps.cluster"], r["zbee_zcl.cmd.id"]) for r in rows if r["zbee_zcl.cmd.id"]]
    assert zcl == [("0x0702", "0x00"), ("0x0702", "0x01")]  # Read Attributes and its response
    assert not any(r["zbee_sec.encrypted_payload"] or r["_ws.malformed"] for r in rows)
    assert {r["wpan.fcs_ok"] for r in rows} == {"1"}

    blind = tshark(pcap)
    assert not any(r["zbee_aps.cmd.key"] or r["zbee_aps.zdp_cluster"] or r["zbee_zcl.cmd.id"] for r in blind)
    assert sum(bool(r["zbee_sec.encrypted_payload"]) for r in blind) == 4  # TK, annce, read, response


def test_wrong_code_run_never_puts_a_device_annce_on_air(tshark, tmp_path: Path) -> None:
    chf_code = code(22)
    report = join(chf_code, code(23), seed=6)
    pcap, keys = tmp_path / "wrong.pcap", tshark.home / ".config" / "wireshark" / "zigbee_pc_keys"
    atomic_write(pcap, pcap_bytes(((f.time, f.raw) for f in report.frames), channel=report.channel),
                 parents=True)
    atomic_write(keys, zigbee_key_rows([(bytes(chf_code.link_key()), "CHF"), (report.network_key, "NWK")]),
                 parents=True)

    rows = tshark(pcap)  # keys from the key file hansim writes for --keys-out
    assert {(r["wpan-tap.ch_num"], r["wpan.fcs_ok"], r["_ws.malformed"]) for r in rows} == {
        (str(report.channel), "1", "")}  # TAP (link type 283) names the channel; every FCS good
    transport_keys = [r for r in rows if r["zbee_aps.cmd.key"]]
    # The CHF offered the key at every attempt it answered; the meter kept steering until the
    # window closed (an attempt after the close finds no network permitting joining).
    assert len(transport_keys) == sum(f == "no usable Transport Key" for f in report.attempt_failures) > 4
    assert all(r["zbee_aps.cmd.key"] == report.network_key.hex() for r in transport_keys)
    assert not any(r["zbee_aps.zdp_cluster"] for r in rows)
    assert {r["zbee_nwk.src"] for r in rows if r["zbee_nwk.src"]} == {"0x0000"}  # the meter sent no NWK frame


def test_8f12_names_the_pan_the_beacons_carry(tshark, tmp_path: Path) -> None:
    """The CHF's 0x8F12 (CS14) device log backup, as gbcs-parser reads it, names the
    Extended PAN ID the hub's trust centre beacons on the air, as tshark reads it from
    the frame-level join's capture."""
    premises = default_premises()
    joins = FrameLevelJoin(seed=3, radio_of={premises.hub.chf_id: GPF})
    dcc = Dcc(premises, xsd(), han_join=joins)
    for prefix in ("12.2_", "8.14.1_"):
        assert dcc.submit(template(prefix).read_bytes()).accepted
    add = dcc.submit(template("CCS01_").read_bytes())
    assert add.accepted and joins.reports
    payload = base64.b64decode(dict(add.documents)["alert_8F12"].body.gbcs_payload)
    message = parse_all({"8f12": payload})["8f12"]["message"]
    backup = message["Payload"]["children"]["DLMS Data Notification"]["children"]["Body"]
    named = backup["children"]["[0] Structure"]["children"]["[1] Octet String"]["hex"]
    report = joins.reports[-1]
    pcap = tmp_path / "join.pcap"
    atomic_write(pcap, pcap_bytes(((f.time, f.raw) for f in report.frames), channel=report.channel))
    beaconed = {r["zbee_beacon.ext_panid"] for r in tshark(pcap, fields=("zbee_beacon.ext_panid",))
                if r["zbee_beacon.ext_panid"]}
    octets = named.replace(" ", "")[4:].lower()  # after the DLMS tag and length
    assert beaconed == {":".join(octets[i:i + 2] for i in range(0, 16, 2))}
