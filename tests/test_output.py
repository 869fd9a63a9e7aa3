"""Outputs appear whole or not at all."""

import pytest

from sim.output import OutputDir, atomic_write


def test_atomic_write_replaces_whole(tmp_path) -> None:
    target = atomic_write(tmp_path / "a" / "f.txt", "one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_output_dir_commits_on_success(tmp_path) -> None:
    out = tmp_path / "out"
    with OutputDir(out) as run:
        run.write("summary.json", "{}")
        run.write("pcaps/join-1.pcap", b"\xd4\xc3\xb2\xa1")
        assert not out.exists() or not any(out.iterdir())
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "pcaps/join-1.pcap", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_dir_leaves_existing_files_on_failure(tmp_path) -> None:
    out = tmp_path / "out"
    atomic_write(out / "keep.csv", "earlier result")
    with pytest.raises(RuntimeError), OutputDir(out) as run:
        run.write("keep.csv", "half")
        raise RuntimeError("bad input found mid-run")
    assert (out / "keep.csv").read_text() == "earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
