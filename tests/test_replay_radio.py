"""Scenario replay with the Comms Hub's HAN radio named by the scenario or ``--radio``:
the simulated air behind the radio interface, and the virtual Z-Stack stick driven by
unmodified zigpy-znp (independent side: zigpy-znp joins the meters the stick emulates)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.replay.scenario import load_scenario, locate
from sim.yamlfile import InputFileError

pytest.importorskip("zigpy_znp")

from _radio_support import OTHER_CODE, make_stick, settle  # noqa: E402

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from sim.realtime import AsyncioBridge  # noqa: E402


def _replay(tmp_path: Path, *args: str) -> tuple[int, str, dict]:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["replay", "reactive-wan", "--out", str(out), *args])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    return result.exit_code, result.output, summary


def test_replay_through_the_radio_interface_on_the_simulated_air(tmp_path: Path) -> None:
    code, output, summary = _replay(tmp_path, "--radio", "air")
    assert code == 0, output
    assert summary["ok"] and [j["joined"] for j in summary["joins"]] == [True, True, True]
    assert all("through radio" in j["reason"] and j["frames"] is None for j in summary["joins"])
    assert not (tmp_path / "out" / "pcap").exists()  # joins on a radio are not captured here


def test_replay_on_the_virtual_stick_through_zigpy_znp(tmp_path: Path) -> None:
    scenario = load_scenario(locate("reactive-wan"))
    meters = tuple(EmulatedMeter.parse(f"{d.device_id}={d.install_code.reveal()}")
                   for d in scenario.devices.values())
    bridge = AsyncioBridge()
    stick = bridge.call(make_stick(ZStackEmulator(meters=meters, seed=3, join_delay=0.1)))
    try:
        address = bridge.call(stick.open_tcp())
        code, output, summary = _replay(tmp_path, "--radio", f"znp:{address}")
    finally:
        bridge.call(stick.close(), timeout=10)
        bridge.close()
        settle()
    assert code == 0, output
    assert [j["device"] for j in summary["joins"] if j["joined"]] == [d.device_id for d in
                                                                       scenario.devices.values()]
    assert summary["devices"]["ESME"]["status"] == "Commissioned"


def test_a_bad_radio_is_one_located_error(tmp_path: Path) -> None:
    text = locate("reactive-wan").read_text()
    assert "comms_hub: {" in text  # the bundled scenario's flow mapping, extended below
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("comms_hub: {", "comms_hub: {radio: 'usb:/dev/ttyACM0', ", 1))
    with pytest.raises(InputFileError, match=r"bad.yaml:\d+: comms_hub.radio: radio 'usb:/dev/ttyACM0'"):
        load_scenario(bad)
    code, output, _ = _replay(tmp_path, "--radio", "usb:/dev/ttyACM0")
    assert code == 1 and output.count("\n") <= 2 and "expected KIND:PATH" in output
    assert not (tmp_path / "out").exists()


def test_stick_pulled_mid_replay_one_line_and_earlier_results_kept(tmp_path: Path) -> None:
    """issue 19: the stick goes while a join window is open: one line, exit 1, and the
    results already in --out (replaced only with --overwrite) are left exactly as they were."""
    scenario = load_scenario(locate("reactive-wan"))
    meters = tuple(EmulatedMeter.parse(f"{d.device_id}={OTHER_CODE.reveal()}")  # no join: the window stays open
                   for d in scenario.devices.values())
    out = tmp_path / "out"
    code, output, _ = _replay(tmp_path, "--radio", "air")
    assert code == 0, output
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bridge = AsyncioBridge()
    stick = bridge.call(make_stick(ZStackEmulator(meters=meters, seed=3, join_delay=0.1)))

    async def pull_once_permitting() -> None:
        while not stick.emulator.permitting:  # the replay has reached its first 8.11 join
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await stick.close()

    try:
        address = bridge.call(stick.open_tcp())
        bridge.loop.call_soon_threadsafe(lambda: bridge.loop.create_task(pull_once_permitting()))
        code, output, _ = _replay(tmp_path, "--radio", f"znp:{address}", "--overwrite")
    finally:
        bridge.call(stick.close(), timeout=10)
        bridge.close()
        settle()
    assert code == 1 and "disconnected" in output and "during the HAN join of 00-DB-12-34-56-78-90-A0" in output
    assert output.count("\n") == 1 and output.startswith("Error: ") and "Traceback" not in output, output
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # nothing half written, nothing already there lost
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
