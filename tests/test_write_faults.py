"""Every writer meets the same disk faults with one line, exit 1, nothing staged left and
nothing earlier lost: all of them write through ``sim/output.py``.

Up-front faults (a missing parent, a file in the way, an invalid path, a folder already
holding results) are refused before any work; faults only the disk can reveal (full,
read-only) are injected at the output module's boundary, where bytes reach the disk
(``/dev/full`` cannot serve: writes go to a temporary file beside the target).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from duis_support import templates

import sim.output as output
from firmware import signing_keys
from sim.cli import main

CODE = "83FED3407A939723A5C639B26916D505C3B5"


def _sweep_file(tmp: Path, replications: int = 1) -> str:
    (tmp / "s.yaml").write_text(f"sites: 40\nyears: 0.2\nreplications: {replications}\nsets: [{{}}]\n")
    return str(tmp / "s.yaml")


def _firmware_inputs(tmp: Path) -> list[str]:
    (tmp / "k.pem").write_bytes(signing_keys.private_pem(signing_keys.generate()))
    (tmp / "payload.bin").write_bytes(b"firmware" * 32)
    return ["firmware", "build", "--supplier-key", str(tmp / "k.pem"), "--manufacturer-code", "1234",
            "--image-type", "0001", "--version", "00000002", "--payload", str(tmp / "payload.bin")]


# command -> (arguments before the target given its inputs folder, target option, is a folder)
WRITERS: dict[str, tuple[Callable[[Path], list[str]], str, bool]] = {
    "backlog": (lambda t: ["backlog", "--sites", "40", "--years", "0.2", "--replications", "1",
                           "--workers", "1", "--quiet"], "--out", True),
    "sweep": (lambda t: ["sweep", _sweep_file(t), "--workers", "1", "--quiet"], "--out", True),
    # its workers save the replications: their fault comes back through the pool
    "sweep on 2 workers": (lambda t: ["sweep", _sweep_file(t, 2), "--workers", "2", "--quiet"], "--out", True),
    "replay": (lambda t: ["replay"], "--out", True),
    "reflash": (lambda t: ["reflash", "--days", "20"], "-o", True),
    "duis run": (lambda t: ["duis", "run", str(next(templates().glob("12.2_*")))], "--out", True),
    "han join": (lambda t: ["han", "join", "--install-code", CODE], "--pcap", False),
    "firmware keygen": (lambda t: ["firmware", "keygen", "--public", str(t / "pub.pem")], "-o", False),
    "firmware build": (_firmware_inputs, "-o", False),
    "dongle sniff": (lambda t: ["dongle", "sniff", "/dev/nonexistent-sniffer"], "--out", False),
}


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def _one_line(code: int, text: str, reason: str) -> None:
    """Exit 1 and one error line, the last (a warning or progress line may come before)."""
    assert "Traceback" not in text and code == 1, text
    lines = text.strip().splitlines()
    (error,) = [line for line in lines if line.startswith("Error")]
    assert error == lines[-1] and reason in error, text


UP_FRONT = {
    "missing parent": (lambda t: t / "no" / "such" / "out", "does not exist"),
    "file in the way": (lambda t: (t / "taken").write_text("earlier") and t / "taken" / "out",
                        "is a file, not a folder"),
    "invalid path": (lambda t: t / ("n" * 300) / "out", "path too long"),  # argv holds no NUL
}


@pytest.mark.parametrize("fault", UP_FRONT)
@pytest.mark.parametrize("writer", WRITERS)
def test_up_front_faults_are_refused_before_any_work(tmp_path: Path, writer: str, fault: str) -> None:
    inputs, option, _ = WRITERS[writer]
    args = inputs(tmp_path)
    make, reason = UP_FRONT[fault]
    target = make(tmp_path)
    before = _listing(tmp_path)
    _one_line(*_run([*args, option, str(target)]), reason)
    assert _listing(tmp_path) == before


def _full(handle, data: bytes) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _read_only(*args, **kwargs):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


DISK = {"full disk": ("_write_all", _full, "disk full"),
        "read-only folder": ("_temp_file", _read_only, "read-only file system")}


@pytest.mark.parametrize("fault", DISK)
@pytest.mark.parametrize("writer", [w for w in WRITERS if w != "dongle sniff"])  # its port comes first
def test_disk_faults_are_one_line_and_earlier_results_stay(tmp_path: Path, monkeypatch, writer: str,
                                                           fault: str) -> None:
    inputs, option, folder = WRITERS[writer]
    args = inputs(tmp_path)
    target = tmp_path / "result"
    if folder:
        target.mkdir()
        (target / "earlier.csv").write_text("earlier result")
        if writer.startswith("sweep"):  # an earlier sweep's folder, resumed
            (target / "runs").mkdir()
        else:  # replaced only when the new results are whole
            args += ["--overwrite"]
    else:
        target.write_text("earlier result")
    before = _listing(tmp_path)
    name, fake, reason = DISK[fault]
    monkeypatch.setattr(output, name, fake)
    if fault == "read-only folder":
        monkeypatch.setattr(output, "_temp_folder", fake)
    _one_line(*_run([*args, option, str(target)]), reason)
    assert _listing(tmp_path) == before  # no staging file or folder left
    earlier = target / "earlier.csv" if folder else target
    assert earlier.read_text() == "earlier result"


@pytest.mark.parametrize("writer", ["replay", "duis run", "reflash"])
def test_a_folder_with_results_is_refused_unless_overwrite(tmp_path: Path, writer: str) -> None:
    inputs, option, _ = WRITERS[writer]
    target = tmp_path / "result"
    target.mkdir()
    (target / "earlier.csv").write_text("earlier result")
    _one_line(*_run([*inputs(tmp_path), option, str(target)]), "already holds results")
    assert _listing(target) == ["earlier.csv"]


STUDIES: dict[str, tuple[list[str], str]] = {  # a resumable writer -> its arguments, its resumable state
    "sweep": (["sweep", "S.yaml", "--workers", "1", "--quiet"], "runs/email-10wd-0123456789ab/rep-0000.npz"),
    "calibrate": (["calibrate", "--generations", "1", "--popsize", "2", "--param", "rules.p_replace", "--sites",
                   "40", "--years", "1", "--replications", "1", "--workers", "1", "--quiet"], "evaluations.jsonl"),
    "sensitivity": (["sensitivity", "--samples", "2", "--param", "rules.p_replace", "--param",
                     "wan.reactive_fraction", "--sites", "40", "--years", "1", "--workers", "1", "--quiet"],
                    "evaluations.jsonl"),
}


@pytest.mark.parametrize("writer", STUDIES)
def test_overwrite_on_a_full_disk_keeps_the_earlier_result_and_its_resumable_state(
        tmp_path: Path, monkeypatch, writer: str) -> None:
    """--overwrite builds the new result beside the earlier one and swaps it in only once it
    is whole: a full disk mid-run leaves the earlier result, resumable state included."""
    args, state = STUDIES[writer]
    args = [_sweep_file(tmp_path) if a == "S.yaml" else a for a in args]
    target = tmp_path / "result"
    (target / state).parent.mkdir(parents=True)
    (target / state).write_text("an earlier run's resumable state")
    (target / "earlier.csv").write_text("earlier result")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    monkeypatch.setattr(output, "_write_all", _full)
    _one_line(*_run([*args, "--out", str(target), "--overwrite"]), "disk full")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
