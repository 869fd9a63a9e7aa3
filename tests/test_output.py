"""Outputs appear whole or not at all; every write fault is one line naming path and reason."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

import pytest

import sim.output as output
from sim.output import OutputDir, OutputError, atomic_write, check_folder, growing_file, write_files


def names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_atomic_write_replaces_whole(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "f.txt", "one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert names(tmp_path) == ["f.txt"]


def test_files_are_as_readable_as_the_umask_allows_and_secrets_are_not(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        plain = atomic_write(tmp_path / "plain.csv", "x")
        key = atomic_write(tmp_path / "key.pem", "secret", secret=True)
        with OutputDir(tmp_path / "run") as run:
            run.write("a/b.json", "{}")
        os.umask(0o077)
        private = atomic_write(tmp_path / "private.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "run" / "a" / "b.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o755
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_output_dir_commits_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputDir(out) as run:
        run.write("summary.json", "{}")
        run.write("pcaps/join-1.pcap", b"\xd4\xc3\xb2\xa1")
        assert not out.exists()
    assert names(out) == ["pcaps", "pcaps/join-1.pcap", "summary.json"]
    assert names(tmp_path) == ["out", "out/pcaps", "out/pcaps/join-1.pcap", "out/summary.json"]


def test_a_folder_with_results_is_refused_unless_overwritten_and_then_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputDir(out) as run:
        run.write("first.pcap", b"1")
        run.write("summary.json", "first")
    with pytest.raises(OutputError, match=r"out: cannot write: it already holds results; .* --overwrite"):
        with OutputDir(out) as run:
            run.write("summary.json", "second")
    assert (out / "summary.json").read_text() == "first"
    with OutputDir(out, overwrite=True) as run:
        run.write("summary.json", "second")
    assert names(out) == ["summary.json"] and (out / "summary.json").read_text() == "second"
    assert names(tmp_path) == ["out", "out/summary.json"]  # nothing staged or moved aside is left


def test_output_dir_leaves_existing_files_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputDir(out) as run:
        run.write("keep.csv", "earlier result")
    with pytest.raises(RuntimeError), OutputDir(out, overwrite=True) as run:
        run.write("keep.csv", "half")
        raise RuntimeError("bad input found mid-run")
    assert (out / "keep.csv").read_text() == "earlier result"
    assert names(tmp_path) == ["out", "out/keep.csv"]


def _fill_disk(handle, data: bytes) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _refuse(*args, **kwargs):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


FAULTS = {
    "missing parent": (lambda t, m: t / "nowhere" / "x", "folder .*nowhere does not exist"),
    "file in the way": (lambda t, m: (t / "file").write_text("") or t / "file" / "x",
                        "file is a file, not a folder"),
    "invalid path": (lambda t, m: t / "a\0b", "invalid path"),
    "path too long": (lambda t, m: t / ("n" * 300), "path too long"),
    "full disk": (lambda t, m: m.setattr(output, "_write_all", _fill_disk) or t / "x", "disk full"),
    "read-only folder": (lambda t, m: (m.setattr(output, "_temp_file", _refuse),
                                       m.setattr(output, "_temp_folder", _refuse)) and t / "x",
                         "permission denied"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("writer", ["file", "pair", "folder"])
def test_every_fault_is_one_line_and_touches_nothing(tmp_path: Path, monkeypatch, fault: str,
                                                     writer: str) -> None:
    earlier = atomic_write(tmp_path / "earlier.csv", "kept")
    make, reason = FAULTS[fault]
    target = make(tmp_path, monkeypatch)
    before = names(tmp_path)
    with pytest.raises(OutputError, match=reason) as caught:
        if writer == "file":
            atomic_write(target, b"data")
        elif writer == "pair":
            write_files({tmp_path / "public.pem": "pub", target: "key"}, secrets=[target])
        else:
            with OutputDir(target) as run:
                run.write("summary.json", "{}")
    assert "\n" not in str(caught.value) and str(caught.value).endswith("(nothing written)")
    assert names(tmp_path) == before and earlier.read_text() == "kept"


def test_check_folder_says_so_before_a_run(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="a file is in the way"):
        check_folder(tmp_path / "f")
    assert check_folder(tmp_path / "new") == tmp_path / "new"


def test_a_growing_file_keeps_what_was_written_however_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "capture.pcap"
    with pytest.raises(KeyboardInterrupt), growing_file(target) as stream:
        stream.write(b"frame 1")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"frame 1" and names(tmp_path) == ["capture.pcap"]
    with pytest.raises(OutputError, match="folder .* does not exist"):
        with growing_file(tmp_path / "no" / "x.pcap"):
            pass


KILLED_MID_RUN = """
import os, signal, sys
from pathlib import Path
from unittest import mock
import sim.output as output
out = Path(sys.argv[1])
if sys.argv[2] == "commit":  # killed between moving the earlier result aside and the new one in
    real = os.replace
    def replace(src, dst):
        real(src, dst)
        if Path(src) == out:
            os.kill(os.getpid(), signal.SIGKILL)
    mock.patch.object(output.os, "replace", replace).start()
