"""``hansim dcc serve``'s options: bad values are one line and exit 1, before listening;
stopping it is clean."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main


def _serve(*args: str):
    return CliRunner().invoke(main, ["dcc", "serve", *args])


def test_bad_receiver_url(tmp_path: Path) -> None:
    result = _serve("--receiver", "ftp://somewhere/")
    assert result.exit_code == 1
    assert "--receiver ftp://somewhere/: 'ftp://somewhere/' is not an http(s) URL" in result.output


def test_bad_receiver_user() -> None:
    result = _serve("--receiver", "bob=http://127.0.0.1:9/")
    assert result.exit_code == 1
    assert "BOB is not a user ID" in result.output


def test_keystore_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "keys.json"
    bad.write_text("{not json")
    result = _serve("--keystore", str(bad))
    assert result.exit_code == 1 and f"{bad}:" in result.output


def test_keystore_without_a_dsp_key(tmp_path: Path) -> None:
    empty = tmp_path / "keys.json"
    empty.write_text("{}")
    result = _serve("--keystore", str(empty))
    assert result.exit_code == 1 and "no DSP XML-signing key" in result.output


@pytest.mark.parametrize(("text", "words"), [  # found by the keystore-json fuzz target: tracebacks
    ("[]", "not a dccboxed keystore"),
    ('{"90B3D51F30000002": 1}', "90B3D51F30000002: not an object with digitalSignature certificates"),
    ('{"a": {"digitalSignature": {"1": {"certificate": 5}}}}', "a certificate 1: no certificate"),
    ('{"a": {"digitalSignature": []}}', "a: not an object"),
    ("[" * 100_000, "nested too deeply"),
])
def test_keystore_of_the_wrong_shape_is_an_error_line(tmp_path: Path, text: str, words: str) -> None:
    bad = tmp_path / "keys.json"
    bad.write_text(text)
    result = _serve("--keystore", str(bad))
    assert result.exit_code == 1 and words in result.output, result.output
    assert result.output.strip().splitlines()[-1].startswith("Error:"), result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.exception


def test_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve("--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stop_it_cleanly(sig: signal.Signals) -> None:
    """The documented way to stop the server (Ctrl-C, or a service manager's SIGTERM) is a
    clean shutdown: its cleanup runs, one line says so, exit 0, no traceback."""
    proc = subprocess.Popen([sys.executable, "-c", "from sim.cli import main; main()",
                             "dcc", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any("listening on" in line for line in lines):
            line = proc.stderr.readline()
            assert line, "".join(lines)  # it ended before listening
            lines.append(line)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err.strip().splitlines()[-1] == "hansim dcc serve: stopped"
    assert "Traceback" not in err and "Aborted" not in err and out == ""
