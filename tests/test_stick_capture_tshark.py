"""One network seen the same everywhere: a frame-level join behind the virtual stick runs
on the network the stick formed, and Wireshark decrypts its capture with the keys from
the stick's own backup (zigpy-znp's), not with anything the simulation tells it.

Independent sides: zigpy-znp reads the stick's network and keys into its backup; tshark
parses the 802.15.4/ZigBee frames and decrypts them with those keys.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("zigpy_znp")

from test_han_tshark import tshark  # noqa: E402,F401 - the fixture
from test_znp_zigpy_network import ESME, joined_session  # noqa: E402

from han.pcap import pcap_bytes  # noqa: E402
from sim.output import atomic_write  # noqa: E402
from sim.han_time.stick_join import FrameLevelJoiner  # noqa: E402

pytestmark = pytest.mark.tshark
FIELDS = ("wpan.dst_pan", "zbee_beacon.ext_panid", "wpan.asoc.addr", "wpan-tap.ch_num",
          "zbee_aps.cmd.key", "zbee_aps.zdp_cluster", "zbee_zdp.nwk_addr", "zbee_zcl.cmd.id",
          "zbee_sec.encrypted_payload", "_ws.malformed")


def _fields(tshark, pcap: Path, *keys: bytes) -> list[dict[str, str]]:
    options = []
    for key in keys:
        options += ["-o", f'uat:zigbee_pc_keys:"{key.hex().upper()}","Normal","backup"']
    return tshark(pcap, *options, fields=FIELDS)


def test_capture_is_the_sticks_network_and_decrypts_with_its_backup(tshark, tmp_path) -> None:
    joiner = FrameLevelJoiner(seed=4)
    backup = asyncio.run(joined_session(
        lambda app: app.backups.create_backup(load_devices=True), seed=9, joiner=joiner))
    network = backup.network_info
    [(_, report)] = joiner.reports
    pcap = tmp_path / "stick-join.pcap"
    atomic_write(pcap, pcap_bytes(((f.time, f.raw) for f in report.frames),
                                  channel=report.channel))
    [link_key] = [k.key for k in network.key_table if k.partner_ieee == ESME.ieee]
    rows = _fields(tshark, pcap, bytes(network.network_key.key), bytes(link_key))

    assert {r["wpan.dst_pan"] for r in rows if r["wpan.dst_pan"]} - {"0xffff"} == \
        {f"0x{network.pan_id:04x}"}
    [ext_pan] = {r["zbee_beacon.ext_panid"] for r in rows if r["zbee_beacon.ext_panid"]}
    assert ext_pan == str(network.extended_pan_id)
    assert {r["wpan-tap.ch_num"] for r in rows} == {str(network.channel)}
    [short] = {r["wpan.asoc.addr"] for r in rows if r["wpan.asoc.addr"]}
    assert int(short, 16) == network.nwk_addresses[ESME.ieee]
    # The install-code key from the backup opens the Transport Key, which carries the
    # backup's network key; that key opens every NWK-secured frame (Device_annce, ZCL).
    assert {r["zbee_aps.cmd.key"] for r in rows if r["zbee_aps.cmd.key"]} == \
        {bytes(network.network_key.key).hex()}
    assert "0x0013" in {r["zbee_aps.zdp_cluster"] for r in rows}
    assert any(r["zbee_zcl.cmd.id"] for r in rows)
    assert not any(r["zbee_sec.encrypted_payload"] or r["_ws.malformed"] for r in rows)

