"""Fuzz targets: every entry point a field tool's inputs reach, and what "held" means.

One registry, :data:`TARGETS`, used by ``tests/test_fuzz.py`` (hypothesis, a bounded
number of examples for CI) and ``benchmarks/fuzz.py`` (many more, with figures). A
target is a hypothesis strategy for its inputs and a ``feed`` function that hands one
input to the real entry point. An input *held* when ``feed`` returns (accepted) or raises
one of the target's ``refusals`` (the clear, one-line errors the entry point promises)
within :data:`HANG_SECONDS`, leaving no stray file in its scratch folder. Anything else
is a crash, a hang or a leftover.

To add an entry point (HTTP bodies, GBCS payloads, EZSP bytes ...), add a ``Target`` to
``TARGETS`` with :func:`register`: the suite and the benchmark pick it up.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
from click.testing import CliRunner
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
HANG_SECONDS = 10.0  # CPU seconds: the hangs ran for more than 60 s
WALL_FACTOR = 6  # wall-clock backstop, for an input that blocks (a shared runner is slow)
SECRET_CODE = "83FED3407A939723A5C639B26916D505"  # fed to the DUIS target; never printed


@dataclass(frozen=True)
class Target:
    name: str
    inputs: st.SearchStrategy
    feed: Callable[[object, Path], object]  # (input, scratch folder) -> anything
    refusals: tuple[type[BaseException], ...]
    #: files a feed may leave in its scratch folder (the input itself, its outputs)
    allowed: Callable[[Path], bool] = lambda p: not p.name.startswith(".")
    #: one-off set-up outside the hang timer (loading a schema takes seconds)
    prepare: Callable[[], object] = lambda: None


TARGETS: dict[str, Target] = {}


def register(target: Target) -> Target:
    TARGETS[target.name] = target
    return target


class Refused(Exception):
    """A command that said no the way it should: exit 1 (or click's 2) and an error line."""


class Hang(Exception):
    """An input that took longer than HANG_SECONDS."""


@dataclass(frozen=True)
class Outcome:
    kind: str  # "accepted", "refused", "crash", "hang", "leftover"
    detail: str = ""


def run_one(target: Target, value: object) -> Outcome:
    """Feed one input in a fresh scratch folder, with alarms for hangs: HANG_SECONDS of
    this process's CPU time (a loaded, shared machine does not make a slow input a hang)
    or WALL_FACTOR times that of wall time (an input that blocks without computing)."""
    target.prepare()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        fired: list[str] = []

        def alarm(signum, frame):
            fired.append("CPU" if signum == signal.SIGPROF else "wall")
            # raised where the program is; if that is a place that swallows exceptions
            # (a gc callback, a finalizer), ``fired`` still says it hung
            raise Hang(f"> {HANG_SECONDS:g} {fired[0]} s" if fired[0] == "CPU"
                       else f"> {HANG_SECONDS * WALL_FACTOR:g} wall s")

        previous = {sig: signal.signal(sig, alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
        signal.setitimer(signal.ITIMER_PROF, HANG_SECONDS)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS * WALL_FACTOR)
        try:
            target.feed(value, scratch)
            outcome = Outcome("accepted")
        except Hang as err:
            outcome = Outcome("hang", str(err))
        except target.refusals as err:
            outcome = Outcome("refused", str(err))
        except Exception as err:  # noqa: BLE001 - anything else is what we are looking for
            outcome = Outcome("crash", f"{type(err).__name__}: {err}"[:300])
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if fired and outcome.kind != "hang":
            outcome = Outcome("hang", f"> {fired[0]} limit (the alarm was swallowed where it landed)")
        stray = [p.name for p in scratch.rglob("*") if not target.allowed(p)]
        if outcome.kind in ("accepted", "refused") and stray:
            outcome = Outcome("leftover", ", ".join(stray))
        return outcome


# -- input strategies ---------------------------------------------------------------------

HOSTILE_YAML = [
    "a: &x [1, *x]\n", "a: &x\n  b: *x\n", "[" * 5000 + "]" * 5000, "? [1, 2]\n: 3\n",
    "{a: 1}: 2\n", "x: \x00\n", "x: \x1b[31m\n", "x: \ud800\n",
    "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else 'x'}]\n" for i in range(9)) + "k: 1\n",
    "n: " + "9" * 5000 + "\n", "start: 2024-02-30\n", "seed: -1\n", "years: .nan\n",
    "years: .inf\n", "replications: 100000000000\n", "sites: 1e400\n", "<<: *nowhere\n",
    "%YAML 9.9\n---\na: 1\n", "--- !!python/object:os.system\n", "a: !!binary '!!!'\n",
    "factors:\n" + "".join(f"  f{i}: [1, 2, 3, 4, 5, 6, 7, 8]\n" for i in range(10)),
]


#: values put in place of a YAML field's: wrong types, edges, and numbers no float holds
HOSTILE_VALUES = [b"[1]", b"{a: 1}", b"[]", b"{}", b"9" * 400, b"-" + b"9" * 400, b".nan", b".inf", b"-.inf",
                  b"-1", b"0", b"''", b"~", b"true", b"2024-02-30", b"1e309", b"x" * 5000, b"!!binary AAAA",
                  b"0x7fffffffffffffff", b"1_000", b"-0.0", b"2100-01-01"]
_FIELD = re.compile(rb"^([ \t-]*[\w.-]+:)[ \t]+\S[^\n]*$", re.M)


def mutated(seeds: list[bytes], hostile: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with bytes flipped, cut, duplicated or a hostile snippet spliced in, or (in
    YAML) a field's value replaced by a hostile one."""

    @st.composite
    def build(draw) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 4))):
            op = draw(st.sampled_from(["flip", "cut", "dup", "splice", "byte", "value", "value"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            fields = list(_FIELD.finditer(data)) if op == "value" else []
            if fields:
                field = fields[draw(st.integers(0, len(fields) - 1))]
                data[field.end(1):field.end()] = b" " + draw(st.sampled_from(HOSTILE_VALUES))
            elif op == "flip" and data:
                data[at] ^= 1 << draw(st.integers(0, 7))
            elif op == "cut":
                del data[at:at + draw(st.integers(1, 64))]
            elif op == "dup":
                data[at:at] = data[at:at + draw(st.integers(1, 64))]
            elif op == "splice":
                data[at:at] = draw(st.sampled_from(hostile))
            elif data:
                data[at] = draw(st.integers(0, 255))
        return bytes(data)

    return st.one_of(build(), st.sampled_from(hostile), st.binary(max_size=512))


def _text_files(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths]


def _docs_yaml(page: str) -> list[bytes]:
    text = (ROOT / "docs" / page).read_text("utf-8")
    return [block.encode() for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _write(data: bytes, scratch: Path, name: str) -> Path:
    path = scratch / name
    path.write_bytes(data)
    return path


# -- YAML files -----------------------------------------------------------------------------

_YAML_HOSTILE = [h.encode("utf-8", "surrogatepass") for h in HOSTILE_YAML]


def _scenario(data: bytes, scratch: Path) -> object:
    from sim.replay.scenario import load_scenario
    return load_scenario(_write(data, scratch, "s.yaml"))


def _site(data: bytes, scratch: Path) -> object:
    from sim.dcc.site_file import load_site
    return load_site(_write(data, scratch, "site.yaml"))


def _sweep(data: bytes, scratch: Path) -> object:
    """The sweep file up to its plan (running a valid one is a benchmark, not a fuzz)."""
    from sim.cli import sweep
    doc = sweep.read_sweep(_write(data, scratch, "sweep.yaml"))
    sets = sweep.parameter_sets(doc)
    for key, default, low, high, kind in (("sites", 1, 1, sweep.MAX_SITES, int),
                                          ("years", 1.0, 0.1, sweep.MAX_YEARS, float),
                                          ("replications", 1, 1, sweep.MAX_REPLICATIONS, int)):
        sweep._number(doc, key, default, low, high, kind)
    return sets


def _reflash(data: bytes, scratch: Path) -> object:
    from sim.mp155.scenario import Scenario
    return Scenario.load(_write(data, scratch, "reflash.yaml"))


def _yaml_refusals() -> tuple[type[BaseException], ...]:
    from sim.yamlfile import InputFileError
    return (InputFileError, click.ClickException)


@cache
def _scenario_seeds() -> list[bytes]:
    return _text_files(sorted((ROOT / "scenarios" / "replay").glob("*.yaml")))


register(Target("yaml-scenario", mutated(_scenario_seeds(), _YAML_HOSTILE), _scenario, _yaml_refusals()))
register(Target("yaml-site", mutated(_docs_yaml("how-to/duis-site-file.md"), _YAML_HOSTILE), _site,
                _yaml_refusals()))
register(Target("yaml-sweep", mutated(_docs_yaml("how-to/backlog-sweeps.md"), _YAML_HOSTILE), _sweep,
                _yaml_refusals()))
def _targets(data: bytes, scratch: Path) -> object:
    from sim.population.calibration import load_targets
    return load_targets(_write(data, scratch, "targets.yaml"))


def _targets_refusals() -> tuple[type[BaseException], ...]:
    from sim.population.study import StudyError
    return (StudyError,)


register(Target("yaml-targets", mutated(_text_files([ROOT / "sim" / "population" / "targets.yaml"])
                                        + _docs_yaml("tutorial/calibration.md"), _YAML_HOSTILE),
                _targets, _targets_refusals()))
register(Target("yaml-reflash", mutated(_text_files([ROOT / "scenarios" / "reflash" / "mp155-reflash.yaml"]),
                                        _YAML_HOSTILE), _reflash, _yaml_refusals()))


# -- DUIS files -----------------------------------------------------------------------------

def _duis_seeds() -> list[bytes]:
    from duis_support import templates
    return [p.read_bytes() for p in sorted(templates().glob("*.XML"))[:40]]


_DUIS_HOSTILE = [
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><a>&c;</a>',
    SECRET_CODE[:10].encode() + b"'" + SECRET_CODE[10:].encode(), b"\x00", b"<sr:InstallCode>",
    b"]]>", b"&#0;", b"<" * 200, b" xmlns:sr='x'",
]


def _duis(data: bytes, scratch: Path) -> object:
    from duis_support import xsd

    from sim.dcc.frontdoor import Dcc
    from sim.dcc.site_file import default_premises
    from sim.duis import schema as duis_schema
    problems = duis_schema.check_bytes(xsd(), data)
    outcome = Dcc(default_premises(), xsd()).submit(data)
    said = " ".join(str(p) for p in problems) + outcome.summary()
    if SECRET_CODE[:12] in said.upper():
        raise AssertionError("an install code in an error message")
    return outcome


def _duis_refusals() -> tuple[type[BaseException], ...]:
    from sim.duis.request import NotDUIS
    return (NotDUIS,)


def _duis_inputs() -> st.SearchStrategy[bytes]:
    seeds = _duis_seeds()
    with_secret = [s.replace(b"30313233343536373839414243444546", SECRET_CODE.encode()) for s in seeds]
    return mutated(with_secret, _DUIS_HOSTILE)


def _duis_prepare() -> None:
    from duis_support import xsd
    xsd()


register(Target("duis", st.deferred(_duis_inputs), _duis, _duis_refusals(), prepare=_duis_prepare))


# -- keystore files (dcc serve --keystore) ------------------------------------------------------

_JSON_HOSTILE = [[], {}, 1, -1, 1e308, None, True, "", "x" * 5000, "-----BEGIN CERTIFICATE-----\nAAAA\n",
                 "-----BEGIN EC PRIVATE KEY-----\n!!\n-----END EC PRIVATE KEY-----\n", {"certificate": 1},
                 [{"certificate": ""}], "\ud800"]


@st.composite
def _keystore_inputs(draw) -> bytes:
    """The ZAZ1 keystore with one value (or key) anywhere in it replaced by a hostile one,
    then, sometimes, its bytes mutated too."""
    import json

    from sim.dcc.keystore import ZAZ1_KEYSTORE
    doc = json.loads(ZAZ1_KEYSTORE.read_text())
    node, path = doc, []
    while isinstance(node, dict) and node and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(node)))
        path.append(key)
        node = node[key]
    replacement = draw(st.sampled_from(_JSON_HOSTILE))
    if not path:
        doc = replacement
    else:
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = replacement
    data = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return draw(st.one_of(st.just(data), mutated([data], [b"\x00", b"[" * 5000, b"\"\\ud800\""])))


def _keystore(data: bytes, scratch: Path) -> object:
    from sim.dcc.keystore import load_keystore
    return load_keystore(_write(data, scratch, "keystore.json"))


def _keystore_refusals() -> tuple[type[BaseException], ...]:
    from sim.dcc.keystore import KeystoreError
    return (KeystoreError,)


register(Target("keystore-json", _keystore_inputs(), _keystore, _keystore_refusals()))


# -- firmware images ------------------------------------------------------------------------

@cache
def _image_seed() -> tuple[bytes, object]:
    from firmware import image, signing_keys
    key = signing_keys.generate()
    built = image.build(supplier_key=key, manufacturer_code=0x7A01, image_type=0x0100,
                        version=0x00020100, manufacturer_image=b"firmware" * 40, header_string="fuzz")
    return built.serialize(), key.public_key()


def _firmware(data: bytes, scratch: Path) -> object:
    from firmware import image
    original, public = _image_seed()
    parsed = image.parse(data)
    parsed.verify(public)
    # GBCS signs the manufacturer image only (firmware/image.py): a changed one that still
    # verifies is a forgery accepted, a crash too
    if parsed.manufacturer_image != image.parse(original).manufacturer_image:
        raise AssertionError("a changed manufacturer image verified")
    return parsed


def _firmware_refusals() -> tuple[type[BaseException], ...]:
    from firmware.image import FirmwareImageError
    return (FirmwareImageError,)


register(Target("firmware-image", st.deferred(lambda: mutated([_image_seed()[0]], [b"\xff" * 8, b"\x00" * 8])),
                _firmware, _firmware_refusals()))


# -- GBCS payloads --------------------------------------------------------------------------

@cache
def _gbcs_world() -> tuple[object, list[bytes], set]:
    """The reader (RTDS / DCC Boxed organisation keys, hansim's test PKI for devices), the
    seeds (every RTDS vector hansim builds a use case from, and hansim's own messages that
    verify: MACed commands and alerts, device-signed responses, a signed pre-command) and
    what each protected seed says (header, content): a mutation that still verifies must
    say one of those, or it is a forgery accepted."""
    from gbcs_support import rtds, rtds_keystore

    from gbcs import use_cases as uc
    from gbcs.grouping import Cra, GroupingHeader
    from gbcs.keystore import KeyStore
    from gbcs.messages import ACB, Envelopes
    envelopes = Envelopes(KeyStore([rtds_keystore()]))
    supplier, chf, esme = (bytes.fromhex(e) for e in ("90B3D51F30010000", "00DB1234567890A2",
                                                       "00DB1234567890A0"))
    when = dt.datetime(2024, 1, 8, 9, tzinfo=dt.UTC)
    ours = [
        envelopes.command(GroupingHeader(Cra.COMMAND, 7, ACB, chf, uc.MessageCode.CCS01, supplier, 9),
                          uc.ccs01_command(7, esme, "ESME", b"0123456789ABCDEF", 90)),
        envelopes.reply(GroupingHeader(Cra.ALERT, 8, chf, ACB, uc.MessageCode.CS14),
                        uc.cs14_device_log_changed(8, when, chf, [(esme, bytes(range(16)))]),
                        signed=False),
        envelopes.reply(GroupingHeader(Cra.RESPONSE, 9, esme, supplier, uc.MessageCode.CS06,
                                       date_time=bytes(12)),
                        uc.cs06_outcome(uc.ActivationResult.SUCCESS, bytes(4)), signed=True),
        envelopes.sign(envelopes.pre_command(GroupingHeader(Cra.COMMAND, 10, supplier, esme,
                                                            uc.MessageCode.ECS70),
                                             uc.ecs70_command(10, when, when))),
    ]
    seeds = [rtds(u.rtds) for u in uc.USE_CASES] + ours
    said = set()
    for seed in seeds:
        try:
            opened = envelopes.open(seed)
        except ValueError:
            continue  # an RTDS device signature: hansim's devices sign with its test PKI
        said.add((opened.message.header, opened.message.content))
    return envelopes, seeds, said


_GBCS_HOSTILE = [b"\xdd" + bytes(6) + b"\x83\xff\xff\xff", b"\xdf\x09\x01" + bytes(8),
                 b"\xdf\x09\x04" + bytes(30), b"\x82\xff\xff", b"\x84\x00\x00\x00\x01",
                 b"\x40" + bytes(64), b"\x00", b"\xdd" * 64, bytes(5000)]


def _gbcs(data: bytes, scratch: Path) -> object:
    """A GBCS message into the reader that checks its MAC and signature (what a device or
    the DCC model does before trusting one)."""
    envelopes, _, said = _gbcs_world()
    opened = envelopes.open(data)
    message = opened.message
    if (opened.maced or message.signature) and (message.header, message.content) not in said:
        raise AssertionError("a changed GBCS message verified: a forgery accepted")
    return opened


def _gbcs_refusals() -> tuple[type[BaseException], ...]:
    from gbcs.encoding import GbcsError
    return (GbcsError,)


register(Target("gbcs-payload", st.deferred(lambda: mutated(_gbcs_world()[1], _GBCS_HOSTILE)),
                _gbcs, _gbcs_refusals(), prepare=_gbcs_world))


@cache
def _critical_command() -> tuple[str, str, object]:
    """A pre-command the DCC issued for an ECS70 (8.1.1), the supplier's signed copy, and
    the supplier's public key the meter checks it with."""
    from gbcs.grouping import SignedMessage
    from sim.duis.precommand import sign, supplier_test_key
    from sim.duis.response import PreCommand
    _, seeds, _ = _gbcs_world()
    signed = SignedMessage.from_bytes(seeds[-1])
    issued = base64.b64encode(SignedMessage(signed.header, signed.content, None).to_bytes()).decode()
    key = supplier_test_key("90-B3-D5-1F-30-01-00-00")
    return issued, sign(PreCommand("4.0", issued), key), key.public_key()


def _signed_command(data: bytes, scratch: Path) -> object:
    """A variant-5 GBCSPayload (base64, as DUIS carries it) into the meter's check: the
    pre-command the DCC issued, signed by the supplier whose key it holds."""
    from sim.duis.precommand import open_signed
    issued, genuine, public = _critical_command()
    opened = open_signed(base64.b64encode(data).decode(), issued, public)
    if opened.to_bytes() != base64.b64decode(genuine):
        raise AssertionError("a changed signed pre-command was obeyed")
    return opened


def _signed_command_refusals() -> tuple[type[BaseException], ...]:
    from sim.duis.precommand import PreCommandError
    return (PreCommandError,)


register(Target("gbcs-signed-command",
                st.deferred(lambda: mutated([base64.b64decode(_critical_command()[1])],
                                            _GBCS_HOSTILE)),
                _signed_command, _signed_command_refusals(), prepare=_critical_command))


# -- firmware images as the DCC ships them ---------------------------------------------------

@cache
def _dcc_image() -> tuple[bytes, object]:
    """The image in the DCC's 11.1 template and the DCC Boxed test supplier's certificate
    that verifies it (GBCS: the supplier signs the manufacturer image)."""
    from _firmware_support import template_image
    from cryptography import x509
    from gbcs_support import rtds_keystore
    pem = (rtds_keystore() / "90b3d51f30010000-ds.pem").read_bytes()
    return template_image(), x509.load_pem_x509_certificate(pem).public_key()


def _dcc_firmware(data: bytes, scratch: Path) -> object:
    from firmware import image
    original, public = _dcc_image()
    parsed = image.parse(data)
    parsed.verify(public)
    if parsed.manufacturer_image != image.parse(original).manufacturer_image:
        raise AssertionError("a changed manufacturer image verified")
    return parsed


register(Target("firmware-dcc-image",
                st.deferred(lambda: mutated([_dcc_image()[0]], [b"\xff" * 8, b"\x00" * 8])),
                _dcc_firmware, _firmware_refusals(), prepare=_dcc_image))


# -- install codes --------------------------------------------------------------------------

def _install_code(text: str, scratch: Path) -> object:
    from han.installcode import InstallCode
    return InstallCode.parse(text)


def _install_code_refusals() -> tuple[type[BaseException], ...]:
    from han.installcode import InstallCodeError
    return (InstallCodeError,)


_CODE_TEXT = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789abcdefABCDEF -:'\"xX$|Z:I", max_size=60),
    st.sampled_from([SECRET_CODE + "C3B5", "Z:0011223344556677$I:" + SECRET_CODE + "C3B5",
                     "0011223344556677|" + SECRET_CODE, "0x" + SECRET_CODE, "8" * 4000]),
)
register(Target("install-code", _CODE_TEXT, _install_code, _install_code_refusals()))


# -- ZNP bytes (the virtual stick's host side) ----------------------------------------------

def _znp(data: bytes, scratch: Path) -> object:
    from han.znp.emulator import ZStackEmulator
    emulator = ZStackEmulator(seed=1)
    for start in range(0, len(data), 37):  # as a serial port delivers: in pieces
        emulator.receive(data[start:start + 37], now=start / 1000)
    return emulator.take_output()


_ZNP_SEEDS = [bytes.fromhex("fe00210120"), bytes.fromhex("fe0021022322"), bytes.fromhex("fe01410000" + "40"),
              bytes.fromhex("fe032608000000" + "2d")]
register(Target("znp-bytes", mutated(_ZNP_SEEDS, [b"\xfe" * 40, b"\xfe\xff" + b"\x00" * 300]), _znp, ()))


# -- EZSP over ASH (the virtual EmberZNet stick's host side) -----------------------------------

def _ezsp(data: bytes, scratch: Path) -> object:
    from han.ezsp.emulator import EzspEmulator
    emulator = EzspEmulator(seed=1)
    for start in range(0, len(data), 37):  # as a serial port delivers: in pieces
        emulator.receive(data[start:start + 37], now=start / 1000)
    emulator.advance(60.0)  # the NCP's retransmissions and its ERROR frame run out
    return emulator.take_output()


# RST; DATA version(13); DATA networkState; DATA getValue (ASH: stuffed, randomised, CRC)
_EZSP_SEEDS = [bytes.fromhex("1ac038bc7e" "004321a9542a7d3816c07e" "104021a94c2aaa827e"
                             "204121a9fe2a045a967e"),
               bytes.fromhex("1ac038bc7e004321a9542a7d3816c07e")]
register(Target("ezsp-bytes", mutated(_EZSP_SEEDS, [b"\x7e" * 40, b"\x7d" * 30, b"\x1a\x18\x11\x13",
                                                    b"\x00" * 300 + b"\x7e"]), _ezsp, ()))


# -- ZNP and EZSP bytes over the virtual stick's TCP port (hansim dongle virtual --tcp) --------
# One real VirtualStick per front end, on loopback, in its own event-loop thread with a
# meter it may let join; each input is one host: hostile bytes in pieces of a drawn size,
# then the host closes, resets the connection, or stays (a newer host takes the stick
# over). Held: no exception reached the loop (a protocol callback, a timer), and a new
# host's clean request (Z-Stack: SYS Ping; EmberZNet: an ASH RST) is answered.

_STICK_PROBES = {"znp": (bytes.fromhex("fe00210120"), b"\xfe\x02\x61\x01"),  # -> Ping's SRSP
                 "ezsp": (bytes.fromhex("1ac038bc7e"), b"\xc1\x02")}  # -> RSTACK, version 2
STICK_ANSWER_S = 3.0


class _StickServer:
    """A virtual stick served on TCP, its loop thread, and every exception the loop saw."""

    def __init__(self, kind: str) -> None:
        import asyncio
        import threading

        from han.ezsp.emulator import EzspEmulator
        from han.installcode import InstallCode
        from han.znp.emulator import ZStackEmulator
        from han.znp.meters import EmulatedMeter, parse_eui64
        from han.znp.serve import VirtualStick
        meter = EmulatedMeter(parse_eui64("00-DB-12-34-56-78-90-A0"), InstallCode.parse(SECRET_CODE + "C3B5"))
        front_end = EzspEmulator if kind == "ezsp" else ZStackEmulator
        self.stick = VirtualStick(front_end(meters=(meter,), seed=1, join_delay=0.05))
        self.errors: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(
            lambda _, context: self.errors.append(f"{context.get('message')}: {context.get('exception')!r}"[:300]))
        threading.Thread(target=self.loop.run_forever, daemon=True, name=f"fuzz-stick-{kind}").start()
        path = asyncio.run_coroutine_threadsafe(self.stick.open_tcp(0), self.loop).result(60)
        self.port = int(path.rsplit(":", 1)[1])


@cache
def _stick_server(kind: str) -> _StickServer:
    return _StickServer(kind)


@cache
def _stick_seeds() -> dict[str, list[bytes]]:
    """What hosts send: the emulators' seeds, and for Z-Stack a formation, the meter's
    install code and a permit (so joins and their timers run in the loop)."""
    import zigpy_znp.commands as c
    import zigpy_znp.types as t

    from han.znp.framing import encode
    from han.znp.meters import parse_eui64
    commission = [encode(c.AppConfig.BDBStartCommissioning.Req(Mode=c.app_config.BDBCommissioningMode.NwkFormation)),
                  encode(c.AppConfig.BDBAddInstallCode.Req(
                      InstallCodeFormat=c.app_config.InstallCodeFormat.InstallCodeAndCRC,
                      IEEE=parse_eui64("00-DB-12-34-56-78-90-A0"),
                      InstallCode=t.Bytes(bytes.fromhex(SECRET_CODE + "C3B5")))),
                  encode(c.ZDO.MgmtPermitJoinReq.Req(AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC, Duration=1,
                                                     TCSignificance=1))]
    return {"znp": _ZNP_SEEDS + [b"".join(commission)], "ezsp": _EZSP_SEEDS}


def _stick_inputs() -> st.SearchStrategy:
    data = {"znp": mutated(_stick_seeds()["znp"], [b"\xfe" * 40, b"\xfe\xff" + b"\x00" * 300]),
            "ezsp": mutated(_stick_seeds()["ezsp"], [b"\x7e" * 40, b"\x7d" * 30, b"\x1a\x18\x11\x13"])}

    @st.composite
    def build(draw) -> tuple[str, bytes, int, str]:
        kind = draw(st.sampled_from(sorted(data)))
        return (kind, draw(data[kind]), draw(st.integers(1, 600)),
                draw(st.sampled_from(["close", "reset", "stay"])))

    return build()


def _stick_socket(value: tuple[str, bytes, int, str], scratch: Path) -> object:
    import socket
    import struct
    import time
    kind, data, piece, ending = value
    server = _stick_server(kind)
    errors_before = len(server.errors)
    host = socket.create_connection(("127.0.0.1", server.port), timeout=HANG_SECONDS / 2)
    try:
        for start in range(0, len(data), piece):
            host.sendall(data[start:start + piece])
        if ending == "reset":  # an RST, not a FIN: a host that crashed
            host.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if ending != "stay":
            host.close()
        request, answer = _STICK_PROBES[kind]
        with socket.create_connection(("127.0.0.1", server.port), timeout=STICK_ANSWER_S) as probe:
            probe.sendall(request)
            heard, until = b"", time.monotonic() + STICK_ANSWER_S
            while answer not in heard and time.monotonic() < until:
                try:
                    chunk = probe.recv(4096)
                except TimeoutError:
                    break
                if not chunk:
                    break
                heard += chunk
    finally:
        host.close()
    if len(server.errors) > errors_before:
        raise AssertionError(server.errors[-1])
    if answer not in heard:
        raise AssertionError(f"the stick did not answer a new host: {heard[:100].hex()}")
    return len(heard)


register(Target("stick-socket", st.deferred(_stick_inputs), _stick_socket, (),
                prepare=lambda: [_stick_server(kind) for kind in _STICK_PROBES]))


# -- sniffer lines --------------------------------------------------------------------------

class _FakeSerial:
    """Bytes as a serial port returns them, then the port goes away mid-frame."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, n: int) -> bytes:
        import serial
        if not self.data:
            raise serial.SerialException("device reports readiness to read but returned no data")
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk

    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        pass


def _sniffer(data: bytes, scratch: Path) -> object:
    from han.sniffer.nrf802154 import NrfSniffer, PcapFile, SnifferGone, TimeOutOfRange, summary
    from sim.output import growing_file
    sniffer = NrfSniffer.__new__(NrfSniffer)
    sniffer.serial, sniffer.port, sniffer._buffer = _FakeSerial(data), "fake", bytearray()
    kept = 0
    with growing_file(scratch / "capture.pcap") as stream:
        pcap = PcapFile(stream, 15, 1.7e9)
        try:
            for frame in sniffer.frames():
                try:
                    summary(pcap.add(frame))
                except TimeOutOfRange:
                    continue  # dropped, as capture() does
                kept += 1
        except SnifferGone:
            pass
        pcap.close()
    from scapy.utils import rdpcap
    if len(rdpcap(str(scratch / "capture.pcap"))) != kept:
        raise AssertionError("a frame captured before the sniffer went away was lost")
    return kept


_LINE = b"received: 4188010000ffff00001234 power: -61 lqi: 172 time: 4294967290\r\n"
_SNIFFER_HOSTILE = [b"received: " + b"ab" * 200 + b" power: -1 lqi: 1 time: 1\n",
                    b"received: 418801 power: " + b"9" * 5000 + b" lqi: 1 time: 1\n",
                    b"received: 418801 power: -1 lqi: 999 time: " + b"9" * 40 + b"\n",
                    b"received: 4188", b"x" * 3000, b"\r\n" * 50,
                    b"received: 411234 power: -61 lqi: 172 time: 1\n",  # found: scapy's struct.error
                    b"received: ffffffffff power: -61 lqi: 172 time: 1\n",
                    b"received: 4188010000ffff00001234 power: -61 lqi: 172 time: 99999999999999999\n"]  # found: > 2106
register(Target("sniffer-lines", mutated([_LINE * 3, b"> sleep\r\n" + _LINE], _SNIFFER_HOSTILE), _sniffer, ()))


# -- CLI option values ----------------------------------------------------------------------

_NUMBERS = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e309", "-1", "0", "1e300", "-0", "abc", "",
                                      "0x10", "1_000", "9" * 400, "1e-320"]),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(-2**70, 2**70).map(str))

_OPTIONS = {
    ("han", "join"): ["--join-at", "--loss", "--latency", "--seed", "--window"],
    ("han", "stats"): ["--loss", "--seed"],  # one run
    ("dongle", "sniff"): ["--start-time", "--channel", "--count", "--seconds"],
    ("backlog",): ["--years", "--seed", "--workers", "--set"],  # on one site: any valid value is fast
    ("duis", "run"): ["--interval", "--radio"],
    ("reflash",): ["--seed", "--batch-size", "--turnaround-wd"],  # over one day
    ("firmware", "build"): ["--manufacturer-code", "--image-type", "--version", "--header-string",
                            "--hardware-versions"],
    ("installcode", "new"): ["--length"],
}
_SET_KEYS = ["epoch", "rules.cos_lead_wd", "wan.target_days", "rules.cos_hazard", "policy.reply_probability"]
_TEXTS = st.one_of(_NUMBERS, st.text(max_size=40), st.sampled_from(
    ["ffff", "10000", "0x", "FFFFFFFF", "1ffffffff", "+1", "1_0", " 1", "ff" * 20, "1-2", "2-1", "0-ffff", "-",
     "x" * 300, "\u00e9" * 17, "a\x00b"]))


#: radio specs: every kind, with ports that refuse at once (nothing listens on port 1) and
#: hostile text; never a real device path
_RADIOS = st.one_of(
    st.tuples(st.sampled_from(["znp", "ezsp", "deconz", "air", "ZNP", "", "x"]),
              st.sampled_from(["", "socket://127.0.0.1:1", "socket://[::1", "socket://127.0.0.1:99999",
                               "socket://:", "rfc2217://127.0.0.1:1", "no-such-port", "\x00"])).map(":".join),
    st.sampled_from(["air", "air:", ":", "::", "znp"]), st.text(max_size=30).filter(lambda v: "/dev" not in v))


@st.composite
def _cli_inputs(draw) -> list[str]:
    command = draw(st.sampled_from(sorted(_OPTIONS)))
    option = draw(st.sampled_from(_OPTIONS[command]))
    value = draw(_TEXTS if command == ("firmware", "build") else _RADIOS if option == "--radio" else _NUMBERS)
    if option == "--set":
        value = f"{draw(st.sampled_from(_SET_KEYS))}={draw(st.one_of(_NUMBERS, st.just('9999-12-31')))}"
    return [*command, option, value]


def _cli(args: list[str], scratch: Path) -> object:
    """The option last (click keeps an option's last value), after the rest chosen so that
    a *valid* value ends fast: a port that is not there, a missing request file, an output
    folder whose parent is missing (refused once every option and parameter is checked)."""
    from gbcs_support import rtds_keystore

    from sim.cli import main
    *command, option, value = args
    (scratch / "payload.bin").write_bytes(b"firmware" * 8)
    rest = {("han", "join"): ["--install-code", SECRET_CODE, "--pcap", str(scratch / "j.pcap")],
            ("han", "stats"): ["--runs", "1", "--quiet"],
            ("dongle", "sniff"): [str(scratch / "no-port"), "--out", str(scratch / "c.pcap")],
            ("backlog",): ["--sites", "1", "--out", str(scratch / "missing" / "out")],
            ("duis", "run"): [str(scratch / "missing.xml"), "--out", str(scratch / "d")],
            ("reflash",): ["--days", "1", "-o", str(scratch / "missing" / "out")],
            ("firmware", "build"): ["--supplier-key", str(rtds_keystore() / "90b3d51f30010000-ds.key"),
                                    "--manufacturer-code", "1", "--image-type", "1", "--version", "1",
                                    "--payload", str(scratch / "payload.bin"), "-o", str(scratch / "missing" / "x")],
            ("installcode", "new"): []}[tuple(command)]
    result = CliRunner().invoke(main, [*command, *rest, option, value])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    lines = result.output.strip().splitlines()
    if "Traceback" in result.output or result.exit_code not in (0, 1, 2, 3):
        raise AssertionError(result.output[-300:])
    if result.exit_code == 1 and not any(line.startswith("Error") for line in lines[-1:]):
        raise AssertionError(f"exit 1 without an error line: {result.output[-300:]}")
    if SECRET_CODE in result.output.upper():
        raise AssertionError("the install code was printed")
    if result.exit_code in (1, 2):
        raise Refused(lines[-1] if lines else "")
    return result.exit_code


def _cli_prepare() -> None:
    """Import every fuzzed command's modules once, outside the hang timer."""
    import sim.cli.backlog  # noqa: F401
    import sim.cli.dongle  # noqa: F401
    import sim.cli.duis  # noqa: F401
    import sim.cli.firmware  # noqa: F401
    import sim.cli.han  # noqa: F401
    import sim.cli.installcode  # noqa: F401
    import sim.cli.reflash  # noqa: F401


register(Target("cli-options", _cli_inputs(), _cli, (Refused,), prepare=_cli_prepare))



# -- DUIS over HTTP (hansim dcc serve) ------------------------------------------------------
# One real server (aiohttp, the DccService of `hansim dcc serve`) on loopback, in its own
# thread, for the whole run; each input is one client: a body POSTed whole, a client that
# stops sending (slow), or one that goes away mid-body (vanishing). Held: the answer is an
# HTTP status the server promises (sim/dcc/serve.py) or a signed DUIS document valid
# against the XSD, no handler traceback is logged, and a genuine request is answered I0
# right after, so the server keeps serving.

HTTP_STATUSES = {200, 400, 401, 408, 409, 413, 415, 501}
HTTP_MAX_BODY = 64 * 1024
HTTP_READ_TIMEOUT_S = 0.5
ANSWER_S = 20.0  # a server that has not answered by then is not going to (on a loaded machine, 5 s was not enough)
HTTP_USER = "90-B3-D5-1F-30-01-00-00"  # the default site's supplier, with a key made here


class _HttpServer:
    """The server, its loop thread, the user's signing key and every error it logged."""

    def __init__(self) -> None:
        import asyncio
        import datetime as dt
        import itertools
        import logging
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        from sim.duis.signature import SigningKey
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hansim fuzz user")])
        now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        self.signer = SigningKey(key, cert)
        self.counter = itertools.count(1)
        self.errors: list[str] = []
        server = self

        class Tracebacks(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.exc_info or record.name.startswith(("aiohttp", "asyncio")) \
                        and record.levelno >= logging.ERROR:
                    server.errors.append(f"{record.name}: {record.getMessage()}"[:300])

        logging.getLogger().addHandler(Tracebacks(logging.ERROR))
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="fuzz-dcc-serve").start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(600)

    async def _start(self) -> int:
        from aiohttp import web
        from duis_support import xsd

        from sim.dcc.delivery import Deliveries, RetryPolicy
        from sim.dcc.frontdoor import Dcc
        from sim.dcc.keystore import Keystore, load_keystore
        from sim.dcc.serve import Clock, DccService, app_runner
        from sim.dcc.site_file import default_premises
        keystore = Keystore({HTTP_USER.replace("-", ""): [self.signer.certificate]}, load_keystore().dsp)
        service = DccService(Dcc(default_premises(), xsd()), keystore, {},
                             Deliveries(RetryPolicy(attempts=1)), Clock("scenario"),
                             read_timeout_s=HTTP_READ_TIMEOUT_S)
        self.service = service
        runner = app_runner(service.app(max_body=HTTP_MAX_BODY))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner.addresses[0][1]

    def signed(self, unsigned: bytes) -> bytes:
        """Sign as the user, with a counter above every one sent so far (the RequestID's,
        when the bytes still hold one)."""
        from sim.duis.signature import sign
        counter = next(self.counter)
        data = re.sub(rb"(<sr:RequestID>)([^:<]*):([^:<]*):\d+",
                      lambda m: m[1] + HTTP_USER.encode() + b":" + m[3] + b":" + str(counter).encode(),
                      unsigned, count=1)
        return sign(data, self.signer)


@cache
def _http_server() -> _HttpServer:
    return _HttpServer()


def _exchange(port: int, endpoint: str, body: bytes, content_type: str = "application/xml",
              send: int | None = None, pause_s: float = 0.0) -> tuple[int | None, bytes]:
    """One client: send the head and ``send`` bytes of the body (all by default), pause,
    and either read the answer or (``send`` short, no pause) go away."""
    head = (f"POST /api/v1/{endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    vanish = send is not None and send < len(body) and not pause_s
    return _converse(port, head + body[:send], pause_s, vanish)


def _converse(port: int, raw: bytes, pause_s: float = 0.0, vanish: bool = False,
              head_only: bool = False) -> tuple[int | None, bytes]:
    """One client over a raw socket: send ``raw``, pause, and read the final answer (after
    any 100 Continue) until it is whole (its Content-Length, or only its head when it
    answers a HEAD) or the server closes; or (``vanish``) go away at once."""
    import socket
    import time
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_S) as conn:
        try:
            conn.sendall(raw)
        except OSError:  # the server answered (e.g. 413) and closed before taking it all
            pass
        if vanish:
            return None, b""
        time.sleep(pause_s)
        reply = bytearray()
        try:
            while chunk := conn.recv(65536):
                reply += chunk
                while re.match(rb"HTTP/1\.\d 1\d\d [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n", reply):
                    del reply[:reply.find(b"\r\n\r\n") + 4]  # an interim answer: the final one follows
                head_end = reply.find(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", reply[:head_end])
                if head_end >= 0 and (head_only or length and len(reply) >= head_end + 4 + int(length[1])):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    status_line, _, rest = bytes(reply).partition(b"\r\n")
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise AssertionError(f"no HTTP answer: {bytes(reply[:200])!r}")
    return int(parts[1]), rest.partition(b"\r\n\r\n")[2]


def _still_serving(server: _HttpServer, errors_before: int) -> None:
    """No handler traceback was logged, and a genuine request is answered I0."""
    if len(server.errors) > errors_before:
        raise AssertionError(server.errors[-1])
    probe, answer = _exchange(server.port, "serviceD", server.signed(_http_probe()))
    if probe != 200 or b"<sr:ResponseCode>I0<" not in answer:
        raise AssertionError(f"the server stopped serving: HTTP {probe} {answer[:200]!r}")


def _valid_duis_answer(body: bytes) -> None:
    from duis_support import xsd

    from sim.duis import schema as duis_schema
    if b"<ds:SignatureValue>" not in body:
        raise AssertionError("an unsigned DUIS answer")
    problems = duis_schema.check_bytes(xsd(), body)
    if problems:
        raise AssertionError(f"answer not valid DUIS: {problems[:2]}")


def _http(value: tuple[str, bytes, str, int], scratch: Path) -> object:
    kind, data, endpoint, cut = value
    server = _http_server()
    errors_before = len(server.errors)
    if kind in ("signed-mutation", "bad-signature"):  # signed: reaches the DUIS model
        try:
            data = server.signed(data)
        except ValueError:
            pass  # not signable (not XML, a DOCTYPE): sent as it is
        at = data.find(b"<ds:SignatureValue>")
        if kind == "bad-signature" and at >= 0:  # one bit of the signature flipped
            at += len(b"<ds:SignatureValue>") + cut % 40
            data = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    content_type = "text/plain" if kind == "wrong-type" else "application/xml"
    send = cut % max(len(data), 1) if kind in ("slow", "vanish") else None
    status, body = _exchange(server.port, endpoint, data, content_type, send,
                             HTTP_READ_TIMEOUT_S + 0.3 if kind == "slow" else 0.0)
    if status is not None and status not in HTTP_STATUSES:
        raise AssertionError(f"HTTP {status}: {body[:200]!r}")
    if status == 200:
        _valid_duis_answer(body)
    _still_serving(server, errors_before)
    return status


@cache
def _http_probe() -> bytes:
    from duis_support import template
    return template("12.1_")


@cache
def _http_seeds() -> list[bytes]:
    """The DCC's templates, unsigned (the server signs what it sends, the user what it asks)."""
    from duis_support import templates
    return [re.sub(rb"<ds:Signature.*</ds:Signature>", b"", p.read_bytes(), flags=re.S)
            for p in sorted(templates().glob("*.XML"))]


def _http_inputs() -> st.SearchStrategy:
    kinds = st.sampled_from(["as-sent", "signed-mutation", "bad-signature", "slow", "vanish",
                             "wrong-type", "oversize"])

    @st.composite
    def build(draw) -> tuple[str, bytes, str, int]:
        kind = draw(kinds)
        if kind == "oversize":
            data = draw(st.sampled_from(_http_seeds())) + b"<!--" + b"x" * HTTP_MAX_BODY + b"-->"
        else:
            data = draw(mutated(_http_seeds(), _DUIS_HOSTILE))
        return (kind, data, draw(st.sampled_from(["serviceD", "serviceS", "serviceT", "nowhere"])),
                draw(st.integers(0, 4096)))

    return build()


def _http_prepare() -> None:
    from duis_support import xsd
    xsd()  # loading the schema takes a minute on a loaded machine: before the server starts
    _http_server()


HTTP_STATUSES.add(404)  # /api/v1/nowhere: aiohttp's own answer to a URL it does not serve
register(Target("duis-http", st.deferred(_http_inputs), _http, (), prepare=_http_prepare))


# -- HTTP heads (hansim dcc serve) -----------------------------------------------------------
# The same server; each input is one request whose head is hostile: its method, target
# (DCC Boxed's URLs and hansim's clock URL with hostile query values), version, and
# headers (Content-Type, Content-Length, Transfer-Encoding with good and broken chunks,
# Content-Encoding, Expect, Connection, Host, over-long, binary and malformed lines), then
# a few bytes of the head flipped. The body is a genuine signed request, so a head that
# gets through reaches the DUIS model. Held: an HTTP status the server (or aiohttp's own
# parser, for a request that is not HTTP) promises, valid signed DUIS on a 200 from a
# DUIS URL, no handler traceback, and the next genuine request is answered I0.

HTTP_HEAD_STATUSES = HTTP_STATUSES | {405, 417}  # aiohttp: a method the URL does not take; an Expect it does not
_EOL = b"\r\n"


def _chunked(body: bytes, broken: str) -> bytes:
    """``body`` in HTTP/1.1 chunks, or broken one way."""
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 700]), body[i:i + 700]) for i in range(0, len(body), 700))
    return {"good": chunks + b"0\r\n\r\n", "no-end": chunks, "bad-size": b"zz\r\n" + body + b"\r\n0\r\n\r\n",
            "huge-size": b"ffffffffffffffff\r\n" + body, "extension": chunks.replace(b"\r\n", b";a=b\r\n", 1)
            + b"0\r\n\r\n", "trailer": chunks + b"0\r\nX-T: 1\r\n\r\n", "short": b"5\r\n" + body}[broken]


