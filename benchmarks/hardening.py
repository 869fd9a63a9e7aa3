"""Every case issue 19 lists, one by one, through the real command line.

    .venv/bin/python benchmarks/hardening.py [--only SUBSTRING ...]

Each case runs ``hansim`` in a subprocess (as a user would) on the bad file, byte, option
or fault the issue names, and checks what the issue asks: the exit code, exactly one
``Error`` line and nothing else on the terminal (no traceback, warning or partial
output), no file left behind, nothing written earlier lost, no install code printed, and
the time it took. Disk faults are real, not injected: a read-only tmpfs and a tiny full
one (mounting them needs root; without it those cases are reported as not run). Exit 1
when any case fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from duis_support import schema_path, templates  # noqa: E402

HANSIM = [sys.executable, "-c", "from sim.cli import main; main()"]
CODE = "83FED3407A939723A5C639B26916D505C3B5"  # a valid install code, never to be printed
TIMEOUT = 120.0
#: what a sweep or study prints before it starts work: its plan, not partial output
PLAN = re.compile(r"\d+ parameter sets x \d+ policies x \d+ replications: ")


@dataclass
class Run:
    code: int | None
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def hansim(args: list[str], cwd: Path, env: dict | None = None, timeout: float = TIMEOUT) -> Run:
    """Run hansim; ``seconds`` is its CPU time (the machine may be shared: wall time says
    little), ``timeout`` is wall time."""
    started = _cpu()
    try:
        done = subprocess.run([*HANSIM, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})}, errors="replace")
        return Run(done.returncode, done.stdout, done.stderr, _cpu() - started)
    except subprocess.TimeoutExpired as err:
        return Run(None, str(err.stdout or ""), str(err.stderr or ""), _cpu() - started)


_STARTUP: list[float] = []


def startup() -> float:
    """What starting hansim costs on this machine now (imports): not the refusal's time."""
    if not _STARTUP:
        _STARTUP.append(min(hansim(["scenarios", "list"], ROOT).seconds for _ in range(2)))
    return _STARTUP[0]


def listing(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def refusal_problems(run: Run, exit_codes: tuple[int, ...] = (1, 2)) -> list[str]:
    """What is wrong with a refusal: the issue's "one clear line, non-zero exit"."""
    problems = []
    if run.code is None:
        problems.append(f"hang (> {TIMEOUT:g} s)")
    elif run.code not in exit_codes:
        problems.append(f"exit {run.code}")
    for word in ("Traceback", "Warning", "warning:", "Task exception"):
        if word in run.text:
            problems.append(f"'{word}' printed")
    lines = [line for line in run.text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} error lines")
    usage = run.code == 2 and any(line.startswith(("Usage:", "Try ")) for line in lines)
    other = [line for line in lines if not line.startswith(("Error", "Usage:", "Try "))
             and not PLAN.match(line)]
    if other and not usage:
        problems.append(f"{len(other)} other lines, e.g. {other[0][:80]!r}")
    if CODE[:16] in run.text.upper() or CODE[:16].lower() in run.text:
        problems.append("install code printed")
    return problems


@dataclass
class Result:
    name: str
    command: str
    problems: list[str]
    seconds: float
    said: str = ""
    skipped: str = ""


RESULTS: list[Result] = []
CASES: list[tuple[str, Callable[[Path], Result]]] = []


def case(name: str) -> Callable[[Callable[[Path], Result]], Callable[[Path], Result]]:
    def register(fn: Callable[[Path], Result]) -> Callable[[Path], Result]:
        CASES.append((name, fn))
        return fn
    return register


def refused(name: str, args: list[str], tmp: Path, *, files: dict[str, bytes] | None = None,
            exit_codes: tuple[int, ...] = (1, 2), say: str = "", env: dict | None = None,
            max_seconds: float = 30.0, cpu_limit: float | None = None) -> Result:
    """Write ``files`` into ``tmp``, run, and check a clean refusal that touched nothing
    (or, for a value in range, a run that ends normally: ``exit_codes`` holding 0).
    ``max_seconds`` bounds the CPU time beyond start-up; ``cpu_limit`` the whole run's,
    start-up included (what the user waits for)."""
    for rel, data in (files or {}).items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    before = listing(tmp)
    run = hansim(args, tmp, env)
    if run.code in exit_codes and run.code not in (1, 2):  # accepted: ran to its end
        problems = [f"'{w}' printed" for w in ("Traceback", "Warning") if w in run.text]
        said = (run.text.strip().splitlines() or [""])[-1]
        return Result(name, "hansim " + " ".join(_short(a, tmp) for a in args), problems, run.seconds,
                      f"exit {run.code}: {said[:150]}")
    problems = refusal_problems(run, exit_codes)
    after = listing(tmp)
    if after != before:
        changed = sorted(set(after) ^ set(before)) or [k for k in after if after[k] != before.get(k)]
        problems.append(f"files changed: {changed[:3]}")
    if say and not re.search(say, run.text):
        problems.append(f"message lacks {say!r}")
    if run.seconds - startup() > max_seconds:
        problems.append(f"took {run.seconds:.1f} s (start-up {startup():.1f} s)")
    if cpu_limit is not None and run.seconds >= cpu_limit:
        problems.append(f"took {run.seconds:.2f} CPU s in all (at most {cpu_limit:g} s)")
    said = next((line for line in run.text.splitlines() if line.startswith("Error")), run.text[-120:])
    return Result(name, "hansim " + " ".join(_short(a, tmp) for a in args), problems, run.seconds,
                  said.strip()[:160])


def _short(arg: str, tmp: Path) -> str:
    arg = arg.replace(str(tmp), "$TMP")
    return arg if len(arg) < 60 else arg[:40] + "..."


# -- YAML files ------------------------------------------------------------------------------

BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else 'x'}]\n" for i in range(9)) + "k: 1\n"
YAML_CASES = {
    "recursive alias": "a: &x [1, *x]\n",
    "recursive alias (mapping)": "a: &x\n  b: *x\n",
    "nesting 10^4": "[" * 10_000 + "]" * 10_000,
    "nesting 10^4 (mappings)": "{a: " * 10_000 + "1" + "}" * 10_000,
    "list key": "? [1, 2]\n: 3\n",
    "mapping key": "{a: 1}: 2\n",
    "NUL": "x: \x00\n",
    "control character": "x: \x1b[31m\n",
    "alias bomb + key": BOMB,
}


