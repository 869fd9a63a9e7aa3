"""ruff (configured in pyproject.toml) finds nothing in the installed packages: the habits a
contributor's editor checks, held in CI too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["sim", "devices", "han", "firmware", "gbcs", "scenarios"]


def test_ruff_is_clean() -> None:
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *PACKAGES],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
