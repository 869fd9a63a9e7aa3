"""mypy (configured in pyproject.toml: the packages, Python 3.11) finds nothing: the type
hints the style asks for are checked, not just written, and CI holds them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean() -> None:
    # The files come from [tool.mypy] files; the cache stays out of the tree.
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