_HEADER_CHOICES: dict[str, list[str | None]] = {
    "Content-Type": ["application/xml", "text/xml", "application/xml; charset=utf-8", "application/xml; charset=nope",
                     "APPLICATION/XML", "application/xml;;;=", "application/xml; a=" + "b" * 5000, "",
                     "application/xml\x00", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                     None],
    "Content-Length": ["exact", None, "-1", "0", "more", "less", "1" * 30, "abc", "+exact", " exact", "0x10", "1e3",
                       "exact, exact", "twice"],
    "Transfer-Encoding": [None, None, None, "chunked", "gzip, chunked", "identity", "chunked, chunked", "bogus",
                          "Chunked"],
    "Content-Encoding": [None, None, None, "gzip", "deflate", "br", "x-unknown", "gzip, gzip"],
    "Expect": [None, None, "100-continue", "200-ok"],
    "Connection": ["close", "close", None, "keep-alive", "upgrade", "close, close"],
    "Upgrade": [None, None, "websocket", "h2c"],
    "Host": ["127.0.0.1", None, "", "a" * 300, "127.0.0.1\r\nHost: other"],
}
_EXTRA_HEADERS = [b"", b"", b"X-Long: " + b"a" * 10000 + _EOL, b"".join(b"X-%d: v\r\n" % i for i in range(120)),
                  b"NoColon\r\n", b"Space : x\r\n", b" folded line\r\n", b"X-Bin: \xff\xfe\x80\r\n",
                  b"X-Nul: a\x00b\r\n", b": empty name\r\n", b"Cookie: " + b"c=1; " * 2000 + _EOL]