with output.OutputDir(out, overwrite=True) as run:
    run.write("a.csv", "new")
    if sys.argv[2] == "mid-write":
        handle = output._write_all
        output._write_all = lambda h, data: (handle(h, data[:3]), os.kill(os.getpid(), signal.SIGKILL))
        output.atomic_write(out.parent / "key.pem", "half a key")
        run.write("b.csv", "x")
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("moment", ["mid-write", "commit"])
def test_a_run_killed_outright_leaves_nothing_once_the_next_run_starts(tmp_path: Path, moment: str) -> None:
    """kill -9 cannot be caught: the next run writing the same target clears what the dead
    run staged, and puts back an earlier result it had moved aside."""
    import signal
    import subprocess
    import sys
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "earlier.csv").write_text("earlier")
    (tmp_path / "key.pem").write_text("earlier key")
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_RUN, str(tmp_path / "out"), moment])
    assert killed.returncode == -signal.SIGKILL
    assert any(name.startswith(".") for name in names(tmp_path))  # what kill -9 leaves
    alive = tmp_path / f".out.{output._owner()}.live"  # a staging folder of a live run
    alive.mkdir()
    with pytest.raises(OutputError, match="already holds results"):
        check_folder(tmp_path / "out")  # the earlier result is back, so refused as before
    assert (tmp_path / "out" / "earlier.csv").read_text() == "earlier"
    atomic_write(tmp_path / "key.pem", "new key")
    assert names(tmp_path) == [alive.name, "key.pem", "out", "out/earlier.csv"]


def test_a_resumable_run_fills_its_folder_in_place_and_keeps_it_however_it_ends(tmp_path: Path) -> None:
    out = tmp_path / "study"
    with pytest.raises(RuntimeError), OutputDir(out, resume="evaluations.jsonl") as run:
        assert run.folder == out
        run.write("evaluations.jsonl", "header\nrun 1\n")
        raise RuntimeError("killed mid-study")
    assert names(out) == ["evaluations.jsonl"]  # what the run finished is there to resume
    with OutputDir(out, resume="evaluations.jsonl") as run:
        assert (run.folder / "evaluations.jsonl").read_text() == "header\nrun 1\n"
        run.write("result.json", "{}")
    assert names(tmp_path) == ["study", "study/evaluations.jsonl", "study/result.json"]


def test_a_resumable_run_refuses_other_results_unless_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "study"
    out.mkdir()
    (out / "earlier.csv").write_text("earlier")
    with pytest.raises(OutputError, match=r"holds results but no evaluations.jsonl .* --overwrite"):
        with OutputDir(out, resume="evaluations.jsonl"):
            pass
    assert names(out) == ["earlier.csv"]


@pytest.mark.parametrize("ending", ["full disk", "bad input", "success"])
def test_overwriting_a_resumable_result_replaces_it_only_once_the_new_one_is_whole(
        tmp_path: Path, monkeypatch, ending: str) -> None:
    """--overwrite does not empty the earlier result first: the new run is staged, and a
    full disk or an error mid-run leaves the earlier one, its resumable state included."""
    out = tmp_path / "study"
    out.mkdir()
    (out / "evaluations.jsonl").write_text("earlier study\n")
    (out / "result.json").write_text("earlier")
    if ending == "full disk":
        monkeypatch.setattr(output, "_write_all", _fill_disk)
    with contextlib.suppress(OutputError, RuntimeError):
        with OutputDir(out, overwrite=True, resume="evaluations.jsonl") as run:
            assert run.folder != out and not (run.folder / "evaluations.jsonl").exists()
            run.write("evaluations.jsonl", "new study\n")
            if ending == "bad input":
                raise RuntimeError("bad input found mid-run")
    if ending == "success":
        assert names(tmp_path) == ["study", "study/evaluations.jsonl"]
        assert (out / "evaluations.jsonl").read_text() == "new study\n"
    else:
        assert names(tmp_path) == ["study", "study/evaluations.jsonl", "study/result.json"]
        assert (out / "evaluations.jsonl").read_text() == "earlier study\n"


def test_a_fault_in_a_staged_run_names_the_users_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(output, "_write_all", _fill_disk)
    with pytest.raises(OutputError) as caught, OutputDir(tmp_path / "out") as run:
        atomic_write(run.folder / "deep" / "x.csv", "x", parents=True)  # a library's own write
    assert str(caught.value) == f"{tmp_path / 'out' / 'deep' / 'x.csv'}: cannot write: disk full (nothing written)"


def test_an_output_error_crosses_a_process_boundary_whole() -> None:
    """A worker's write fault reaches the parent through pickle as the same error: the same
    path, reason and one-line message (not a TypeError from rebuilding it)."""
    import pickle

    err = OutputError(Path("runs/rep-0001.npz"), "disk full")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is OutputError and str(again) == str(err)
    assert (again.path, again.reason) == (err.path, err.reason)
