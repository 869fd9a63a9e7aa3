"""``hansim duis run --radio SPEC``: the DCC model with its HAN join on a stick (the
virtual Z-Stack stick on TCP, driven by unmodified zigpy-znp inside the command).

Independent sides: zigpy-znp, the DCC's DUIS templates, and the DUIS XSD (alerts
written by the run validate).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("zigpy_znp")

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.duis import schema as duis_schema  # noqa: E402
from sim.realtime import AsyncioBridge  # noqa: E402
from duis_support import schema_path, template, xsd  # noqa: E402
from _radio_support import (ESME, OTHER_CODE, TEMPLATE_CODE, ccs01, make_stick,  # noqa: E402
                            settle)


@pytest.fixture
def stick_on_tcp():
    """Start a virtual stick holding an ESME with the given code; yield its spec."""
    bridge = AsyncioBridge()
    sticks = []

    def start(code) -> tuple[str, object]:
        emulator = ZStackEmulator(meters=(EmulatedMeter.parse(f"{ESME}={code.reveal()}"),),
                                  seed=3, join_delay=0.1)
        stick = bridge.call(make_stick(emulator))
        sticks.append(stick)
        return f"znp:{bridge.call(stick.open_tcp())}", stick

    yield bridge, start
    try:
        for stick in sticks:
            bridge.call(stick.close(), timeout=10)
    finally:
        bridge.close()
        settle()


def _requests(tmp_path: Path, window: int) -> list[str]:
    paths = []
    for name, data in (("12.2.xml", template("12.2_")), ("8.14.1.xml", template("8.14.1_")),
                       ("8.11.xml", ccs01(window))):
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    return paths


def _run(args: list[str]):
    return CliRunner().invoke(main, ["duis", "run", "--schema", str(schema_path()), *args])


def test_duis_run_with_a_stick_writes_the_0x8f49_alert(tmp_path, stick_on_tcp) -> None:
    _, start = stick_on_tcp
    spec, _ = start(TEMPLATE_CODE)
    out = tmp_path / "out"
    result = _run([*_requests(tmp_path, 3), "--radio", spec, "--out", str(out), "--no-sign"])
    assert result.exit_code == 0, result.output
    assert "joined through radio" in result.output
    [alert] = sorted(out.glob("*_8.11_alert_8F49.xml"))
    assert not duis_schema.check_bytes(xsd(), alert.read_bytes())


def test_stick_pulled_mid_run_one_line_and_files_so_far(tmp_path, stick_on_tcp) -> None:
    bridge, start = stick_on_tcp
    spec, stick = start(OTHER_CODE)  # no join: the window stays open until the stick goes

    async def pull_once_permitting() -> None:
        while not stick.emulator.permitting:  # the run has reached the 8.11 join
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await stick.close()

    bridge.loop.call_soon_threadsafe(lambda: bridge.loop.create_task(pull_once_permitting()))
    out = tmp_path / "out"
    result = _run([*_requests(tmp_path, 20), "--radio", spec, "--out", str(out), "--no-sign"])
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "disconnected" in error and "8.11.xml" in error and "2 requests done" in error
    assert "Traceback" not in result.output
    written = sorted(p.name for p in out.iterdir())
    assert any("_12.2_" in name for name in written) and any("_8.14.1_" in name for name in written)
    assert not any("_8.11_" in name for name in written)


def test_bad_radio_spec_is_one_line_and_writes_nothing(tmp_path) -> None:
    out = tmp_path / "out"
    result = _run([*_requests(tmp_path, 3), "--radio", "zigate:/dev/null", "--out", str(out)])
    assert result.exit_code == 1 and "KIND:PATH" in result.output
    assert not out.exists()


def test_missing_stick_is_one_line(tmp_path) -> None:
    result = _run([*_requests(tmp_path, 3), "--radio", f"znp:{tmp_path}/ttyACM9",
                   "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --radio: radio znp:") and "cannot start" in result.output
    assert result.output.count("\n") == 1


def test_duis_run_on_the_simulated_air_radio(tmp_path) -> None:
    out = tmp_path / "out"
    result = _run([*_requests(tmp_path, 3), "--radio", "air", "--out", str(out), "--no-sign"])
    assert result.exit_code == 0, result.output
    assert "joined through radio" in result.output
    assert sorted(out.glob("*_8.11_alert_8F49.xml"))