_TARGETS = ["/api/v1/serviceD", "/api/v1/serviceD", "/api/v1/serviceS", "/api/v1/serviceT", "/hansim/clock?to=next",
            "/hansim/clock?to=later", "/hansim/clock", "/api/v1/serviceD?x=%ff%00", "/api/v1/../v1/serviceD",
            "/api/v1/serviceD%00", "*", "http://127.0.0.1/api/v1/serviceD", "/" + "a" * 9000, "", "/%zz",
            "/api/v1/serviceD#frag", "/api/v1//serviceD"]


_GOOD_HEADERS = {"Content-Type": "application/xml", "Content-Length": "exact", "Transfer-Encoding": None,
                 "Content-Encoding": None, "Expect": None, "Connection": "close", "Upgrade": None,
                 "Host": "127.0.0.1"}


@st.composite
def _head_inputs(draw) -> dict:
    """A genuine head with a few parts made hostile, so each part's refusal is reached
    (a head hostile everywhere is refused at its first bad byte)."""
    from urllib.parse import quote
    target = draw(st.one_of(st.sampled_from(_TARGETS[:4]), st.sampled_from(_TARGETS),
                            _NUMBERS.map(lambda v: "/hansim/clock?advance=" + quote(v)),
                            st.text(max_size=40).map(lambda v: "/hansim/clock?advance=" + quote(v))))
    hostile = draw(st.lists(st.sampled_from(sorted(_HEADER_CHOICES)), max_size=3, unique=True))
    plain = draw(st.booleans())  # method, version, line ends and bytes as a client sends them
    return {
        "method": "POST" if plain else draw(st.sampled_from(
            ["POST", "GET", "HEAD", "PUT", "OPTIONS", "DELETE", "CONNECT", "TRACE", "P\x00ST", "post", "X" * 300])),
        "target": target,
        "version": "HTTP/1.1" if plain else draw(st.sampled_from(
            ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1x", "", "HTTP/11.1", "http/1.1"])),
        "headers": {name: draw(st.sampled_from(_HEADER_CHOICES[name])) if name in hostile else good
                    for name, good in _GOOD_HEADERS.items()},
        "extra": b"" if plain else draw(st.sampled_from(_EXTRA_HEADERS)),
        "eol": b"\r\n" if plain else draw(st.sampled_from([b"\r\n", b"\n", b"\r"])),
        "chunks": draw(st.sampled_from(["good", "good", "no-end", "bad-size", "huge-size", "extension", "trailer",
                                        "short"])),
        "gzip": draw(st.booleans()),
        "flips": [] if plain else draw(st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), max_size=2)),
    }