#: issue 19: "each refusal comes in well under a second" (CPU, start-up included)
YAML_CPU_LIMIT = 1.0


def _yaml_command(kind: str, tmp: Path) -> list[str]:
    if kind == "scenario":
        return ["replay", str(tmp / "f.yaml"), "--out", str(tmp / "out"), "--quiet"]
    if kind == "site":
        return ["duis", "run", str(next(templates().glob("12.2_*"))), "--site", str(tmp / "f.yaml"),
                "--out", str(tmp / "out")]
    if kind == "dcc site":
        return ["dcc", "serve", "--site", str(tmp / "f.yaml"), "--port", "0"]
    if kind == "reflash":
        return ["reflash", "--scenario", str(tmp / "f.yaml"), "-o", str(tmp / "out")]
    if kind == "targets":
        return ["calibrate", "--targets", str(tmp / "f.yaml"), "--out", str(tmp / "out")]
    return ["sweep", str(tmp / "f.yaml"), "--out", str(tmp / "out"), "--quiet"]


for _kind in ("scenario", "site", "dcc site", "sweep", "reflash", "targets"):
    for _what, _text in YAML_CASES.items():
        def _yaml_case(tmp: Path, kind: str = _kind, what: str = _what, text: str = _text) -> Result:
            return refused(f"yaml {kind}: {what}", _yaml_command(kind, tmp), tmp,
                           files={"f.yaml": text.encode()}, exit_codes=(1,), say="f.yaml",
                           cpu_limit=YAML_CPU_LIMIT)
        case(f"yaml {_kind}: {_what}")(_yaml_case)

SWEEP_CASES = {
    "huge replications": "sites: 100\nyears: 1\nreplications: 100000000000\nsets: [{}]\n",
    "huge sites": "sites: 1000000000000\nyears: 1\nreplications: 1\nsets: [{}]\n",
    "factor explosion": "sites: 100\nyears: 1\nreplications: 2\nfactors:\n"
                        + "".join(f"  rules.cos_hazard: [{', '.join(str(0.01 * j) for j in range(1, 9))}]\n"
                                  .replace("rules.cos_hazard", f"f{i}") for i in range(10)),
    "factor explosion (real keys)": "sites: 100\nyears: 1\nreplications: 2\nfactors:\n"
                                    + "".join(f"  {k}: [{', '.join(str(v) for v in range(1, 41))}]\n"
                                              for k in ("seed", "rules.cos_lead_wd", "wan.target_days",
                                                        "policy.reply_wd", "suppliers.count")),
}
for _what, _text in SWEEP_CASES.items():
    def _sweep_case(tmp: Path, what: str = _what, text: str = _text) -> Result:
        return refused(f"sweep: {what}", _yaml_command("sweep", tmp), tmp, files={"f.yaml": text.encode()},
                       exit_codes=(1,), max_seconds=5)
    case(f"sweep: {_what}")(_sweep_case)


# -- streets (issue 13's bad input) ---------------------------------------------------------------

STREET = (ROOT / "scenarios" / "replay" / "street-three-premises.yaml").read_text()
STREET_CASES = {
    "duplicate device ID": ("00-DB-12-34-56-78-04-A1", "00-DB-12-34-56-78-04-A0", 1),
    "a meter at two premises": ("00-DB-12-34-56-78-06-A0", "00-DB-12-34-56-78-02-A0", 1),
    "a Comms Hub ID at two premises": ("00-DB-12-34-56-78-04-A2", "00-DB-12-34-56-78-02-A2", 1),
    "two premises with one name": ("name: No. 4", "name: No. 2", 1),
    "an event for a meter it lacks": ("devices: [GSME]}", "devices: [IHD]}", 1),
    "GPF with the CHF's ID": ("gpf: 00-DB-12-34-56-78-02-A3", "gpf: 00-DB-12-34-56-78-02-A2", 1),
    "pinned: commissioned before WAN": ("commissioned: {ESME: 30, GSME: 30}\n      joins: 2",
                                        "commissioned: {ESME: 10, GSME: 30}\n      joins: 2", 1),
    "pinned: commissioned and not": ("not_commissioned: []", "not_commissioned: [ESME]", 1),
}
for _what, (_old, _new, _count) in STREET_CASES.items():
    def _street_case(tmp: Path, old: str = _old, new: str = _new, count: int = _count) -> Result:
        assert STREET.count(old) >= count, old
        return refused("", _yaml_command("scenario", tmp), tmp,
                       files={"f.yaml": STREET.replace(old, new, count).encode()}, exit_codes=(1,), say="f.yaml")
    case(f"street: {_what}")(_street_case)


# -- option values ---------------------------------------------------------------------------

