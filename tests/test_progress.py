"""Every job that can run for seconds shows progress on a terminal's stderr, and nothing of
it reaches stdout, the output files, a pipe, or a run with --quiet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim import progress
from sim.cli import main

SWEEP = "sites: 200\nyears: 0.5\nreplications: 2\nsets: [{}]\n"


def jobs(tmp: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """Each long job on small inputs: (arguments, its bars' names)."""
    (tmp / "sweep.yaml").write_text(SWEEP)
    return {
        "han stats": (["han", "stats", "--runs", "3"], ("han stats",)),
        "replay": (["replay", "-o", str(tmp / "replay")], ("replay",)),
        "reflash": (["reflash", "--days", "30", "-o", str(tmp / "reflash")], ("reflash",)),
        "backlog": (["backlog", "--sites", "200", "--years", "0.5", "--replications", "2",
                     "--workers", "1", "--out", str(tmp / "backlog")],
                    ("replications", "backlog outputs")),
        "sweep": (["sweep", str(tmp / "sweep.yaml"), "--out", str(tmp / "sweep"), "--workers", "1"],
                  ("replications",)),
    }


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr counts as a terminal, and bars appear at once (not after DELAY seconds)."""
    monkeypatch.setattr(progress, "on_terminal", lambda stream: True)
    monkeypatch.setattr(progress, "DELAY", 0.0)


@pytest.mark.parametrize("job", ["han stats", "replay", "reflash", "backlog", "sweep"])
def test_a_terminal_sees_progress_on_stderr_only(tmp_path: Path, terminal: None, job: str) -> None:
    args, names = jobs(tmp_path)[job]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "\r" in result.stderr and "\r" not in result.stdout  # tqdm redraws its line
    for name in names:
        assert f"{name}:" in result.stderr and f"{name}:" not in result.stdout
    for summary in tmp_path.glob("*/summary.json"):  # the files are untouched: they still parse
        json.loads(summary.read_text())


def test_quiet_silences_the_bar_on_a_terminal(terminal: None) -> None:
    result = CliRunner().invoke(main, ["han", "stats", "--runs", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_no_bar_without_a_terminal() -> None:
    result = CliRunner().invoke(main, ["han", "stats", "--runs", "2"])  # CliRunner: not a tty
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_pty_is_a_terminal_and_a_pipe_is_not() -> None:
    master, slave = os.openpty()
    read, write = os.pipe()
    with os.fdopen(slave, "w") as tty, os.fdopen(write, "w") as pipe:
        assert progress.on_terminal(tty)
        assert not progress.on_terminal(pipe)
    os.close(master)
    os.close(read)
