"""A real permission-denied error, not a stand-in: every writer, run by a user who may not
write the target folder, gives one line, exit 1, and leaves nothing behind.

Sessions and CI may run as root, whom no folder mode refuses (and a read-only mount is
another error, EROFS). So the writers run in a forked child that, as root, first drops to
an unprivileged uid (nobody, 65534); as any other user the folder's mode 0o555 refuses
it already. A fork, not a new interpreter: the interpreter may live where that uid cannot
read (pyenv under /root), and the fork holds hansim loaded already. The child runs every
writer through the CLI and reports what each printed and returned.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from duis_support import templates

from firmware import signing_keys
from sim.cli import main

NOBODY = 65534
CODE = "83FED3407A939723A5C639B26916D505C3B5"

#: writer -> (arguments given the inputs folder, target option, target name in the denied folder)
WRITERS = {
    "backlog": (["backlog", "--sites", "40", "--years", "0.2", "--replications", "1", "--workers", "1", "--quiet"],
                "--out", "out"),
    "sweep": (["sweep", "{in}/s.yaml", "--workers", "1", "--quiet"], "--out", "out"),
    "calibrate": (["calibrate", "--generations", "1", "--popsize", "2", "--param", "rules.p_replace", "--sites",
                   "40", "--years", "1", "--replications", "1", "--workers", "1", "--quiet"], "--out", "out"),
    "sensitivity": (["sensitivity", "--samples", "2", "--param", "rules.p_replace", "--param",
                     "wan.reactive_fraction", "--sites", "40", "--years", "1", "--workers", "1", "--quiet"],
                    "--out", "out"),
    "replay": (["replay", "--quiet"], "--out", "out"),
    "reflash": (["reflash", "--days", "20"], "-o", "out"),
    "duis run": (["duis", "run", "{template}"], "--out", "out"),
    "han join": (["han", "join", "--install-code", CODE], "--pcap", "join.pcap"),
    "firmware keygen": (["firmware", "keygen", "--public", "{in}/pub.pem"], "-o", "key.pem"),
    "firmware build": (["firmware", "build", "--supplier-key", "{in}/k.pem", "--manufacturer-code", "1234",
                        "--image-type", "0001", "--version", "00000002", "--payload", "{in}/payload.bin"],
                       "-o", "x.img"),
    "dongle sniff": (["dongle", "sniff", "/dev/null", "--channel", "15", "--quiet"], "--out", "c.pcap"),
}

def _as_unprivileged(commands: dict[str, list[str]]) -> dict[str, list]:
    """Each command's exit code, output and crash (if any), run by a user who may not write
    the target: a forked child, dropped to nobody when this process is root."""
    for args in commands.values():  # load each command's module here: the child may not read it
        CliRunner().invoke(main, [*args[:2], "--help"])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            report = {}
            for name, args in commands.items():
                result = CliRunner().invoke(main, args)
                crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
                report[name] = [result.exit_code, result.output, repr(result.exception) if crashed else ""]
            os.write(write, json.dumps(report).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed"
    return json.loads(data)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's own tmp_path is root's, 0o700)."""
    folder = Path(tempfile.mkdtemp(prefix="hansim-denied-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for sub in [folder, *folder.rglob("*")]:  # a non-root user may not empty a 0o555 folder
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_every_writer_refused_by_the_folder_mode_gives_one_line_and_leaves_nothing(scratch: Path) -> None:
    inputs, denied, home = scratch / "in", scratch / "denied", scratch / "home"
    for folder in (inputs, denied, home):
        folder.mkdir()
    (inputs / "s.yaml").write_text("sites: 40\nyears: 0.2\nreplications: 1\nsets: [{}]\n")
    (inputs / "k.pem").write_bytes(signing_keys.private_pem(signing_keys.generate()))
    (inputs / "payload.bin").write_bytes(b"firmware" * 32)
    (denied / "earlier.csv").write_text("an earlier result")
    for path in (inputs, *inputs.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    template = str(next(templates().glob("12.2_*")))
    commands = {name: [a.replace("{in}", str(inputs)).replace("{template}", template) for a in args]
                + [option, str(denied / target)] for name, (args, option, target) in WRITERS.items()}
    denied.chmod(0o555)
    if os.geteuid() == 0:  # a home the child may write (caches), never the target
        os.chown(home, NOBODY, NOBODY)
    before = _listing(denied), (denied / "earlier.csv").read_text()
    with pytest.MonkeyPatch.context() as env:
        for name in ("HOME", "MPLCONFIGDIR", "NUMBA_CACHE_DIR"):
            env.setenv(name, str(home))
        env.chdir(scratch)
        report = _as_unprivileged(commands)
    failures = {}
    for name, (code, output, crash) in report.items():
        lines = [line for line in output.splitlines() if line.strip()]
        if crash or code != 1 or len(lines) != 1 or not lines[0].startswith("Error: ") \
                or "permission denied" not in lines[0] or str(denied) not in lines[0]:
            failures[name] = (code, crash, output[-300:])
    assert not failures, failures
    print("\n".join(f"{name}: {output.strip()}" for name, (_, output, _) in report.items()))
    assert set(report) == set(WRITERS)
    assert (_listing(denied), (denied / "earlier.csv").read_text()) == before  # nothing left, nothing lost
    assert not [p for p in scratch.rglob(".*") if home not in p.parents]  # no staging file anywhere
