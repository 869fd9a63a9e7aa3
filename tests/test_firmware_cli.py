"""``hansim firmware``: build, inspect, verify through click's runner; exit codes and reasons."""

import pytest
from _firmware_support import template_image
from click.testing import CliRunner
from zigpy.ota.image import OTAImageHeader

from sim.cli import main
from tests.gbcs_support import rtds_keystore


def run(*args: str):
    return CliRunner().invoke(main, ["firmware", *args])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fw")
    assert run("keygen", "-o", str(folder / "k.pem"), "--public", str(folder / "p.pem")).exit_code == 0
    run("keygen", "-o", str(folder / "other.pem"), "--public", str(folder / "other_pub.pem"))
    (folder / "payload.bin").write_bytes(bytes(range(256)) * 3)
    result = run("build", "--supplier-key", str(folder / "k.pem"), "--manufacturer-code", "7A01",
                 "--image-type", "0x0100", "--version", "00020100", "--payload",
                 str(folder / "payload.bin"), "--hardware-versions", "0100-01FF",
                 "--header-string", "NHW CH", "-o", str(folder / "img.bin"))
    assert result.exit_code == 0, result.output
    return folder


def test_build_writes_an_image_zigpy_reads_and_verify_accepts(files) -> None:
    header, _ = OTAImageHeader.deserialize((files / "img.bin").read_bytes())
    assert (header.manufacturer_id, header.image_type, header.file_version) == (0x7A01, 0x0100, 0x00020100)
    result = run("verify", str(files / "img.bin"), "--supplier-cert", str(files / "p.pem"))
    assert result.exit_code == 0 and result.output.startswith("valid: version 00020100")
    result = run("verify", str(files / "img.bin"), "--supplier-cert", str(files / "p.pem"),
                 "--running", "00020000")
    assert result.exit_code == 0


def test_keygen_private_key_is_owner_only(files) -> None:
    assert (files / "k.pem").stat().st_mode & 0o077 == 0


def test_inspect_prints_fields(files) -> None:
    result = run("inspect", str(files / "img.bin"))
    assert result.exit_code == 0
    assert "version               00020100" in result.output
    assert "hardware versions     0100-01FF" in result.output


@pytest.mark.parametrize(("mangle", "extra", "reason"), [
    (lambda d: d[:-10], [], "truncated"),
    (lambda d: d + b"x", [], "oversized"),
    (lambda d: b"\x00" + d[1:], [], "OTA file identifier"),
    (lambda d: d[:-1] + bytes([d[-1] ^ 1]), [], "does not verify"),
    (lambda d: d, ["--running", "00020100"], "not an allowed path"),
    (lambda d: d, ["--running", "00020000", "--hardware", "0200"], "hardware"),
])
def test_verify_exits_1_with_the_reason(files, tmp_path, mangle, extra, reason) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(mangle((files / "img.bin").read_bytes()))
    result = run("verify", str(bad), "--supplier-cert", str(files / "p.pem"), *extra)
    assert result.exit_code == 1
    assert reason in result.output and str(bad) in result.output
    assert "Traceback" not in result.output


def test_verify_with_another_suppliers_key_fails(files) -> None:
    result = run("verify", str(files / "img.bin"), "--supplier-cert", str(files / "other_pub.pem"))
    assert result.exit_code == 1 and "does not verify" in result.output


def test_verify_the_dcc_template_with_the_dcc_boxed_test_supplier(files, tmp_path) -> None:
    (tmp_path / "template.bin").write_bytes(template_image())
    assert run("inspect", str(tmp_path / "template.bin")).exit_code == 0
    boxed = rtds_keystore() / "90b3d51f30010000-ds.pem"
    result = run("verify", str(tmp_path / "template.bin"), "--supplier-cert", str(boxed))
    assert result.exit_code == 0 and result.output.startswith("valid: version ACDCACDC")
    result = run("verify", str(tmp_path / "template.bin"), "--supplier-cert", str(files / "p.pem"))
    assert result.exit_code == 1 and "another supplier" in result.output


def test_build_with_the_dcc_boxed_test_supplier_key(files, tmp_path) -> None:
    out = tmp_path / "boxed.bin"
    result = run("build", "--supplier-key", str(rtds_keystore() / "90b3d51f30010000-ds.key"),
                 "--manufacturer-code", "121D", "--image-type", "0", "--version", "ACDCACDD",
                 "--payload", str(files / "payload.bin"), "--force-replace", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "force replace         yes" in run("inspect", str(out)).output
    verified = run("verify", str(out), "--supplier-cert",
                   str(rtds_keystore() / "90b3d51f30010000-ds.pem"))
    assert verified.exit_code == 0, verified.output


def test_bad_key_and_missing_files_leave_no_output(files, tmp_path) -> None:
    out = tmp_path / "never.bin"
    result = run("build", "--supplier-key", str(files / "p.pem"), "--manufacturer-code", "1",
                 "--image-type", "1", "--version", "1", "--payload", str(files / "payload.bin"),
                 "-o", str(out))
    assert result.exit_code == 1 and "private key" in result.output
    result = run("build", "--supplier-key", str(files / "k.pem"), "--manufacturer-code", "1",
                 "--image-type", "1", "--version", "1", "--payload", str(tmp_path / "missing"),
                 "-o", str(out))
    assert result.exit_code == 1 and "cannot read" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["XYZ", "-1", "+ff", "1_0", " 1", "0x", "-0"])  # int(_, 16) took all but two
def test_bad_hex_is_a_usage_error(files, tmp_path, value: str) -> None:
    result = run("build", "--supplier-key", str(files / "k.pem"), "--manufacturer-code", value,
                 "--image-type", "1", "--version", "1", "--payload", str(files / "payload.bin"),
                 "-o", str(tmp_path / "x.bin"))
    assert result.exit_code == 1 and "not hexadecimal" in result.output