def _duis_request(tmp: Path) -> str:
    return str(next(templates().glob("12.2_*")))


OPTION_CASES: dict[str, Callable[[Path], list[str]]] = {
    "han join --join-at 0": lambda t: ["han", "join", "--install-code", CODE, "--pcap", str(t / "j.pcap"),
                                       "--join-at", "0"],
    "han join --join-at 1e309": lambda t: ["han", "join", "--install-code", CODE, "--pcap", str(t / "j.pcap"),
                                           "--join-at", "1e309"],
    "han join --seed -1": lambda t: ["han", "join", "--install-code", CODE, "--pcap", str(t / "j.pcap"),
                                     "--seed", "-1"],
    "reflash --seed -1": lambda t: ["reflash", "--days", "1", "-o", str(t / "o"), "--seed", "-1"],
    "duis run --interval inf": lambda t: ["duis", "run", _duis_request(t), "--out", str(t / "o"),
                                          "--interval", "inf"],
    "duis run --interval nan": lambda t: ["duis", "run", _duis_request(t), "--out", str(t / "o"),
                                          "--interval", "nan"],
    "backlog --years nan": lambda t: ["backlog", "--sites", "10", "--years", "nan", "--out", str(t / "o")],
    "backlog --years 1e300": lambda t: ["backlog", "--sites", "10", "--years", "1e300", "--out", str(t / "o")],
    "backlog --set epoch=9999-12-31": lambda t: ["backlog", "--sites", "10", "--years", "0.2", "--quiet",
                                                 "--set", "epoch=9999-12-31", "--out", str(t / "o")],
    "backlog --set rules.cos_lead_wd=abc": lambda t: ["backlog", "--sites", "10", "--set", "rules.cos_lead_wd=abc",
                                                      "--out", str(t / "o")],
    "backlog --set rules.cos_lead_wd=[1]": lambda t: ["backlog", "--sites", "10", "--set", "rules.cos_lead_wd=[1]",
                                                      "--out", str(t / "o")],
    "duis validate --schema bad.xsd": lambda t: ["duis", "validate", _duis_request(t), "--schema", str(t / "bad.xsd")],
    "duis run --schema bad.xsd": lambda t: ["duis", "run", _duis_request(t), "--schema", str(t / "bad.xsd"),
                                            "--out", str(t / "o")],
    "dongle sniff --start-time 1e300": lambda t: ["dongle", "sniff", "/dev/null", "--out", str(t / "c.pcap"),
                                                  "--start-time", "1e300"],
    "dongle sniff --start-time nan": lambda t: ["dongle", "sniff", "/dev/null", "--out", str(t / "c.pcap"),
                                                "--start-time", "nan"],
    "dongle sniff --start-time -5": lambda t: ["dongle", "sniff", "/dev/null", "--out", str(t / "c.pcap"),
                                               "--start-time", "-5"],
    # issue 17's bad input: inconsistent or empty ranges and targets, a study too large
    "calibrate --param rules.cos_hazard=0.5:0.1": lambda t: ["calibrate", "--param", "rules.cos_hazard=0.5:0.1",
                                                             "--out", str(t / "o")],
    "calibrate --param rules.cos_hazard=0.1:0.1": lambda t: ["calibrate", "--param", "rules.cos_hazard=0.1:0.1",
                                                             "--out", str(t / "o")],
    "calibrate --param nan:1": lambda t: ["calibrate", "--param", "rules.cos_hazard=nan:1", "--out", str(t / "o")],
    "calibrate --param unknown": lambda t: ["calibrate", "--param", "colour=1:2", "--out", str(t / "o")],
    "calibrate --param share above 1": lambda t: ["calibrate", "--param", "igt_share=0.5:1.5", "--out", str(t / "o")],
    "calibrate --targets empty": lambda t: ["calibrate", "--targets", str(t / "empty.yaml"), "--out", str(t / "o")],
    "calibrate --targets inconsistent": lambda t: ["calibrate", "--targets", str(t / "odd.yaml"),
                                                   "--out", str(t / "o")],
    "calibrate --sites 10000000 (memory)": lambda t: ["calibrate", "--sites", "10000000", "--replications", "1000",
                                                      "--workers", "512", "--out", str(t / "o")],
    "calibrate: more than 1,000,000 runs": lambda t: ["calibrate", "--generations", "1000", "--popsize", "100",
                                                     "--replications", "1000", "--out", str(t / "o")],
    "sensitivity --param 2:1": lambda t: ["sensitivity", "--param", "rules.cos_hazard=2:1", "--out", str(t / "o")],
    "backlog --sites 50000000 (memory)": lambda t: ["backlog", "--sites", "50000000", "--workers", "64",
                                                    "--replications", "64", "--out", str(t / "o")],
    # issue 12's: shares above 1, capacities below 0, a list for a number, an obligation before the epoch
    "backlog --set gas_share=0.9 --set igt_share=0.5": lambda t: ["backlog", "--set", "gas_share=0.9", "--set",
                                                                  "igt_share=0.5", "--out", str(t / "o")],
    "backlog --set market.small.field_per_wd=-1": lambda t: ["backlog", "--set", "market.small.field_per_wd=-1",
                                                             "--out", str(t / "o")],
    "backlog --set wan.target_days=[1, 2]": lambda t: ["backlog", "--set", "wan.target_days=[1, 2]",
                                                       "--out", str(t / "o")],
    "backlog --set obligation_start=1999-01-01": lambda t: ["backlog", "--set", "obligation_start=1999-01-01",
                                                            "--out", str(t / "o")],
}
IN_RANGE = {"han join --join-at 0"}  # the traceback: a value the option allows
for _what, _args in OPTION_CASES.items():
    def _option_case(tmp: Path, what: str = _what, args: Callable[[Path], list[str]] = _args) -> Result:
        (tmp / "bad.xsd").write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element")
        (tmp / "empty.yaml").write_text("")
        (tmp / "odd.yaml").write_text("t:\n  figure: backlog_at_epoch\n  policy: email-10wd\n  kind: about\n"
                                      "  value: 500000\n  tolerance: -5\n  source: x\n")
        return refused(what, args(tmp), tmp, exit_codes=(0, 1, 2, 3) if what in IN_RANGE else (1, 2))
    case(_what)(_option_case)