def _head_request(value: dict, body: bytes) -> bytes:
    """The raw request ``value`` describes, around the signed ``body``."""
    import gzip
    headers = value["headers"]
    if headers["Content-Encoding"] and value["gzip"]:
        body = gzip.compress(body, mtime=0)
    if headers["Transfer-Encoding"]:
        body = _chunked(body, value["chunks"])
    exact = str(len(body))
    lines = [f"{value['method']} {value['target']} {value['version']}".strip().encode("utf-8", "surrogatepass")]
    for name, choice in headers.items():
        if choice is None:
            continue
        if name == "Content-Length":
            lengths = {"exact": exact, "more": str(len(body) + 10), "less": str(max(len(body) - 10, 0)),
                       "twice": f"{exact}\r\nContent-Length: {len(body) + 1}"}
            choice = lengths.get(choice, choice.replace("exact", exact))
        lines.append(f"{name}: {choice}".encode("latin-1"))
    head = bytearray(_EOL.join(lines) + _EOL + value["extra"] + _EOL)
    head = bytearray(bytes(head).replace(_EOL, value["eol"]))
    for at, byte in value["flips"]:
        if head:
            head[at % len(head)] = byte
    return bytes(head) + body


def _http_head(value: dict, scratch: Path) -> object:
    server = _http_server()
    errors_before = len(server.errors)
    raw = _head_request(value, server.signed(_http_probe()))
    status, body = _converse(server.port, raw, head_only=value["method"] == "HEAD")
    if status not in HTTP_HEAD_STATUSES:
        raise AssertionError(f"HTTP {status}: {body[:200]!r}")
    if status == 200 and value["target"].startswith("/api/") and value["method"] == "POST":
        _valid_duis_answer(body)
    _still_serving(server, errors_before)
    return status


