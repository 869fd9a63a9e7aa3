"""A refused YAML file is refused before the command imports its heavy libraries.

Issue 19 asks that each refusal come "well under a second": the loader itself takes
milliseconds, so what matters is that no command imports numpy, numba, scipy, matplotlib,
zigpy or scapy (seconds of CPU between them) before reading the file. Each command runs
in a fresh interpreter, as a user runs it, and reports the modules loaded when it exits.
Timing is left to ``benchmarks/hardening.py --only yaml`` (CPU seconds per refusal).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.yamlfile import InputFileError, load_yaml

HEAVY = ("numpy", "numba", "scipy", "matplotlib", "zigpy", "scapy")
RUN = ("import atexit, sys\n"
       f"atexit.register(lambda: print('loaded:', *sorted(m for m in {HEAVY!r} if m in sys.modules), "
       "file=sys.stderr))\n"
       "from sim.cli import main\n"
       "main()\n")

#: every command that takes a YAML file, with the file in its place
YAML_COMMANDS = {
    "replay": lambda f, t: ["replay", f, "--out", t],
    "reflash": lambda f, t: ["reflash", "--scenario", f, "-o", t],
    "sweep": lambda f, t: ["sweep", f, "--out", t],
    "duis run": lambda f, t: ["duis", "run", "request.xml", "--site", f, "--out", t],
    "dcc serve": lambda f, t: ["dcc", "serve", "--site", f, "--port", "0"],
    "calibrate": lambda f, t: ["calibrate", "--targets", f, "--out", t],
}


def _hansim(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _loaded(stderr: str) -> tuple[list[str], list[str]]:
    """(the heavy modules loaded at exit, the other stderr lines)."""
    lines = stderr.splitlines()
    loaded = [line for line in lines if line.startswith("loaded:")]
    assert len(loaded) == 1, stderr
    return loaded[0].split()[1:], [line for line in lines if not line.startswith("loaded:")]


@pytest.mark.parametrize("name", YAML_COMMANDS)
def test_recursive_alias_is_refused_before_heavy_imports(tmp_path: Path, name: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: &x [1, *x]\n")
    with pytest.raises(InputFileError) as loader:
        load_yaml(bad)
    done = _hansim(YAML_COMMANDS[name](str(bad), str(tmp_path / "out")), tmp_path)
    heavy, said = _loaded(done.stderr)
    assert done.returncode == 1, done.stderr
    assert said == [f"Error: {loader.value}"], done.stderr  # the loader's line, whole and alone
    assert done.stdout == ""
    assert heavy == [], f"hansim {name} imported {heavy} before refusing the file"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", YAML_COMMANDS)
def test_help_imports_no_heavy_library(tmp_path: Path, name: str) -> None:
    done = _hansim([*name.split(), "--help"], tmp_path)
    heavy, _ = _loaded(done.stderr)
    assert done.returncode == 0 and "Usage:" in done.stdout, done.stderr
    assert heavy == [], f"hansim {name} --help imported {heavy}"


def test_dcc_serve_shows_the_servers_body_limit() -> None:
    """``--max-body``'s default is shown without importing the server: it must be the server's."""
    from sim.cli import dcc
    from sim.dcc import serve

    assert dcc.MAX_BODY == serve.MAX_BODY