@case("duis run: bad base64 image in 11.1, no schema")
def _bad_image(tmp: Path) -> Result:
    """Without a schema no XSD refuses the image, so the DCC model must: its own E100 in a
    DUIS response the V5.4 XSD accepts (the protocol's error, not an Error line), after a
    12.2 that puts the ESME in the SMI so that no E19 can stand in for it."""
    from sim.duis import schema
    request = next(templates().glob("11.1_*")).read_bytes()
    bad = re.sub(rb"(<sr:FirmwareImage>)[^<]{8}", rb"\g<1>!!!*;^%$", request, count=1)
    assert bad != request
    (tmp / "11.1.xml").write_bytes(bad)
    args = ["duis", "run", str(next(templates().glob("12.2_*"))), str(tmp / "11.1.xml"),
            "--schema", str(tmp / "none.xsd"), "--out", str(tmp / "o")]
    run = hansim(args, tmp)
    problems = [] if run.code == 0 else [f"exit {run.code}"]
    for word in ("Traceback", "Error"):
        if word in run.text:
            problems.append(f"'{word}' printed")
    said = next((line for line in run.text.splitlines() if line.startswith("11.1.xml")), "")
    if "E100 refused (FirmwareImage is not base64)" not in said:
        problems.append(f"11.1 not refused for its image: {said[:100]!r}")
    responses = sorted((tmp / "o").glob("*_11.1_response.xml")) if (tmp / "o").is_dir() else []
    if len(responses) != 1:
        problems.append(f"{len(responses)} 11.1 responses written")
    else:
        text = responses[0].read_bytes()
        if b"<sr:ResponseCode>E100</sr:ResponseCode>" not in text:
            problems.append("the response does not carry E100")
        invalid = schema.check_bytes(schema.load(schema_path()), text)
        if invalid:
            problems.append(f"the response fails the DUIS XSD: {invalid[:1]}")
    return Result("", "hansim " + " ".join(_short(a, tmp) for a in args), problems, run.seconds, said[:160])


# -- secrets in messages -----------------------------------------------------------------------

@case("duis validate: install code with an apostrophe")
def _apostrophe(tmp: Path) -> Result:
    request = next(templates().glob("CCS01_*")).read_bytes()
    secret = CODE[:14] + "'" + CODE[14:32]
    bad = re.sub(rb"(<sr:InstallCode>)[^<]*", rb"\g<1>" + secret.encode(), request, count=1)
    assert bad != request
    (tmp / "r.xml").write_bytes(bad)
    run = hansim(["duis", "validate", str(tmp / "r.xml")], tmp)
    problems = [] if run.code == 1 else [f"exit {run.code}"]
    if "Traceback" in run.text:
        problems.append("traceback")
    for piece in (CODE[:14], CODE[14:32], CODE[:14].lower()):
        if piece in run.text:
            problems.append(f"secret piece {piece[:4]}... printed")
    return Result("", "hansim duis validate r.xml (InstallCode 83FED3407A9397'23A5...)", problems,
                  run.seconds, run.text.strip().splitlines()[-1][:160] if run.text.strip() else "")


@case("duis validate: 16,000 attributes")
def _attributes(tmp: Path) -> Result:
    request = next(templates().glob("8.2_*")).read_bytes()
    attrs = b" ".join(b'a%d="1"' % i for i in range(16_000))
    bad = request.replace(b"<sr:Body>", b"<sr:Body " + attrs + b">", 1)
    (tmp / "big.xml").write_bytes(bad)
    run = hansim(["duis", "validate", str(tmp / "big.xml")], tmp)
    problems = [] if run.code == 1 else [f"exit {run.code}"]
    if run.seconds > 20:
        problems.append(f"took {run.seconds:.1f} s")
    if len(run.text) > 20_000:
        problems.append(f"printed {len(run.text)} bytes")
    return Result("", "hansim duis validate big.xml (8.2 with 16,000 attributes)", problems, run.seconds,
                  f"{len(run.text.splitlines())} lines")


@case("duis validate: 100k schema errors")
def _many_errors(tmp: Path) -> Result:
    request = next(templates().glob("8.2_*")).read_bytes()
    bad = request.replace(b"</sr:Body>", b"<sr:X/>" * 100_000 + b"</sr:Body>", 1)
    (tmp / "many.xml").write_bytes(bad)
    run = hansim(["duis", "validate", str(tmp / "many.xml")], tmp)
    problems = [] if run.code == 1 else [f"exit {run.code}"]
    if len(run.text) > 50_000:
        problems.append(f"printed {len(run.text)} bytes")
    if run.seconds > 30:
        problems.append(f"took {run.seconds:.1f} s")
    return Result("", "hansim duis validate many.xml (8.2 + 100,000 unknown elements)", problems,
                  run.seconds, f"{len(run.text)} bytes, {len(run.text.splitlines())} lines")


# -- site file: the GPF given the CHF's ID ------------------------------------------------------