register(Target("http-head", _head_inputs(), _http_head, (), prepare=_http_prepare))


# -- population parameters (--set KEY=VALUE, sweep sets) ----------------------------------------
# Every parameter a user may set, with hostile and edge values, through the CLI's own
# parsing and checks (sim/cli/_population.py); a set the checks accept must then run a
# small population on the compiled engine without a traceback: an accepted value that
# breaks the model deep inside is a crash.

@cache
def _parameter_keys() -> list[str]:
    import dataclasses

    from sim.policies import POLICIES
    from sim.population.params import GROUPS, PopulationParams
    defaults = PopulationParams()
    keys = [f.name for f in dataclasses.fields(defaults) if f.name not in GROUPS + ("sites", "years")]
    for group in GROUPS:
        value = getattr(defaults, group)
        if group == "market":
            keys += [f"market.{kind}.{f.name}" for kind in ("large", "small")
                     for f in dataclasses.fields(getattr(value, kind)) if f.name != "name"]
        else:
            keys += [f"{group}.{f.name}" for f in dataclasses.fields(value) if f.name != "name"]
    keys += sorted({f"policy.{k}" for cls, _ in POLICIES.values() for k in cls().params()})
    return keys


_VALUES = st.one_of(_NUMBERS, st.sampled_from(["[1]", "[5, 1]", "[0, 0]", "[1, 2, 3]", "[]", "[nan, 1]", "[-1, 2]",
                                               "[0.5, 0.5]", "{a: 1}", "true", "~", "2000-01-01", "1999-12-31",
                                               "2100-12-31", "9999-12-31", "2024-02-30", "'1'", "1.5", "0.999",
                                               "1e-9", "250", "251"]))


