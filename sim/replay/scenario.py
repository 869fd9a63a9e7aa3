"""Scenario files: one install-and-leave site's story, read and checked before anything runs.

A scenario names the Comms Hub and meters, the parties (suppliers by DUIS user ID), the
MP121 policy with its parameters, a timeline of scripted events at working-day offsets
(``wd``) or dates, and the ``expect:`` outcomes. Every error names file, line and field
path (``scenarios/x.yaml:14: timeline[2].to: ...``), via :mod:`sim.yamlfile`. Install
codes are secrets: they are parsed here and never printed.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import scenarios
from han.installcode import InstallCode
from han.radio import RadioError
from sim.calendar import WorkingDayCalendar
from sim.dcc.site_file import _Site
from sim.han_time.radio_join import check_radio_spec
from sim.lifecycle import SiteRules
from sim.policies import ParameterError, Policy, SsiIncident, make_policy
from sim.replay import consistency
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

BUNDLED = scenarios.FOLDER / "replay"
FUELS = ("electricity", "gas")
#: Each device type's fuel; an IHD (Type 2, no SMI status) belongs to the electricity
#: supplier's install here (L), joins the HAN and needs no 8.1.1.
FUEL_OF = {"ESME": "electricity", "GSME": "gas", "IHD": "electricity"}
DEVICE_KINDS = tuple(FUEL_OF)
EVENTS = ("install", "wan", "cos", "code", "reply_lost", "visit", "incident")
KEYS = {
    (): ("title", "source", "start", "seed", "comms_hub", "coverage", "devices", "parties", "policy",
         "rules", "timeline", "expect"),
    ("coverage",): ("available", "likelihood"),
    ("comms_hub",): ("chf", "gpf", "radio"),
    ("device",): ("name", "id", "type", "install_code", "installer_record"),
    ("party",): ("name", "id", "fuels", "forwards"),
    ("rules",): ("visit_lead_wd",),
    ("expect",): ("commissioned", "not_commissioned", "joins", "alerts", "replacement",
                  "code_requests", "refusals", "code_holders"),
}
#: Fields each timeline event takes besides ``wd``/``date`` and ``event``.
EVENT_KEYS = {"install": ("by", "devices", "wan", "prenotified_by", "update_inventory"), "wan": (),
              "cos": ("to", "fuels"), "code": ("value",), "reply_lost": (), "visit": (),
              "incident": ("by", "device", "answer_wd")}
#: Clock time of day of a scripted event unless it gives ``time``: 09:00, a working morning.
MORNING = 9 * 3600.0

HORIZON_YEARS = 4

ScenarioError = InputFileError


@dataclass(frozen=True)
class Device:
    name: str
    device_id: str
    device_type: str
    install_code: InstallCode = field(repr=False)  # what the meter holds
    installer_record: InstallCode = field(repr=False)  # what the installing supplier recorded

    @property
    def fuel(self) -> str:
        return FUEL_OF[self.device_type]


@dataclass(frozen=True)
class Party:
    """A supplier of the story; ``forwards``: it passes on an install code it received
    from an earlier supplier (default: only an installer gives a code, as the report says)."""

    name: str
    user_id: str
    fuels: tuple[str, ...]
    forwards: bool = False


@dataclass(frozen=True)
class Scripted:
    """One timeline event: a working-day offset ``wd`` or a ``date``, at ``seconds`` after
    midnight (``time``, default 09:00); ``fields`` the rest."""

    index: int
    kind: str
    wd: int | None
    date: dt.date | None
    fields: dict
    seconds: float = MORNING


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    title: str
    source: str
    start: dt.date
    seed: int
    chf: str
    gpf: str
    coverage: tuple[bool, str]  # what the SM WAN coverage database says (SRV 12.1): available, likelihood
    devices: dict[str, Device]
    parties: dict[str, Party]
    policy: Policy
    rules: SiteRules
    timeline: tuple[Scripted, ...]
    expect: dict
    radio: str | None = None  # the CHF's HAN radio: None = the simulated air, frame by frame
    premises: str | None = None  # its name in a street (None: a one-premises scenario)


def bundled() -> list[Path]:
    """The replay scenarios, scenarios/replay/*.yaml (re-flash studies are in scenarios/reflash/)."""
    return sorted(BUNDLED.glob("*.yaml"))


def locate(name_or_path: str) -> Path:
    """A bundled scenario by name (``reactive-wan``), else a path to a file."""
    candidate = BUNDLED / f"{name_or_path}.yaml"
    if "/" not in name_or_path and not name_or_path.endswith((".yaml", ".yml")) and candidate.exists():
        return candidate
    return Path(name_or_path)


def load_scenario(path: Path, seed: int | None = None) -> Scenario:
    """Read and check a one-premises scenario; ``seed`` replaces the file's. ScenarioError if
    anything is wrong (a street: :func:`load_street`)."""
    street = load_street(path, seed)
    if len(street) != 1 or street[0].premises is not None:
        raise load_yaml(path).error(("premises",), "a street of several premises: replay it with "
                                                    "hansim replay (or load_street)")
    return street[0]


def load_street(path: Path, seed: int | None = None) -> list[Scenario]:
    """Read and check a scenario: one premises, or a street (``premises:``, each with its own
    Comms Hub, meters, timeline and expectations, sharing ``start``, ``seed``, ``policy``,
    ``rules`` and, unless a premises lists its own, ``parties``). No device ID may appear at
    two premises. Premises n runs with seed ``seed + n``, so neighbouring HANs differ."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a scenario is a mapping with title, devices, parties, timeline and expect")
    if "sites" in doc.data or "start" not in doc.data and "timeline" not in doc.data and "premises" not in doc.data:
        raise doc.error((), "not a replay scenario (it needs title, devices, parties, timeline)")
    if "premises" not in doc.data:
        alone = [_premises(doc, path, seed, set())]
        _street_pins(doc, alone)
        return alone
    read = _Site(doc)
    read.mapping((), STREET_KEYS, required=("title", "start", "parties", "premises"))
    entries = _list(read, ("premises",), "premises")
    found: list[Scenario] = []
    ids: set[str] = set()
    for index in range(len(entries)):
        read.mapping(("premises", index), PREMISES_KEYS, required=("name", "devices", "timeline", "expect"))
        name = read.text(("premises", index, "name"))
        if not folder_name(name) or any(folder_name(s.premises or "") == folder_name(name) for s in found):
            raise doc.error(("premises", index, "name"), f"{name!r} appears twice (or names no folder: "
                                                         "letters or digits, please)")
        if len(name) > ADDRESS_LENGTH:  # it is the premises' DUIS AddressIdentifier (12.1)
            raise doc.error(("premises", index, "name"), f"{name!r} is longer than {ADDRESS_LENGTH} characters "
                                                         "(it is the premises' address on the street)")
        view = _PremisesView(doc, index)
        scenario = _premises(view, path, seed, ids, index)
        found.append(replace(scenario, premises=name))
    _street_pins(doc, found)
    return found


def _street_pins(doc: YamlDocument, found: list[Scenario]) -> None:
    """The ``policy:`` pins, once for the file: against each other, and against a street
    (or premises) where nobody is ever asked for a code."""
    consistency.policy_pins(doc, found[0].policy)
    consistency.pinned_but_never_asked(doc, sum(e.kind == "cos" for s in found for e in s.timeline))


def folder_name(premises: str) -> str:
    """The output folder of a street's premises: ``No. 2`` -> ``no-2``."""
    return re.sub(r"[^a-z0-9]+", "-", premises.lower()).strip("-")


#: The longest DUIS AddressIdentifier (XSD V5.4): a street's premises name is its address.
ADDRESS_LENGTH = 30
#: Keys of a street's top level, and of each of its premises.
STREET_KEYS = ("title", "source", "start", "seed", "policy", "rules", "parties", "coverage", "premises")
PREMISES_KEYS = ("name", "comms_hub", "coverage", "devices", "parties", "timeline", "expect")


class _PremisesView(YamlDocument):
    """One premises of a street read as a one-premises scenario: its own keys over the
    street's shared ones; errors name the full path (``premises[1].devices[0].id``)."""

    def __init__(self, doc: YamlDocument, index: int) -> None:
        base = ("premises", index)
        own = doc.data["premises"][index]
        data = {k: v for k, v in doc.data.items() if k != "premises"} | own
        lines = {p: n for p, n in doc.lines.items() if p[:1] != ("premises",)}
        lines |= {p[2:]: n for p, n in doc.lines.items() if p[:2] == base and len(p) > 2}
        lines[()] = doc.lines.get(base, doc.lines.get((), 1))
        super().__init__(doc.file, data, lines)
        self.base, self.own = base, set(own)

    def error(self, path: tuple, message: str) -> InputFileError:
        full = (*self.base, *path) if not path or path[0] in self.own else path
        return InputFileError(self.file, self.line(path), full, message)


def _premises(doc: YamlDocument, path: Path, seed: int | None, ids: set[str], index: int = 0) -> Scenario:
    """One premises' scenario; ``ids``: device IDs already taken at other premises (filled in)."""
    read = _Site(doc)
    if not isinstance(doc, _PremisesView):
        read.mapping((), KEYS[()], required=("title", "start", "devices", "parties", "timeline", "expect"))
    start = read.get(("start",))
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise doc.error(("start",), f"{start!r} is not a date like 2024-01-08")
    file_seed = read.get(("seed",), 0)
    if isinstance(file_seed, bool) or not isinstance(file_seed, int) or file_seed < 0:
        raise doc.error(("seed",), f"{file_seed!r} is not a non-negative whole number")
    seed = (file_seed if seed is None else seed) + index
    read.mapping(("comms_hub",), KEYS[("comms_hub",)])
    chf = read.eui(("comms_hub", "chf"), "00-DB-12-34-56-78-90-A2")
    gpf = read.eui(("comms_hub", "gpf"), "00-DB-12-34-56-78-90-A3")
    if gpf == chf:
        raise doc.error(("comms_hub", "gpf"), f"{gpf} is the CHF's ID too; the GPF needs its own")
    for key, hub_id in (("chf", chf), ("gpf", gpf)):
        if hub_id in ids:
            raise doc.error(("comms_hub", key), f"{hub_id} is already a device at another premises of the street")
        ids.add(hub_id)
    radio = _radio(read)
    read.mapping(("coverage",), KEYS[("coverage",)])
    coverage = (read.flag(("coverage", "available"), True),
                read.choice(("coverage", "likelihood"), "High", ("High", "Medium", "Low")))
    devices = _devices(read, random.Random(seed), {chf, gpf}, ids)
    parties = _parties(read)
    policy = _policy(read)
    read.mapping(("rules",), KEYS[("rules",)])
    try:
        # A supplier left without a code replaces the meter (p_replace 1): a scenario
        # scripts what happens, it does not leave it to chance.
        rules = SiteRules(cos_hazard=0.0, cos_lead_wd=(0, 0), p_replace=1.0,
                          visit_lead_wd=read.get(("rules", "visit_lead_wd"), 10))
    except ParameterError as err:
        raise doc.error(("rules", "visit_lead_wd"), str(err)) from None
    timeline = _timeline(read, start, devices, parties, policy)
    expect = _expect(read, devices, parties, _wan_wd(timeline, start))
    consistency.check(_story(doc, start, timeline, devices, parties, policy), expect)
    return Scenario(path.stem, str(path), read.text(("title",)), read.text(("source",), ""), start, seed,
                    chf, gpf, coverage, devices, parties, policy, rules, timeline, expect, radio)


def _story(doc: YamlDocument, start: dt.date, timeline: tuple[Scripted, ...], devices: dict[str, Device],
           parties: dict[str, Party], policy: Policy) -> consistency.Story:
    """The premises as :mod:`sim.replay.consistency` reads it: events in time order, each on
    its working day."""
    calendar = WorkingDayCalendar(start, years=HORIZON_YEARS)
    ordered = sorted(timeline, key=lambda e: (event_day(e, calendar), e.seconds, e.index))
    events = [consistency.Timed(e.index, order, e.kind,
                                calendar.working_days_between(start, event_day(e, calendar)) if e.wd is None else e.wd,
                                e.seconds, calendar.is_working_day(event_day(e, calendar)),
                                "date" if e.wd is None else "wd", e.fields)
              for order, e in enumerate(ordered)]
    return consistency.Story(doc, events, {n: d.device_type for n, d in devices.items()},
                             {n: d.fuel for n, d in devices.items()},
                             {n: "right" if d.installer_record is d.install_code else "wrong"
                              for n, d in devices.items()},
                             {n: p.fuels for n, p in parties.items()}, policy)


def _radio(read: _Site) -> str | None:
    """``comms_hub.radio``: a HAN radio spec (``znp:/dev/ttyACM0``, ``air``), checked here."""
    path = ("comms_hub", "radio")
    spec = read.get(path)
    if spec is None:
        return None
    if not isinstance(spec, str):
        raise read.doc.error(path, f"{spec!r} is not a radio like znp:/dev/ttyACM0 or air")
    try:
        check_radio_spec(spec)
    except RadioError as err:
        raise read.doc.error(path, str(err)) from None
    return spec


def _list(read: _Site, path: tuple, what: str) -> list:
    value = read.get(path)
    if not isinstance(value, list) or not value:
        raise read.doc.error(path, f"expected a list of {what}")
    return value


def _devices(read: _Site, rng: random.Random, hub_ids: set[str], street_ids: set[str]) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    ids = set(hub_ids)
    for index in range(len(_list(read, ("devices",), "devices"))):
        path = ("devices", index)
        read.mapping(path, KEYS[("device",)], required=("name", "id", "type", "install_code"))
        name = read.text((*path, "name"))
        if name in devices:
            raise read.doc.error((*path, "name"), f"{name!r} appears twice")
        device_id = read.eui((*path, "id"))
        if device_id in ids:
            raise read.doc.error((*path, "id"), f"{device_id} appears twice")
        if device_id in street_ids:
            raise read.doc.error((*path, "id"), f"{device_id} is already at another premises of the street")
        ids.add(device_id)
        street_ids.add(device_id)
        kind = read.choice((*path, "type"), "", DEVICE_KINDS)
        code = read.install_code((*path, "install_code"), rng)
        record = read.choice((*path, "installer_record"), "right", ("right", "wrong"))
        recorded = code if record == "right" else other_code(code, rng)
        devices[name] = Device(name, device_id, kind, code, recorded)
    return devices


def other_code(code: InstallCode, rng: random.Random) -> InstallCode:
    """A valid install code that is not ``code``: a transcription the CHF will accept."""
    while True:
        other = InstallCode.generate(len(code.code), rng)
        if other.code != code.code:
            return other


def _parties(read: _Site) -> dict[str, Party]:
    parties: dict[str, Party] = {}
    for index in range(len(_list(read, ("parties",), "parties"))):
        path = ("parties", index)
        read.mapping(path, KEYS[("party",)], required=("name", "id", "fuels"))
        name = read.text((*path, "name"))
        if name in parties:
            raise read.doc.error((*path, "name"), f"{name!r} appears twice")
        fuels = _list(read, (*path, "fuels"), "fuels")
        for j in range(len(fuels)):
            read.choice((*path, "fuels", j), "", FUELS)
        user = read.eui((*path, "id"))
        if any(p.user_id == user for p in parties.values()):
            raise read.doc.error((*path, "id"), f"{user} appears twice")
        parties[name] = Party(name, user, tuple(fuels), read.flag((*path, "forwards"), False))
    return parties


def _policy(read: _Site) -> Policy:
    read.mapping(("policy",))
    params = dict(read.get(("policy",), {}))
    name = str(params.pop("name", "email-10wd"))
    for key in params:
        if not isinstance(key, str):
            raise read.doc.error(("policy", key), "a policy parameter is a name")
    try:
        return make_policy(name, **params)
    except ParameterError as err:
        text = str(err)
        bad = next((k for k in params if f"{k} " in text or f"'{k}'" in text), None)
        raise read.doc.error(("policy", bad) if bad else ("policy",), text) from None


def _timeline(read: _Site, start: dt.date, devices: dict[str, Device],
              parties: dict[str, Party], policy: Policy) -> tuple[Scripted, ...]:
    """Scripted events, each checked on its own and against the story so far (in time order)."""
    doc = read.doc
    events = []
    for index in range(len(_list(read, ("timeline",), "events"))):
        path = ("timeline", index)
        kind = read.choice((*path, "event"), "", EVENTS)
        read.mapping(path, ("wd", "date", "time", "event", *EVENT_KEYS[kind]), required=("event",))
        raw = read.get(path)
        if ("wd" in raw) == ("date" in raw):
            raise doc.error(path, "give exactly one of wd (working days after start) or date")
        wd = date = None
        if "wd" in raw:
            wd = raw["wd"]
            if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 250 * HORIZON_YEARS - 60:
                raise doc.error((*path, "wd"), f"{wd!r} is not a working-day offset 0..{250 * HORIZON_YEARS - 60}")
        else:
            date = raw["date"]
            if not isinstance(date, dt.date) or isinstance(date, dt.datetime) or not \
                    start <= date < start + dt.timedelta(days=365 * HORIZON_YEARS - 90):
                raise doc.error((*path, "date"), f"{date!r} is not a date within {HORIZON_YEARS - 1} years after start")
        fields = {k: v for k, v in raw.items() if k not in ("wd", "date", "time", "event")}
        events.append(Scripted(index, kind, wd, date, fields, _time_of_day(read, (*path, "time"))))
    calendar = WorkingDayCalendar(start, years=HORIZON_YEARS)
    _check_story(read, sorted(events, key=lambda e: (event_day(e, calendar), e.seconds, e.index)),
                 devices, parties, policy)
    return tuple(events)


def _time_of_day(read: _Site, path: tuple) -> float:
    """``time: '10:30'`` (or ``'10:30:15'``): seconds after midnight; 09:00 when absent.
    Quoted: YAML reads an unquoted 10:30 as the number 630."""
    value = read.get(path)
    if value is None:
        return MORNING
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = dt.time.fromisoformat(value)
        if len(value) not in (5, 8) or moment.tzinfo is not None:
            raise ValueError
    except ValueError:
        raise read.doc.error(path, f"{value!r} is not a time of day like '10:30' (quoted)") from None
    return moment.hour * 3600.0 + moment.minute * 60.0 + moment.second


def event_day(event: Scripted, calendar: WorkingDayCalendar) -> dt.date:
    """The day a scripted event happens: its date, or ``wd`` working days after the start."""
    if event.date is not None:
        return event.date
    assert event.wd is not None  # the scenario reader gives every event one or the other
    return calendar.add_working_days(calendar.epoch, event.wd)


def _check_story(read: _Site, events: list[Scripted], devices: dict[str, Device],
                 parties: dict[str, Party], policy: Policy) -> None:
    """What cannot happen: a CoS or code before any install, a second WAN, unknown references."""
    doc = read.doc
    installed: set[str] = set()
    wan = cos = False
    for event in events:
        path = ("timeline", event.index)
        f = event.fields
        if event.kind == "install":
            by = _party(read, (*path, "by"), parties)
            names = f.get("devices", list(devices))
            if not isinstance(names, list) or not names:
                raise doc.error((*path, "devices"), "expected a list of device names")
            for j, name in enumerate(names):
                if not isinstance(name, str) or name not in devices:
                    raise doc.error((*path, "devices", j), f"unknown device {name!r} (devices: {', '.join(devices)})")
                if name in installed:
                    raise doc.error((*path, "devices", j), f"{name} is installed twice")
                if devices[name].fuel not in by.fuels:
                    raise doc.error((*path, "by"), f"{by.name} does not supply {devices[name].fuel} for {name}")
            read.flag((*path, "wan"), False)
            read.flag((*path, "update_inventory"), True)
            if "prenotified_by" in f:
                _party(read, (*path, "prenotified_by"), parties)
            if f.get("wan") and wan:
                raise doc.error((*path, "wan"), "the SM WAN is already there")
            wan = wan or bool(f.get("wan"))
            installed.update(names)
        elif not installed:
            raise doc.error((*path, "event"), f"{event.kind} before any install: the story starts with an install")
        elif event.kind == "wan":
            if wan:
                raise doc.error((*path, "event"), "the SM WAN arrives twice")
            wan = True
        elif event.kind == "cos":
            to = _party(read, (*path, "to"), parties)
            fuels = f.get("fuels", list(to.fuels))
            if not isinstance(fuels, list) or not fuels:
                raise doc.error((*path, "fuels"), "expected a list of fuels")
            for j, fuel in enumerate(fuels):
                if fuel not in FUELS:
                    raise doc.error((*path, "fuels", j), f"{fuel!r} is not one of {', '.join(FUELS)}")
                if fuel not in to.fuels:
                    raise doc.error((*path, "fuels", j), f"{to.name} does not supply {fuel}")
            cos = True
        elif event.kind == "incident":
            _party(read, (*path, "by"), parties)
            name = read.text((*path, "device"))
            if name not in installed:
                raise doc.error((*path, "device"), f"{name!r} is not an installed device here")
            if devices[name].device_type == "IHD":
                raise doc.error((*path, "device"), "an IHD has no SMI status: the SSI cannot take it")
            if not isinstance(policy, SsiIncident):
                raise doc.error((*path, "event"), f"an SSI incident under policy {policy.name}: "
                                                  "the SSI route is policy ssi-5wd")
            answer = f.get("answer_wd", 0)
            if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= 250:
                raise doc.error((*path, "answer_wd"), f"{answer!r} is not a working-day count 0..250")
        elif event.kind == "visit" and not wan:
            raise doc.error((*path, "event"), "a replacement visit before the SM WAN: the new "
                                              "meters are commissioned on the visit, over the WAN")
        elif event.kind in ("code", "reply_lost") and not cos:
            raise doc.error((*path, "event"), f"{event.kind} before any change of supplier: "
                                              "the installing supplier holds the codes")
        if event.kind == "code":
            read.choice((*path, "value"), "right", ("right", "wrong"))
    if not any(e.kind == "install" for e in events):
        raise doc.error(("timeline",), "no install event")


def _party(read: _Site, path: tuple, parties: dict[str, Party]) -> Party:
    name = read.text(path)
    if name not in parties:
        raise read.doc.error(path, f"unknown party {name!r} (parties: {', '.join(parties)})")
    return parties[name]


def _wan_wd(timeline: tuple[Scripted, ...], start: dt.date) -> int | None:
    """The working day the SM WAN first reaches the premises (None: never)."""
    calendar = WorkingDayCalendar(start, years=HORIZON_YEARS)
    days = [calendar.working_days_between(start, event_day(e, calendar)) if e.wd is None else e.wd
            for e in timeline if e.kind == "wan" or (e.kind == "install" and e.fields.get("wan"))]
    return min(days, default=None)


def _expect(read: _Site, devices: dict[str, Device], parties: dict[str, Party], wan_wd: int | None) -> dict:
    doc = read.doc
    expect = read.mapping(("expect",), KEYS[("expect",)])
    if not expect:
        raise doc.error(("expect",), "expected at least one outcome")
    commissioned = read.mapping(("expect", "commissioned"))
    for name, by in commissioned.items():
        if name not in devices:
            raise doc.error(("expect", "commissioned", name), f"unknown device {name!r}")
        if devices[name].device_type == "IHD":
            raise doc.error(("expect", "commissioned", name), "an IHD has no SMI status: expect joins")
        if by is not None and (isinstance(by, bool) or not isinstance(by, int) or by < 0):
            raise doc.error(("expect", "commissioned", name), f"{by!r} is not a working day (or null)")
        if wan_wd is None or by is not None and by < wan_wd:  # an outcome the timeline cannot give
            raise doc.error(("expect", "commissioned", name),
                            f"{name} Commissioned by WD {by}, but the SM WAN "
                            + ("never arrives" if wan_wd is None else f"arrives only on WD {wan_wd}")
                            + ": nothing is commissioned without it")
    names = read.get(("expect", "not_commissioned"), [])
    if not isinstance(names, list):
        raise doc.error(("expect", "not_commissioned"), "expected a list of device names")
    for j, name in enumerate(names):
        if not isinstance(name, str) or name not in devices:
            raise doc.error(("expect", "not_commissioned", j), f"unknown device {name!r}")
        if name in commissioned:
            raise doc.error(("expect", "not_commissioned", j), f"{name} is also expected Commissioned")
    for key in ("joins", "code_requests"):
        value = read.get(("expect", key), 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise doc.error(("expect", key), f"{value!r} is not a count")
    read.flag(("expect", "replacement"), False)
    holders = read.mapping(("expect", "code_holders"))
    for name, parties_named in holders.items():
        if name not in devices:
            raise doc.error(("expect", "code_holders", name), f"unknown device {name!r}")
        if not isinstance(parties_named, list) or not all(p in parties for p in parties_named):
            raise doc.error(("expect", "code_holders", name),
                            f"expected a list of party names ({', '.join(parties)})")
    refusals = read.get(("expect", "refusals"), [])
    if not isinstance(refusals, list):
        raise doc.error(("expect", "refusals"), "expected a list of DUIS response codes like E4")
    for j, code in enumerate(refusals):
        if not isinstance(code, str) or not re.fullmatch(r"E\d{1,3}", code):
            raise doc.error(("expect", "refusals", j), f"{code!r} is not a DUIS refusal code like E4")
    alerts = read.get(("expect", "alerts"), [])
    if not isinstance(alerts, list) or not all(isinstance(a, str) for a in alerts):
        raise doc.error(("expect", "alerts"), "expected a list of alert codes like 8F49 (quoted)")
    return expect
