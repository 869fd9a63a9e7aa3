"""``hansim installcode`` through click's runner and once through a real subprocess."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main

CODE = "83FED3407A939723A5C639B26916D505C3B5"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_key_prints_spec_vector() -> None:
    result = run("installcode", "key", CODE)
    assert result.exit_code == 0
    assert result.output.strip() == "66B6900981E1EE3CA4206B6B861C02BB"


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("--transport-key", "3C6CCA8977EB189EFD1614C3E7F75989"), ("--load-key", None)],
)
def test_derived_key_flags(flag: str, expected: str | None) -> None:
    result = run("installcode", "key", CODE, flag)
    assert result.exit_code == 0
    out = result.output.strip()
    assert len(out) == 32 and out != "66B6900981E1EE3CA4206B6B861C02BB"
    if expected:
        assert out == expected


@pytest.mark.parametrize("length", ["6", "8", "12", "16"])
def test_new_codes_check_valid(length: str) -> None:
    new = run("installcode", "new", "--length", length)
    assert new.exit_code == 0
    code = new.output.strip()
    assert len(code) == 2 * (int(length) + 2)
    check = run("installcode", "check", code)
    assert check.exit_code == 0, check.output
    assert f"{length}-byte" in check.output


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (CODE[:-1] + "6", "CRC mismatch: its last 2 bytes are not the CRC-16 of the bytes before them"),
        ("83FE", "2 bytes"),
        ("XYZ", "non-hex"),
        ("", "empty"),
    ],
)
def test_check_rejects_with_one_line(code: str, message: str) -> None:
    result = run("installcode", "check", code)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.output


def test_bad_code_error_does_not_echo_the_code() -> None:
    result = run("installcode", "key", CODE[:-1] + "6")
    assert CODE[:-4] not in result.output
    assert CODE[-4:] not in result.output and "C3B6" not in result.output  # nor either CRC (label bytes)


def test_help_on_every_command() -> None:
    for args in ([], ["installcode"], ["installcode", "new"], ["installcode", "check"],
                 ["installcode", "key"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_real_subprocess_through_the_console_script() -> None:
    # The console script of the environment running the tests (.venv/bin/hansim).
    hansim = shutil.which("hansim", path=str(Path(sys.executable).parent))
    assert hansim, "the hansim console script is not installed (bash .ci/install)"
    proc = subprocess.run(
        [hansim, "installcode", "key", CODE], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == "66B6900981E1EE3CA4206B6B861C02BB"
    bad = subprocess.run(
        [hansim, "installcode", "check", "12"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