@case("site file: GPF with the CHF's ID")
def _gpf_chf(tmp: Path) -> Result:
    doc = (ROOT / "docs" / "how-to" / "duis-site-file.md").read_text()
    site = re.findall(r"```yaml\n(.*?)```", doc, re.S)[0]
    chf = re.search(r"chf:\s*\n?\s*(?:id:\s*)?['\"]?([0-9A-Fa-f-]{16,23})", site)
    gpf = re.search(r"gpf:\s*\n?\s*(?:id:\s*)?['\"]?([0-9A-Fa-f-]{16,23})", site)
    if not (chf and gpf):
        return Result("", "", ["could not find chf/gpf ids in the docs' site file"], 0)
    bad = site.replace(gpf[1], chf[1])
    return refused("", _yaml_command("site", tmp), tmp, files={"f.yaml": bad.encode()}, exit_codes=(1,))


# -- output faults (real: a missing parent, a file in the way, a long name, ro and full tmpfs) ----

def _firmware_args(tmp: Path) -> list[str]:
    from firmware import signing_keys
    (tmp / "in").mkdir(exist_ok=True)
    (tmp / "in" / "k.pem").write_bytes(signing_keys.private_pem(signing_keys.generate()))
    (tmp / "in" / "payload.bin").write_bytes(b"firmware" * 32)
    return ["firmware", "build", "--supplier-key", str(tmp / "in" / "k.pem"), "--manufacturer-code", "1234",
            "--image-type", "0001", "--version", "00000002", "--payload", str(tmp / "in" / "payload.bin")]


def _sweep_args(tmp: Path) -> list[str]:
    (tmp / "in").mkdir(exist_ok=True)
    (tmp / "in" / "s.yaml").write_text("sites: 40\nyears: 0.2\nreplications: 1\nsets: [{}]\n")
    return ["sweep", str(tmp / "in" / "s.yaml"), "--workers", "1", "--quiet"]


#: writer -> (arguments given a scratch folder, the output option, writes a folder)
WRITERS: dict[str, tuple[Callable[[Path], list[str]], str, bool]] = {
    "backlog": (lambda t: ["backlog", "--sites", "40", "--years", "0.2", "--replications", "1",
                           "--workers", "1", "--quiet"], "--out", True),
    "sweep": (_sweep_args, "--out", True),
    "replay": (lambda t: ["replay", "--quiet"], "--out", True),
    "reflash": (lambda t: ["reflash", "--days", "20"], "-o", True),
    "duis run": (lambda t: ["duis", "run", str(next(templates().glob("12.2_*")))], "--out", True),
    "han join": (lambda t: ["han", "join", "--install-code", CODE], "--pcap", False),
    "han join --keys-out": (lambda t: ["han", "join", "--install-code", CODE, "--pcap", str(t / "j.pcap")],
                            "--keys-out", False),
    "firmware keygen": (lambda t: ["firmware", "keygen", "--public", str(t / "pub.pem")], "-o", False),
    "firmware keygen --public": (lambda t: ["firmware", "keygen", "-o", str(t / "key.pem")], "--public", False),
    "firmware build": (_firmware_args, "-o", False),
    "calibrate": (lambda t: ["calibrate", "--generations", "1", "--popsize", "2", "--param", "rules.p_replace",
                             "--sites", "200", "--years", "1", "--replications", "1", "--workers", "1",
                             "--quiet"], "--out", True),
    "sensitivity": (lambda t: ["sensitivity", "--samples", "2", "--param", "rules.p_replace", "--param",
                               "wan.reactive_fraction", "--sites", "200", "--years", "1", "--workers", "1", "--quiet"],
                    "--out", True),
}


@contextlib.contextmanager
def mounted(kind: str) -> Iterator[Path | None]:
    """A tmpfs: 'ro' read-only holding an earlier result, 'full' of 16 KiB, already full."""
    where = Path(tempfile.mkdtemp(prefix=f"hansim-{kind}-"))
    size = "16k" if kind == "full" else "1m"
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                      capture_output=True).returncode:
        where.rmdir()
        yield None
        return
    try:
        (where / "result").mkdir()
        (where / "result" / "earlier.csv").write_text("earlier result")
        (where / "result" / "runs").mkdir()  # an earlier sweep's folder, which a sweep resumes
        (where / "earlier.pem").write_text("earlier result")
        if kind == "ro":
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        else:
            with contextlib.suppress(OSError), open(where / "ballast", "wb") as ballast:
                while True:
                    ballast.write(b"\0" * 4096)
                    ballast.flush()
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def _fault_target(fault: str, tmp: Path, disk: Path | None, folder: bool) -> tuple[Path, list[str]]:
    if fault == "missing parent":
        return tmp / "no" / "such" / "out", []
    if fault == "file in the way":
        (tmp / "taken").write_text("earlier")
        return tmp / "taken" / "out", []
    if fault == "invalid path":
        return tmp / ("n" * 300) / "out", []
    assert disk is not None
    if folder:  # an earlier result, replaced only if the new one is whole
        return disk / "result", ["--overwrite"]
    return disk / "earlier.pem", []


