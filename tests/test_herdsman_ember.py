"""Zigbee2MQTT's library, zigbee-herdsman (npm, unmodified, ``ember`` adapter), drives the
virtual EmberZNet stick that ``hansim dongle virtual --type ezsp --tcp PORT`` serves.

The same steps as the Z-Stack test (tests/js/herdsman/drive.js, the same pinned
herdsman): herdsman's own ASH and EZSP code resets the NCP, negotiates EZSP v13, forms,
takes the meter's install code, permits, interviews, reads, binds, configures reporting,
reads the network maps and writes its backup; then starts again on the formed stick, and
restores its backup onto an empty one. The test reads only what herdsman reports.
"""

from __future__ import annotations

import json

import pytest
from test_herdsman_zstack import NETWORK_KEY, Stick, _node, assert_meter_steps, drive


@pytest.fixture(scope="module")
def node() -> str:
    return _node()


def test_herdsman_ember_forms_joins_interviews_reads_reports_maps_and_backs_up(node, tmp_path):
    stick = Stick(seed=3, kind="ezsp")
    try:
        steps = drive(node, stick, tmp_path, "join", adapter="ember")
        again = drive(node, stick, tmp_path, "restart", adapter="ember")
    finally:
        output = stick.output()
    assert "EmberZNet" in output and "joined as" in output
    assert steps["start"]["result"] == "reset"  # a fresh stick: herdsman formed the network
    coordinator = steps["network"]["coordinator"]
    assert coordinator.startswith("0x000b57")  # a Silicon Labs EUI-64
    assert_meter_steps(steps, coordinator)
    assert steps["routingTable"]["routes"][0]["status"] == "ACTIVE"
    assert again["start"]["result"] == "resumed" and again["network"] == steps["network"]
    assert again["readMetering"]["divisor"] == 1000

    backup = json.loads((tmp_path / "coordinator_backup.json").read_text())
    assert backup["metadata"]["internal"]["ezspVersion"] == 13
    assert backup["network_key"]["key"] == NETWORK_KEY
    assert backup["network_key"]["frame_counter"] > 0  # the stick counts what it secures
    assert len(bytes.fromhex(backup["stack_specific"]["ezsp"]["hashed_tclk"])) == 16

    # herdsman's ember adapter backs up no devices (it exports link keys only when
    # ALLOW_APP_KEY_REQUESTS is set, and then hashed): a restored chip learns nothing of
    # the meter from it, and reaching routers is left to route discovery on the air.
    assert backup["devices"] == []
    # An empty stick (another chip) takes herdsman's backup: the same network comes up
    # (herdsman's ember adapter keeps the new chip's own EUI-64).
    fresh = Stick(seed=11, kind="ezsp")
    try:
        restored = drive(node, fresh, tmp_path, "network", adapter="ember")
    finally:
        fresh.output()
    assert restored["start"]["result"] == "restored"
    assert {**restored["network"], "coordinator": coordinator} == steps["network"]

