"""A sweep's worker processes end when the sweep dies, whatever signal killed it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (read from /proc, as ps does)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_workers_end_with_a_killed_sweep(tmp_path: Path, sig: signal.Signals) -> None:
    sweep = tmp_path / "long.yaml"
    sweep.write_text("sites: 2000000\nyears: 30\nreplications: 4\nsets: [{}]\n")  # minutes of work
    parent = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "sweep", str(sweep),
         "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        assert _wait(lambda: len(_children(parent.pid)) >= 2, 60), "workers never started"
        workers = _children(parent.pid)
        time.sleep(0.5)  # into their first replication
        parent.send_signal(sig)
        parent.wait(10)
        assert _wait(lambda: not any(_alive(w) for w in workers), 5), "workers outlived the sweep"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in workers:  # a failing run must not leave minutes of work behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