def _writer_case(writer: str, fault: str) -> Callable[[Path], Result]:
    def run_case(tmp: Path) -> Result:
        inputs, option, folder = WRITERS[writer]
        args = inputs(tmp)
        if writer == "sweep" and fault in ("read-only folder", "full disk"):
            overwrite_flag: list[str] = []  # a sweep resumes into its folder
        with mounted({"read-only folder": "ro", "full disk": "full"}.get(fault, "none")) as disk:
            if fault in ("read-only folder", "full disk") and disk is None:
                return Result("", "", [], 0, skipped="cannot mount a tmpfs (not root)")
            target, extra = _fault_target(fault, tmp, disk, folder)
            if writer == "sweep" and fault in ("read-only folder", "full disk"):
                extra = overwrite_flag
            watched = [tmp] + ([disk] if disk else [])
            before = [listing(w) for w in watched]
            run = hansim([*args, option, str(target), *extra], tmp, timeout=600)
            problems = refusal_problems(run, (1,))
            after = [listing(w) for w in watched]
            for b, a in zip(before, after, strict=True):
                if a != b:
                    problems.append(f"files changed: {sorted(set(a) ^ set(b))[:3] or 'contents'}")
        said = next((line for line in run.text.splitlines() if line.startswith("Error")), run.text[-120:])
        return Result("", "hansim " + " ".join(_short(a, tmp) for a in [*args, option, str(target), *extra]),
                      problems, run.seconds, said.strip()[:160])
    return run_case


FAULTS = ["missing parent", "file in the way", "invalid path", "read-only folder", "full disk"]
for _writer in WRITERS:
    for _fault in FAULTS:
        case(f"{_writer}: {_fault}")(_writer_case(_writer, _fault))


# -- kill -9 mid-write, then the same command again -----------------------------------------------

#: hansim that stops itself (SIGSTOP) halfway through its Nth write to disk ($HANSIM_STOP_AT;
#: every byte hansim writes goes through sim/output.py's ``_write_all``), so the kill -9 that
#: follows lands mid-write every time, however fast or loaded the machine is
STOPPING = [sys.executable, "-c", """
import os, signal
import sim.output as output
real, nth, count = output._write_all, int(os.environ["HANSIM_STOP_AT"]), [0]
def write_all(handle, data):
    count[0] += 1
    if count[0] == nth:
        real(handle, data[:len(data) // 2])
        handle.flush()
        os.kill(os.getpid(), signal.SIGSTOP)
    real(handle, data)
output._write_all = write_all
from sim.cli import main
main()
"""]


def _stopped(proc: subprocess.Popen, limit: float = 600.0) -> bool:
    """Wait until ``proc`` stops itself (True) or ends (False)."""
    waited = time.monotonic()
    while time.monotonic() - waited < limit:
        pid, status = os.waitpid(proc.pid, os.WNOHANG | os.WUNTRACED)
        if pid and os.WIFSTOPPED(status):
            return True
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return False
        time.sleep(0.05)
    return False


def _hidden(tmp: Path) -> list[str]:
    return sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob(".*"))


