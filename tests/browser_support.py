"""Opening an HTML report in a real headless browser: Chromium from the distribution's
packages (``apt-get install chromium``), with a fresh profile and no network chatter.

:func:`open_page` returns the DOM after scripts ran and every console message the page
produced; a page that renders cleanly has none.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0")
#: Chromium's log line for a console message (console.log/error, uncaught exceptions).
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?:?\d*\]? ?(.*)")


def chromium() -> str:
    """The browser binary, or a skip (which conftest turns into a failure under CI=true)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def open_page(page: Path) -> tuple[str, list[str]]:
    """(DOM as serialised after loading ``page``, console messages)."""
    with tempfile.TemporaryDirectory(prefix="hansim-chromium-") as profile:
        run = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                              page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [m.group(1) for line in run.stderr.splitlines() if (m := CONSOLE.search(line))]
    return run.stdout, console
