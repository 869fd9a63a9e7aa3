"""Zigbee2MQTT's library, zigbee-herdsman (npm, unmodified, zstack adapter), drives the
virtual Z-Stack stick that ``hansim dongle virtual --tcp PORT`` serves.

The independent side is zigbee-herdsman: its adapter starts, forms or restores the
network, takes the meter's install code, permits, interviews, reads, binds, configures
reporting, reads the network maps and writes its backup; the test only reads what
herdsman reports (tests/js/herdsman/drive.js prints one JSON line per step) and the
backup herdsman wrote, checked against zigpy's own install-code -> link-key conversion.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import zigpy.util

HERE = Path(__file__).parent / "js" / "herdsman"
METER = "00-DB-12-34-56-78-90-A0"
CODE = "83FED3407A939723A5C639B26916D505C3B5"  # ZigBee spec vector, code + CRC
NETWORK_KEY = "01030507090b0d0f00020406080a0c0d"  # drive.js's network options
RUN_TIMEOUT = 150


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "zigbee-herdsman").is_dir():
        pytest.skip("zigbee-herdsman not installed: run .ci/install (npm ci in tests/js/herdsman)")
    return node


class Stick:
    """``hansim dongle virtual --tcp 0`` in its own process, as a user runs it."""

    def __init__(self, seed: int, kind: str = "znp") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from sim.cli import main; main()", "dongle", "virtual",
             "--type", kind, "--tcp", "0", "--seed", str(seed), "--join-delay", "0.2",
             "--meter", f"{METER}={CODE}", "--for", str(RUN_TIMEOUT * 2)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line)
            if (found := re.search(r"socket://127\.0\.0\.1:(\d+)", line)) is not None:
                self.port = int(found.group(1))
                return
        raise AssertionError(f"the stick did not start: {''.join(self.lines)}")

    def output(self) -> str:
        self.process.terminate()
        rest, _ = self.process.communicate(timeout=10)
        return "".join(self.lines) + rest


def drive(node: str, stick: Stick, state: Path, mode: str,
          adapter: str = "zstack") -> dict[str, dict]:
    run = subprocess.run(
        [node, "drive.js", adapter, f"tcp://127.0.0.1:{stick.port}", str(state),
         METER, CODE, mode], cwd=HERE, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    steps = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            steps[record.pop("step")] = record
    assert run.returncode == 0 and "error" not in steps, (steps.get("error"), run.stderr[-3000:])
    return steps


@pytest.fixture(scope="module")
def node() -> str:
    return _node()


def test_herdsman_forms_joins_interviews_reads_reports_maps_and_backs_up(node, tmp_path):
    stick = Stick(seed=3)
    try:
        steps = drive(node, stick, tmp_path, "join")
        again = drive(node, stick, tmp_path, "restart")
    finally:
        output = stick.output()
    assert steps["start"]["result"] == "reset"  # a fresh stick: herdsman commissioned it
    coordinator = steps["network"]["coordinator"]
    assert_meter_steps(steps, coordinator)
    assert steps["routingTable"]["routes"][0]["status"] == "ACTIVE"
    assert "stop" in steps
    assert "joined as" in output
    # A second start on the formed stick resumes the same network.
    assert again["start"]["result"] == "resumed" and again["network"] == steps["network"]
    assert again["readMetering"]["divisor"] == 1000

    backup = json.loads((tmp_path / "coordinator_backup.json").read_text())
    assert backup["network_key"]["key"] == NETWORK_KEY
    assert backup["network_key"]["frame_counter"] > 0  # the stick counts what it secures
    [device] = backup["devices"]
    assert device["ieee_address"] == "00db1234567890a0"
    assert bytes.fromhex(device["link_key"]["key"]) == \
        bytes(zigpy.util.convert_install_code(bytes.fromhex(CODE)))

    # A new stick (another chip, empty NV) restored from herdsman's backup serves the meter.
    fresh = Stick(seed=11)
    try:
        restored = drive(node, fresh, tmp_path, "restart")
    finally:
        fresh.output()
    assert restored["start"]["result"] == "restored"
    assert restored["network"] == steps["network"]
    assert restored["readBasic"]["manufacturerName"] == "hansim"


def assert_meter_steps(steps: dict, coordinator: str) -> None:
    """What herdsman saw of the meter, whichever adapter drove the stick: the network it
    formed, the join, the interview, reads, bind, a report and the network map."""
    assert steps["network"]["panID"] == 0x1A62 and steps["network"]["channel"] == 15
    assert steps["deviceJoined"]["ieee"] == "0x00db1234567890a0"
    interview = steps["interview"]
    assert interview["endpoints"] == [{"id": 1, "profile": 0x0109, "deviceID": 0x0501,
                                       "inputClusters": [0x0000, 0x0702]}]
    assert (interview["manufacturerName"], interview["modelID"], interview["type"]) == \
        ("hansim", "ESME", "Router")
    assert steps["readBasic"]["modelId"] == "ESME"
    assert steps["readMetering"]["divisor"] == 1000
    assert steps["bind"]["binds"] == ["seMetering"]
    assert "currentSummDelivered" in steps["attributeReport"]["data"]
    assert steps["lqi"]["neighbors"] == [{"ieee": coordinator, "nwk": 0, "relationship": 0,
                                          "lqi": 255}]  # its parent, the coordinator
