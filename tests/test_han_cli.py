"""``hansim han join``: exit codes, a timeline without secrets, atomic pcap and key files."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from scapy.utils import PcapReader

from han.installcode import InstallCode
from sim.cli import main

CODE = "83FED3407A939723A5C639B26916D505C3B5"
OTHER = "00112233445566778899AABBCCDDEEFF"


def run(*args: str):
    return CliRunner().invoke(main, ["han", "join", *args])


def _secrets(code: str, keys_file: Path | None = None) -> list[str]:
    parsed = InstallCode.parse(code)
    found = [parsed.reveal(), parsed.reveal(with_crc=False), bytes(parsed.link_key()).hex()]
    if keys_file is not None:
        found += [line.split('"')[1] for line in keys_file.read_text().splitlines()]
    return [s.upper() for s in found]


def test_join_exits_0_with_a_timeline_and_no_secrets(tmp_path: Path) -> None:
    pcap, keys = tmp_path / "join.pcap", tmp_path / "keys"
    result = run("--install-code", CODE, "--pcap", str(pcap), "--keys-out", str(keys))
    assert result.exit_code == 0, result.output
    assert "ALERT 0x8F12" in result.output and "ALERT 0x8F49" in result.output
    assert "Device_annce" in result.output and "JOINED with the install code key" in result.output
    network_key = keys.read_text().splitlines()[1].split('"')[1]
    assert keys.read_text().splitlines()[0].startswith('"66B6900981E1EE3CA4206B6B861C02BB","Normal"')
    for secret in _secrets(CODE, keys):
        assert secret not in result.output.upper()
    on_air = pcap.read_bytes()
    assert bytes.fromhex(network_key) not in on_air and bytes.fromhex(_secrets(CODE)[2]) not in on_air
    with PcapReader(str(pcap)) as reader:
        assert reader.linktype == 195
        assert f"{len(list(reader))} frames on air" in result.output


def test_wrong_meter_code_exits_3_with_the_reason(tmp_path: Path) -> None:
    result = run("--install-code", CODE, "--device-install-code", OTHER, "--pcap", str(tmp_path / "x.pcap"))
    assert result.exit_code == 3
    assert "NOT JOINED: wrong link key (28 attempt(s)" in result.output  # steering until the window closed
    assert "ALERT 0x8F48" in result.output and "Device_annce" not in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "x.pcap"]  # no key file unless asked


def test_closed_window_exits_3(tmp_path: Path) -> None:
    result = run("--install-code", CODE, "--window", "5", "--join-at", "6", "--pcap", str(tmp_path / "x.pcap"))
    assert result.exit_code == 3 and "NOT JOINED: join window closed" in result.output


def test_generated_code_is_seeded_and_output_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name, seed in (("a", "4"), ("b", "4"), ("c", "5")):
        result = run("--install-code", "generate", "--seed", seed, "--loss", "0.1", "--tap",
                     "--pcap", str(tmp_path / f"{name}.pcap"))
        assert result.exit_code == 0, result.output
        outputs.append(((tmp_path / f"{name}.pcap").read_bytes(), result.output))
    assert outputs[0] == outputs[1] and outputs[0][0] != outputs[2][0]
    with PcapReader(str(tmp_path / "a.pcap")) as reader:
        assert reader.linktype == 283


def test_bad_input_exits_1_with_one_line_and_leaves_files_alone(tmp_path: Path) -> None:
    pcap = tmp_path / "old.pcap"
    pcap.write_bytes(b"keep me")
    cases = [
        (["--install-code", CODE[:-1]], "--install-code: install code has an odd number"),
        (["--install-code", CODE, "--device-install-code", "XYZ"], "--device-install-code: install code has non-hex"),
        (["--install-code", CODE, "--window", "0"], "SRV 8.11: JoinTimePeriod 0 is outside 1..3600"),
        (["--install-code", CODE, "--loss", "1"], "--loss: 1.0 is not a probability below 1"),
        (["--install-code", CODE, "--loss", "nan"], "--loss: nan is not a probability"),
        (["--install-code", CODE, "--join-at", "1e309"], "--join-at: inf is not a time from 0 to 3600"),
        (["--install-code", CODE, "--join-at", "-1"], "--join-at: -1.0 is not a time"),
        (["--install-code", CODE, "--seed", "-1"], "--seed: -1 is negative"),
    ]
    for args, message in cases:
        result = run(*args, "--pcap", str(pcap))
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"Error: {message}")
        assert pcap.read_bytes() == b"keep me"
    unwritable = run("--install-code", CODE, "--pcap", str(pcap / "inside-a-file.pcap"))
    assert unwritable.exit_code == 1 and "is a file, not a folder" in unwritable.output
    assert "Traceback" not in unwritable.output and len(unwritable.output.strip().splitlines()) == 1
    keys_elsewhere = run("--install-code", CODE, "--pcap", str(tmp_path / "new.pcap"),
                         "--keys-out", str(tmp_path / "missing" / "keys"))
    assert keys_elsewhere.exit_code == 1 and "missing does not exist" in keys_elsewhere.output
    assert list(tmp_path.iterdir()) == [pcap] and pcap.read_bytes() == b"keep me"