@st.composite
def _set_inputs(draw) -> tuple[str, list[str]]:
    keys = st.sampled_from(_parameter_keys())
    pairs = draw(st.lists(st.tuples(keys, _VALUES), min_size=1, max_size=3))
    policy = draw(st.sampled_from(["none", "email-5wd", "email-10wd", "ssi-5wd", "smi-codes"]))
    return policy, [f"{k}={v}" for k, v in pairs]


def _population_set(value: tuple[str, list[str]], scratch: Path) -> object:
    import numpy as np

    from sim.cli._population import build, parse_value, policies, split_overrides
    from sim.population.fast import run_replication
    from sim.population.params import PopulationParams
    policy_name, items = value
    overrides = {k: parse_value(v) for k, _, v in (i.partition("=") for i in items)}
    model, policy_params = split_overrides(overrides)
    params = build(PopulationParams(sites=30, years=0.5), model)
    (policy,) = policies([policy_name], policy_params)
    return run_replication(params.replace(sites=30), policy, np.random.SeedSequence(1))


def _population_prepare() -> None:
    """Compile the engine once, outside the hang timer."""
    _population_set(("email-10wd", ["years=0.1"]), Path("."))


def _population_refusals() -> tuple[type[BaseException], ...]:
    from sim.policies import ParameterError
    return (click.ClickException, ParameterError)


register(Target("population-set", st.deferred(_set_inputs), _population_set, _population_refusals(),
                prepare=cache(_population_prepare)))