def _killed_then_rerun(writer: str, nth: int, resumed: str) -> Callable[[Path], Result]:
    """kill -9 halfway through the ``nth`` write, then the same command: it must clear what
    the dead run staged, and a resumable run must say ``resumed`` (what it kept)."""
    def run_case(tmp: Path) -> Result:
        inputs, option, folder = WRITERS[writer]
        args = [*inputs(tmp), option, str(tmp / "result")]
        if writer == "sweep":
            (tmp / "in" / "s.yaml").write_text("sites: 400\nyears: 1\nreplications: 6\nsets: [{}, {igt_share: 0.1}]\n")
        proc = subprocess.Popen([*STOPPING, *args], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, "HANSIM_STOP_AT": str(nth)})
        if not _stopped(proc):
            return Result("", "", [f"ended (exit {proc.returncode}) before its write {nth}"], 0)
        os.kill(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
        proc.returncode = -signal.SIGKILL
        time.sleep(1.0)  # let orphans notice
        alive = _children_of_group(proc.pid)
        killed_left = _hidden(tmp)
        problems = [] if killed_left or resumed else ["the kill left no sign of a write under way"]
        if alive:
            problems.append(f"{len(alive)} processes of the killed run still alive")
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        again = hansim(args, tmp, timeout=900)
        if again.code != 0:
            problems.append(f"re-run exit {again.code}: {again.text.strip().splitlines()[-1:]} ")
        if resumed and resumed not in again.text:
            problems.append(f"re-run did not say {resumed!r}")
        stray = _hidden(tmp)
        if stray:
            problems.append(f"left after the re-run: {stray[:3]}")
        if writer == "sweep" and again.code == 0:
            reps = sorted(p.relative_to(tmp).as_posix() for p in (tmp / "result").rglob("rep-*.npz"))
            if len(reps) != 12:  # 2 sets x 1 policy x 6 replications, each once
                problems.append(f"{len(reps)} replications written, not 12")
        said = next((line for line in again.text.splitlines() if line.startswith(("resuming", "2 parameter"))), "")
        return Result("", f"kill -9 halfway through write {nth}: hansim " + " ".join(_short(a, tmp) for a in args)
                      + "; then the same again", problems, again.seconds,
                      f"left by the kill: {killed_left[:2]}; after the re-run: {stray[:2]} {said}".strip())
    return run_case


def _children_of_group(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout
    return [int(pid) for pid, group in (line.split() for line in out.splitlines()) if int(group) == pgid]


# (writer, the write to kill it in, what its re-run says it kept): the staged writers in
# their second file; a sweep in its third replication (two kept); a study in its third
# evaluation, after the header (two kept, the cut line dropped)
for _writer, _nth, _resumed in (("backlog", 2, ""), ("sweep", 3, "2 already written, 10 to run"),
                                ("replay", 2, ""), ("reflash", 2, ""), ("duis run", 2, ""),
                                ("calibrate", 4, "resuming: 2 runs"), ("sensitivity", 4, "resuming: 2 runs")):
    case(f"{_writer}: kill -9 mid-write, then again")(_killed_then_rerun(_writer, _nth, _resumed))


# -- sniffer and probe ---------------------------------------------------------------------------

class FakePort(threading.Thread):
    """A PTY whose far end speaks ``lines`` after 'receive' (or at once), then hangs up."""

    def __init__(self, lines: bytes, *, hang_up: bool = True, answer: bool = True) -> None:
        import tty
        super().__init__(daemon=True)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.lines, self.hang_up, self.answer = lines, hang_up, answer

    def run(self) -> None:
        buffer = b""
        try:
            while True:
                buffer += os.read(self.master, 256)
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    if self.answer:
                        os.write(self.master, line + b"\r\n")
                    if line == b"receive" or not self.answer:
                        os.write(self.master, self.lines)
                        time.sleep(0.5)
                        if self.hang_up:
                            os.close(self.master)
                            return
        except OSError:
            pass

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


FRAME = b"received: 4188010000ffff00001234 power: -61 lqi: 172 time: %d\r\n"
SNIFFER_CASES = {
    "oversized power": FRAME % 1 + b"received: 418801 power: " + b"9" * 5000 + b" lqi: 1 time: 2\r\n",
    "oversized time": FRAME % 1 + b"received: 4188010000ffff00001234 power: -1 lqi: 9 time: " + b"9" * 40 + b"\r\n",
    "pulled mid-frame": FRAME % 1 + FRAME % 2 + b"received: 4188010000ff",
    "no newline for 1 MB": FRAME % 1 + b"x" * 1_000_000,
    "short psdu (scapy struct.error)": FRAME % 1 + b"received: 411234 power: -61 lqi: 172 time: 3\r\n",
}


def _sniffer_case(lines: bytes) -> Callable[[Path], Result]:
    def run_case(tmp: Path) -> Result:
        port = FakePort(lines)
        port.start()
        try:
            run = hansim(["dongle", "sniff", port.path, "--channel", "15", "--out", str(tmp / "c.pcap"),
                          "--quiet"], tmp, timeout=60)
        finally:
            port.close()
        problems = []
        if run.code is None:
            problems.append("hang")
        for word in ("Traceback", "Warning"):
            if word in run.text:
                problems.append(f"{word} printed")
        count = 0
        if not (tmp / "c.pcap").exists():
            problems.append("no pcap kept")
        else:
            from scapy.utils import RawPcapReader
            with RawPcapReader(str(tmp / "c.pcap")) as reader:
                count = sum(1 for _ in reader)
            good = lines.count(FRAME.split(b"%d")[0])  # the whole, valid frames sent before the fault
            if count < good:
                problems.append(f"{good - count} of the {good} frames sent before the fault lost")
        stray = [p.name for p in tmp.iterdir() if p.name.startswith(".")]
        if stray:
            problems.append(f"left: {stray}")
        lines_out = [line for line in run.text.splitlines() if line.strip()]
        if len(lines_out) > 2:
            problems.append(f"{len(lines_out)} lines printed")
        return Result("", f"hansim dongle sniff PTY --channel 15 --out c.pcap --quiet  (PTY: {lines[-60:]!r})",
                      problems, run.seconds, (" | ".join(lines_out)[:140] + f"; {count} frames kept"))
    return run_case


for _what, _lines in SNIFFER_CASES.items():
    case(f"dongle sniff: {_what}")(_sniffer_case(_lines))


def _probe_case(behaviour: str) -> Callable[[Path], Result]:
    def run_case(tmp: Path) -> Result:
        port = FakePort(os.urandom(512) if behaviour == "garbage" else b"", answer=False,
                        hang_up=behaviour == "closed")
        if behaviour != "silent":
            port.start()
        try:
            run = hansim(["dongle", "probe", port.path, "--timeout", "1"], tmp, timeout=120)
        finally:
            port.close()
        return Result("", f"hansim dongle probe PTY --timeout 1  (a {behaviour} port)",
                      refusal_problems(run, (1,)) if False else _probe_problems(run), run.seconds,
                      run.text.strip()[:160])
    return run_case


def _probe_problems(run: Run) -> list[str]:
    problems = [] if run.code == 1 else [f"exit {run.code}"]
    lines = [line for line in run.text.splitlines() if line.strip()]
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines printed")
    if "Traceback" in run.text or "Warning" in run.text:
        problems.append("traceback/warning")
    return problems


for _behaviour in ("silent", "closed", "garbage"):
    case(f"dongle probe: {_behaviour} port")(_probe_case(_behaviour))


# -- a stick killed mid-window ---------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KILL_AFTER = 20.0  # seconds into a --radio run: inside its 8.11 join window


def _stick_killed(command: str) -> Callable[[Path], Result]:
    def run_case(tmp: Path) -> Result:
        port = _free_port()
        stick = subprocess.Popen([*HANSIM, "dongle", "virtual", "--tcp", str(port)], cwd=tmp,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.2)
        radio = f"znp:socket://127.0.0.1:{port}"
        if command == "duis run":  # 12.2 and 8.14.1 answered, then the 8.11 window on the stick
            requests = [str(next(templates().glob(f"{p}*"))) for p in ("12.2_", "8.14.1_", "CCS01_")]
            args = ["duis", "run", *requests, "--radio", radio, "--out", str(tmp / "o"), "--no-sign"]
        else:
            args = ["replay", "--radio", radio, "--out", str(tmp / "o")]
        proc = subprocess.Popen([*HANSIM, *args], cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        # The commands print their lines only when the run ends, so no output can cue the
        # kill: wait into the 8.11 window instead (the stick starts in seconds, the window
        # lasts 90 s). A kill before the stick has started must end in one line just the same.
        time.sleep(KILL_AFTER)
        stick.kill()
        stick.wait()
        try:
            out, err = proc.communicate(timeout=240)
            run = Run(proc.returncode, out, err, 0)
        except subprocess.TimeoutExpired:
            proc.kill()
            run = Run(None, "", "", 0)
        problems = []
        if run.code is None:
            problems.append("hang")
        elif run.code == 0:
            problems.append("exit 0 (the stick went before the run needed it?)")
        if "Traceback" in run.text or "AttributeError" in run.text:
            problems.append("traceback")
        errors = [line for line in run.text.splitlines() if line.startswith("Error")]
        if len(errors) != 1:
            problems.append(f"{len(errors)} error lines")
        kept = sorted(p.relative_to(tmp).as_posix() for p in (tmp / "o").rglob("*")) if (tmp / "o").exists() else []
        if command == "duis run" and not kept:  # it writes the requests done; a replay, nothing
            problems.append("nothing written so far was kept")
        return Result("", f"hansim dongle virtual --tcp P & hansim {' '.join(_short(a, tmp) for a in args)}; "
                      f"kill the stick {KILL_AFTER:.0f} s after the run starts", problems, 0,
                      f"{errors[-1][:110] if errors else run.text[-100:]!r}; kept {len(kept)} files")
    return run_case


for _command in ("duis run", "replay"):
    case(f"{_command} --radio: stick killed mid-window")(_stick_killed(_command))


# -- sweeps: a corrupt or empty replication file ---------------------------------------------------

def _corrupt_rep(kind: str) -> Callable[[Path], Result]:
    def run_case(tmp: Path) -> Result:
        args = [*_sweep_args(tmp), "--out", str(tmp / "result")]
        first = hansim(args, tmp, timeout=600)
        reps = sorted((tmp / "result").rglob("rep-*.npz"))
        if first.code != 0 or not reps:
            return Result("", "", [f"first sweep failed: {first.text[-200:]}"], first.seconds)
        reps[0].write_bytes(b"" if kind == "empty" else reps[0].read_bytes()[:40])
        again = hansim(args, tmp, timeout=600)
        problems = [] if again.code == 0 else [f"exit {again.code}"]
        if "Traceback" in again.text:
            problems.append("traceback")
        return Result("", f"hansim sweep s.yaml --out result; {kind} rep-*.npz; the same again", problems,
                      again.seconds, (again.text.strip().splitlines() or [""])[-1][:160])
    return run_case


for _kind_rep in ("empty", "truncated"):
    case(f"sweep: {_kind_rep} rep-*.npz, then resume")(_corrupt_rep(_kind_rep))


# -- firmware ------------------------------------------------------------------------------------

@case("firmware build -o /nonexistent/dir/x.img")
def _no_dirs(tmp: Path) -> Result:
    result = refused("", [*_firmware_args(tmp), "-o", "/nonexistent-hansim/dir/x.img"], tmp, exit_codes=(1,))
    if Path("/nonexistent-hansim").exists():
        result.problems.append("created /nonexistent-hansim")
        shutil.rmtree("/nonexistent-hansim")
    return result


@case("firmware: first-byte length-field changes")
def _length_field(tmp: Path) -> Result:
    """Every value of every byte of the OTA header's length fields and the signature's:
    refused unless it is the force-replace flag (GBCS: a flag outside the signature)."""
    from firmware import image, signing_keys
    key = signing_keys.generate()
    built = image.build(supplier_key=key, manufacturer_code=0x7A01, image_type=0x0100, version=0x00020100,
                        manufacturer_image=b"firmware" * 40, header_string="fuzz").serialize()
    accepted = []
    tried = 0
    for at in range(len(built)):
        for value in range(256):
            if value == built[at]:
                continue
            data = built[:at] + bytes([value]) + built[at + 1:]
            tried += 1
            try:
                parsed = image.parse(data)
                parsed.verify(key.public_key())
            except image.FirmwareImageError:
                continue
            accepted.append((at, value, parsed.serialize() == data))
    flags = {at for at, _, _ in accepted}
    # GBCS: the supplier signs the manufacturer image; the OTA header's fields after its
    # length (field control .. header string, offsets 8-51) and the force-replace flag
    # (00/01, the byte before the signature length) are not signed, by design
    unsigned = set(range(8, 52)) | {len(built) - 66}
    problems = [f"accepted at offsets {sorted(flags - unsigned)}"] if flags - unsigned else []
    return Result("", "in-process: every byte of a built image set to each of its 255 other values "
                  "(firmware.image.parse + verify)", problems, 0,
                  f"{tried} tried, {len(accepted)} accepted, at offsets {sorted(flags)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="cases whose name holds this")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    failed = 0
    for name, fn in CASES:
        if args.only and not any(o in name for o in args.only):
            continue
        if args.list:
            print(name)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                result = fn(Path(tmp))
            except Exception as err:  # noqa: BLE001 - the harness itself failed: say so
                result = Result("", "", [f"harness: {type(err).__name__}: {err}"], 0)
        result.name = name
        verdict = "SKIP" if result.skipped else ("ok" if not result.problems else "FAIL")
        failed += verdict == "FAIL"
        print(f"{verdict:4} {name} ({result.seconds:.2f} CPU s): {result.skipped or '; '.join(result.problems) or ''}"
              f"\n     $ {result.command}\n     > {result.said}", flush=True)
    print(f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
