"""``hansim dongle``: list, probe, virtual (a real subprocess driven by zigpy-znp), sniff."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest
import zigpy.util
from click.testing import CliRunner
from scapy.utils import rdpcap
from serial.tools.list_ports_common import ListPortInfo

from sim.cli import main
from test_nrf_sniffer import FRAMES, FakeNrfSniffer, tap_frames

ROOT = Path(__file__).resolve().parents[1]
CODE = "83FED3407A939723A5C639B26916D505C3B5"
EUI = "00-DB-12-34-56-78-90-A0"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def fake_port(device: str, vid: int, pid: int, product: str, maker: str) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.product, info.manufacturer = vid, pid, product, maker
    return info


def test_list_guesses_radios_from_vid_pid_and_product(monkeypatch) -> None:
    ports = [
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60, "Sonoff Zigbee 3.0 USB Dongle Plus", "ITead"),
        fake_port("/dev/ttyACM0", 0x1CF1, 0x0030, "ConBee II", "dresden elektronik"),
        fake_port("/dev/ttyACM1", 0x1234, 0x5678, "Mystery", "Nobody"),
    ]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    result = run("dongle", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["PORT", "VID:PID"]
    row = {line.split()[0]: line for line in lines[1:]}
    assert "10c4:ea60" in row["/dev/ttyUSB0"] and "CC2652P (znp)" in row["/dev/ttyUSB0"]
    assert "ConBee II" in row["/dev/ttyACM0"] and "(deconz)" in row["/dev/ttyACM0"]
    assert row["/dev/ttyACM1"].rstrip().endswith("-")


def _start_virtual(*extra: str) -> tuple[subprocess.Popen, str, queue.Queue]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "dongle", "virtual",
         "--tcp", "0", "--for", "60", "--join-delay", "0.1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = proc.stdout.readline()
    assert " on socket://127.0.0.1:" in line, line + proc.stderr.read()
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    return proc, line.rsplit(" on ", 1)[1].strip(), lines


def _read_lines_until(lines: queue.Queue, needle: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            break
    return seen


async def _form_and_permit(path: str, window: int) -> list:
    import zigpy_znp.zigbee.application as znp_app

    app = await znp_app.ControllerApplication.new({
        "device": {"path": path}, "database_path": None, "ota": {"enabled": False},
        "network": {"channel": 20}, "backup_enabled": False, "topology_scan_enabled": False,
        "znp_config": {"skip_bootloader": False}}, auto_form=True)
    joined: list = []

    class Listener:
        def device_joined(self, device) -> None:
            joined.append(device.ieee)

    app.add_listener(Listener())
    key = zigpy.util.convert_install_code(bytes.fromhex(CODE))
    from han.znp.meters import parse_eui64
    await app.permit_with_link_key(parse_eui64(EUI), key, window)
    await app.shutdown()
    return joined


def test_virtual_stick_subprocess_probe_then_join_through_zigpy_znp(tmp_path: Path) -> None:
    pytest.importorskip("zigpy_znp")
    captures = tmp_path / "air"
    proc, path, lines = _start_virtual("--meter", f"{EUI}={CODE}", "--frame-level",
                                       "--capture", str(captures))
    try:
        header = _read_lines_until(lines, "waits for a permit", 5)
        fresh = run("dongle", "probe", path, "--timeout", "3")
        assert fresh.exit_code == 0, fresh.output
        assert "Z-Stack" in fresh.output and "none formed" in fresh.output
        joined = asyncio.run(_form_and_permit(path, window=1))
        assert [str(ieee) for ieee in joined] == ["00:db:12:34:56:78:90:a0"]
        told = _read_lines_until(lines, "joined as", 5)
        assert any("meter 00:db:12:34:56:78:90:a0 joined as 0x" in line for line in told), told
        formed = run("dongle", "probe", path, "--timeout", "3")
        assert "network: channel 20, PAN 0x" in formed.output
        [pcap] = captures.iterdir()
        assert pcap.name == "00-DB-12-34-56-78-90-A0-001.pcap"
        assert len(rdpcap(str(pcap))) >= 10  # the join on the simulated air, frame by frame
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        err = proc.stderr.read()  # stdout belongs to the reader thread
    rest = _read_lines_until(lines, "unplugged", 5)
    assert proc.returncode == 0, err
    assert "virtual stick unplugged" in rest[-1]
    assert CODE not in "".join(header + told + rest) + err  # install codes never printed


def test_virtual_rejects_a_bad_meter_in_one_line() -> None:
    result = run("dongle", "virtual", "--meter", f"{EUI}={CODE[:-1]}6", "--for", "0")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "CRC mismatch" in line and EUI in line and CODE[:-4] not in line


def test_probe_silent_port_says_nothing_answered() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        result = run("dongle", "probe", os.ttyname(slave), "--timeout", "0.5")
    finally:
        os.close(master)
        os.close(slave)
    assert result.exit_code == 1
    assert "nothing answered as an nRF sniffer, ZNP, EZSP or deCONZ" in result.output


def test_sniff_writes_pcap_and_reports_a_vanished_sniffer(tmp_path: Path) -> None:
    fake = FakeNrfSniffer(FRAMES, disappear=True)
    fake.start()
    out = tmp_path / "cap.pcap"
    try:
        result = run("dongle", "sniff", fake.path, "--channel", "25", "--out", str(out))
    finally:
        fake.close()
    assert result.exit_code == 1
    assert sum(line.startswith("rssi") for line in result.output.splitlines()) == len(FRAMES)
    assert f"wrote {len(FRAMES)} frames to {out}" in result.output.splitlines()[-1]
    assert tap_frames(out) == [psdu[:-2] for psdu in FRAMES]
    assert fake.commands[:3] == [b"sleep", b"channel 25", b"receive"]


def test_sniff_missing_port_one_line_no_file(tmp_path: Path) -> None:
    result = run("dongle", "sniff", "/dev/nonexistent", "--out", str(tmp_path / "x.pcap"))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "cannot open sniffer port /dev/nonexistent" in result.output
    assert list(tmp_path.iterdir()) == []


def test_virtual_on_a_busy_tcp_port_is_one_clear_error() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("dongle", "virtual", "--tcp", str(port), "--for", "1")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: cannot open the virtual stick") and "in use" in line


def test_probe_recognises_an_nrf_sniffer() -> None:
    fake = FakeNrfSniffer([], disappear=False)
    fake.start()
    try:
        result = run("dongle", "probe", fake.path, "--timeout", "1")
    finally:
        fake.close()
    assert result.exit_code == 0, result.output
    assert "nRF Sniffer for 802.15.4" in result.output


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_capture_of_a_frame_level_join_decrypts_in_wireshark(tmp_path: Path) -> None:
    from han.znp.meters import EmulatedMeter, NetworkParameters, parse_eui64
    from sim.cli.dongle import _frame_level_joiner

    meter = EmulatedMeter.parse(f"{EUI}={CODE}")
    joiner = _frame_level_joiner(seed=3, capture=tmp_path / "air")
    network = NetworkParameters(15, 0x1A62, parse_eui64("0011223344556677"),
                                parse_eui64("00124B0011223344"))
    assert joiner(network, meter, meter.link_key).joined
    [pcap] = (tmp_path / "air").iterdir()
    home = tmp_path / "home"
    home.mkdir()
    key = meter.link_key.hex().upper()
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "zbee_aps.cmd.key",
         "-o", f'uat:zigbee_pc_keys:"{key}","Normal","meter"'],
        capture_output=True, text=True, check=True, env={**os.environ, "HOME": str(home)})
    [network_key] = [line for line in out.stdout.split() if line]
    assert network_key == joiner.reports[0][1].network_key.hex()


def test_capture_into_a_file_is_one_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run("dongle", "virtual", "--frame-level", "--capture", str(not_a_dir / "air"),
                 "--for", "0")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: --capture") and "Not a directory" in line
