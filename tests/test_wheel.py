"""The built wheel, installed into a fresh virtual environment, runs every bundled job
from a folder far from the source tree: bundled files come through importlib.resources.

This is what a user who runs ``pip install hansim-*.whl`` meets; the editable install the
other tests use cannot show it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HANSIM_DUIS_XSD")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding only the wheel and its dependencies."""
    base = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                  "-w", str(base / "dist"), str(ROOT)], cwd=base)
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("hansim-*.whl")
    made = _run([sys.executable, "-m", "venv", str(base / "venv")], cwd=base)
    assert made.returncode == 0, made.stderr
    bin_dir = base / "venv" / "bin"
    # The wheel's own dependencies only: no extras, so a missing runtime dependency shows.
    # --no-compile: byte-compiling scipy, pandas and matplotlib up front was half of this
    # fixture's time (48 s against 100 s), and the modules the tests import compile on use.
    put = _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
                "--disable-pip-version-check", str(wheel)], cwd=base)
    assert put.returncode == 0, put.stderr
    return bin_dir


def _replay_scenarios_in_source() -> set[str]:
    return {p.stem for p in (ROOT / "scenarios").rglob("*.yaml") if "\ntimeline:" in p.read_text()}


def test_scenarios_list_shows_every_bundled_replay(installed: Path, tmp_path: Path) -> None:
    out = _run([str(installed / "hansim"), "scenarios", "list"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    expected = _replay_scenarios_in_source()
    assert len(expected) >= 10 and expected <= listed, (expected - listed, out.stdout)


def test_replay_default_runs_from_any_folder(installed: Path, tmp_path: Path) -> None:
    out = _run([str(installed / "hansim"), "replay", "--out", str(tmp_path / "r")], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "r" / "summary.json").is_file()
    assert b"Every expectation holds" in (tmp_path / "r" / "report.html").read_bytes()  # templates shipped
    assert "Traceback" not in out.stderr


def test_reflash_default_runs_from_any_folder(installed: Path, tmp_path: Path) -> None:
    out = _run([str(installed / "hansim"), "reflash", "-o", str(tmp_path / "m")], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert any((tmp_path / "m").glob("*.csv"))


def test_dcc_default_site_runs_a_dcc_template(installed: Path, tmp_path: Path) -> None:
    template = ROOT.parent / "shared" / "duis" / "templates" / "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML"
    if not template.is_file():
        pytest.skip("../shared/duis is not beside the project")
    out = _run([str(installed / "hansim"), "duis", "run", str(template), "--out", str(tmp_path / "d")],
               cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert any((tmp_path / "d").glob("*.xml"))
