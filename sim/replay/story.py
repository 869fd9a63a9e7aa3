"""Replaying one scenario: the site lifecycle, the DCC speaking DUIS and the frame-level HAN join.

The story runs on the same :class:`~sim.lifecycle.Lifecycle` and MP121
:class:`~sim.policies.Policy` objects as population runs. What the scenario scripts (the
install, the SM WAN's arrival, each change of supplier, a code obtained outside the policy,
a reply lost, a replacement visit) is injected at its date through
:meth:`Lifecycle.inject`; what it leaves open (when the install-code reply comes, whether
the request reaches the installing supplier) the policy draws from the seed. Commissioning
is :class:`DuisCommissioning`: SRV 8.11 Add, the frame-level join, SRV 8.1.1 (and 8.7.1 for
a gas meter) sent to the DCC model, each request, response and alert kept as DUIS XML.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import simpy

from devices.commshub import CommsHub
from devices.meter import HanDevice
from han.installcode import InstallCode
from sim.calendar import DAY, WorkingDayCalendar
from sim.commissioning import JOIN_TIME_PERIOD
from sim.dcc.coverage import Coverage, CoverageDatabase, premises_key
from sim.dcc.frontdoor import Dcc
from sim.dcc.outcome import Outcome
from sim.dcc.premises import Premises
from sim.dcc.ssi import Incident, IncidentRefused, SelfServiceInterface
from sim.duis import bodies as b
from sim.duis import schema as duis_schema
from sim.duis.precommand import signed_request, supplier_test_key
from sim.duis.request import RequestID, ServiceRequest
from sim.duis.response import DCCAlertMessage, DeviceAlertMessage
from sim.lifecycle import COMMISSIONED, ELECTRICITY, GAS, INF, Commissioned, Event, Lifecycle, Meter, State
from sim.policies import CodeRequest, SsiIncident, Step, make_policy
from sim.replay.joins import RecordedJoins, replay_joins
from sim.replay.scenario import HORIZON_YEARS, Scenario, Scripted, event_day, other_code
from sim.suppliers import Market, SupplierClass
from sim.worktime import Draws, WorkClock

ROLES = {"electricity": "ImportSupplier", "gas": "GasSupplier"}
#: Simulated seconds between one request and the next in a supplier's sequence.
STEP_SECONDS = 30.0
#: Each user's RequestID counter before its first request of a story (then it only rises).
FIRST_COUNTER = 1000
MPXN = 1000999888
POST_CODE, ADDRESS, CSP_REGION = "M22 0RR", "Threapwood Road", "North"


@dataclass
class Entry:
    """One line of the timeline. Never a secret: install codes and keys stay out."""

    time: float
    actor: str
    event: str
    smi: list[str] = field(default_factory=list)
    site: int | None = None


@dataclass
class Request:
    """One DUIS exchange: the step number and its documents, for the DUIS files; when it was
    sent, by whom, and its one-line outcome, for the reports."""

    step: int
    srv: str
    documents: list[tuple[str, bytes]]
    time: float = 0.0
    actor: str = ""
    summary: str = ""


@dataclass
class StateSpan:
    site: int
    state: str
    start: float
    end: float


@dataclass
class Replay:
    """Everything a replay produced, for the terminal, the files and the expectations."""

    scenario: Scenario
    seed: int
    premises: Premises  # its Comms Hub, devices and users; the DCC (``dcc``) may serve a whole street
    entries: list[Entry]
    requests: list[Request]
    joins: RecordedJoins
    spans: list[StateSpan]
    dcc: Dcc
    clock: WorkClock
    slots: dict[str, str]  # device name -> the ID in that slot now (after replacement)
    codes: dict[str, InstallCode]  # device ID -> the code it holds (for tshark, never printed)
    alerts: list[str]
    refusals: list[str]  # the DUIS response code of every refused request, in order
    code_holders: dict[str, set[str]]  # device ID -> the parties that hold its install code
    code_requests: int
    replaced: bool
    end: float

    def wd(self, t: float) -> int:
        """Working days since the scenario's start (day 0)."""
        return self.clock.number(t) - self.clock.number(0.0)

    def date(self, t: float) -> dt.date:
        return self.scenario.start + dt.timedelta(days=int(t // DAY))

    def moment(self, t: float) -> dt.datetime:
        """Date and time of day ``t`` seconds after the start (UTC, as the pcaps)."""
        return story_start(self.scenario.start) + dt.timedelta(seconds=t)

    @property
    def epoch_s(self) -> float:
        """Unix time of the story's time 0, so captures carry the story's real dates."""
        return story_start(self.scenario.start).timestamp()


def story_start(start: dt.date) -> dt.datetime:
    """Time 0 of a story: midnight UTC at the start of its first day."""
    return dt.datetime.combine(start, dt.time(), dt.UTC)


class _Story:
    """The driver of one premises: one SimPy process walks its scripted events and the
    lifecycle's due ones, sending requests to the DCC it is attached to (:meth:`serve`)."""

    def __init__(self, scenario: Scenario, env: simpy.Environment, counters: dict[str, int],
                 number: int = 0) -> None:
        self.scenario = scenario
        # The n-th premises of a street: MPxN 1000999888 + n, its name its address on the street.
        self.mpxn = str(MPXN + number)
        self.address = ADDRESS if scenario.premises is None else scenario.premises
        self.seed = seed = scenario.seed
        self.env = env
        self.counters = counters  # each user's RequestID counter, shared by a street's premises
        self.clock = WorkClock(WorkingDayCalendar(scenario.start, years=HORIZON_YEARS))
        self.draws = Draws(np.random.default_rng(seed))
        self.rng = random.Random(seed)
        self.policy = scenario.policy
        self.party_numbers = {name: n for n, name in enumerate(scenario.parties)}
        self.market = party_market(scenario)
        self.joins = replay_joins(scenario.radio, seed, scenario.chf, scenario.gpf,
                                  {d.device_id: d.install_code for d in scenario.devices.values()},
                                  sleepy=lambda device_id: self.kinds.get(device_id) == "GSME")
        self.entries: list[Entry] = []
        self.requests: list[Request] = []
        self.spans: list[StateSpan] = []
        self.alerts: list[str] = []
        self.refusals: list[str] = []
        self.code_requests = 0
        self.code_holders: dict[str, set[str]] = {}  # device ID -> names of the parties holding its code
        self.deferred: list[tuple[Meter, Lifecycle]] = []  # a code request settled at once (SSI refusal)
        parties = scenario.parties
        installs = sorted((e for e in scenario.timeline if e.kind == "install"), key=lambda e: (self._time(e), e.index))
        self.installer = parties[installs[0].fields["by"]]
        # Each fuel's supplier at the start: whoever first installs a meter of that fuel; for
        # a fuel no meter has, the first installer if it supplies it, else the last party listed.
        suppliers = {fuel: p.user_id for p in parties.values() for fuel in p.fuels}
        suppliers |= {fuel: self.installer.user_id for fuel in self.installer.fuels}
        for event in reversed(installs):
            by = parties[event.fields["by"]].user_id
            suppliers |= {scenario.devices[n].fuel: by for n in event.fields.get("devices", list(scenario.devices))}
        users = {p.user_id: {ROLES[f] for f in p.fuels} for p in parties.values()}
        self.names = {p.user_id: p.name for p in parties.values()}
        hub = CommsHub(scenario.chf, scenario.gpf, wan_connected=False,
                       supplier_key=supplier_test_key(self.installer.user_id).public_key())
        devices = {d.device_id: HanDevice(d.device_id, d.device_type, d.install_code, present=False,
                                          supplier_key=supplier_test_key(suppliers[d.fuel]).public_key())
                   for d in scenario.devices.values()}
        start = story_start(scenario.start)
        coverage = CoverageDatabase()
        coverage.add(premises_key(post_code=POST_CODE, address_identifier=self.address),
                     Coverage(CSP_REGION, *scenario.coverage))
        self.premises = Premises(hub, devices, users, suppliers, coverage, mpxn=self.mpxn, start=start,
                                 han_join=self.joins)
        self.dcc: Dcc  # attached by serve(): one DCC (and SSI) for every premises of a street
        self.ssi: SelfServiceInterface
        self.slots = {name: d.device_id for name, d in scenario.devices.items()}
        self.codes = {d.device_id: d.install_code for d in scenario.devices.values()}
        self.kinds = {d.device_id: d.device_type for d in scenario.devices.values()}
        self.recorded = {d.device_id: d.installer_record for d in scenario.devices.values()}
        #: What the supplier that now registers each device knows of its code (None: nothing).
        self.known: dict[str, InstallCode | None] = {}
        self.sites: list[tuple[Meter, Lifecycle, list[str]]] = []
        #: Scripted changes of supplier not yet in the DCC's registration data: (time, index, event).
        self.registrations = sorted((self._time(e), e.index, e) for e in scenario.timeline if e.kind == "cos")
        self.pending_steps: dict[int, list[Step]] = {}
        self.end = 0.0

    # -- the run ------------------------------------------------------------------------
    def serve(self, dcc: Dcc, ssi: SelfServiceInterface) -> None:
        """Attach the DCC (and its SSI) that serves this premises, and start the story."""
        self.dcc, self.ssi = dcc, ssi
        self.env.process(self._walk())

    def result(self) -> Replay:
        """What the story produced, once the environment has run."""
        end = self.end
        for site, _, _ in self.sites:
            self._flush(site, INF)
            self.spans.append(StateSpan(site.number, site.state.name, site.entered, max(end, site.entered)))
        return Replay(self.scenario, self.seed, self.premises, sorted(self.entries, key=lambda e: e.time),
                      self.requests,
                      self.joins, self.spans, self.dcc, self.clock, self.slots, self.codes, self.alerts,
                      self.refusals, self.code_holders, self.code_requests,
                      any(s.replaced for s, _, _ in self.sites), end)

    def _time(self, event: Scripted) -> float:
        return (event_day(event, self.clock.calendar) - self.scenario.start).days * DAY + event.seconds

    def _walk(self):
        scripted = sorted(((self._time(e), e.index, e) for e in self.scenario.timeline),
                          key=lambda x: x[:2])
        while True:
            due = min(((s.due, n) for n, (s, _, _) in enumerate(self.sites)), default=(INF, -1))
            next_scripted = scripted[0][0] if scripted else INF
            if min(due[0], next_scripted) == INF:
                self.end = self.env.now
                return
            if next_scripted <= due[0]:
                t, _, event = scripted.pop(0)
                yield self.env.timeout(t - self.env.now)
                self._scripted(event)
            else:
                yield self.env.timeout(due[0] - self.env.now)
                site, lifecycle, _ = self.sites[due[1]]
                self._lifecycle(site, lambda: lifecycle.advance(site, self.env.now))
            while self.deferred:  # a request the SSI refused: settled now, not when a reply would come
                site, lifecycle = self.deferred.pop(0)
                self._lifecycle(site, lambda: lifecycle.inject(site, Event.CODE, self.env.now))

    # -- lifecycle calls, with what they changed written down ----------------------------
    def _lifecycle(self, site: Meter, call) -> None:
        before, request, replaced = site.state, site.last_request, site.replaced
        entered = site.entered
        self._flush(site, self.env.now)
        mark = len(self.entries)  # the state change goes before what the call sent
        site.due = call()
        if site.last_request is not request and site.last_request is not None:
            self.code_requests += sum(1 for s in site.last_request.steps if s.what.startswith("request sent"))
            self.pending_steps[site.number] = self._exchange(site, site.last_request)
            self._flush(site, self.env.now)
        if site.replaced and not replaced:
            self._visit(site)
        if site.state is not before:
            self.spans.append(StateSpan(site.number, before.name, entered, self.env.now))
            self.entries.insert(mark, Entry(self.env.now, "site", f"site {site.number}: "
                                            f"{_state(before)} -> {_state(site.state)}", site=site.number))

    def _exchange(self, site: Meter, request: CodeRequest) -> list[Step]:
        """The install-code exchange's steps as the timeline tells them: under the SSI
        route, the incident's own steps (the SMI check, the assignment to whoever
        pre-notified the device, the note, the requester closing it); the code reaches the
        requester only when the assignee holds it. Whoever receives a code holds it."""
        entry = next(e for e in self.sites if e[0] is site)
        device_id, requester = entry[2][0], self._supplier_name(entry[2])
        if not isinstance(self.policy, SsiIncident):
            return list(request.steps)
        user = self.scenario.parties[requester].user_id
        steps: list[Step] = []
        incident: Incident | None = None
        for step in request.steps:
            if not step.what.startswith("request sent"):
                if step.what in ("install code received", "install code added to the open incident") \
                        and incident is not None:
                    steps += self._answered(incident, step.time, requester, site)
                else:
                    steps.append(step)
                continue
            try:
                incident = self.ssi.raise_incident(user, device_id, step.time)
            except IncidentRefused as refusal:
                site.code_ok, site.late_code_at = False, INF
                self.deferred.append((site, entry[1]))
                return [Step(step.time, f"SSI refuses the incident: {refusal}")]
            assignee = self.names[incident.assignee]
            steps += [Step(step.time, f"{incident.number} 'Request for Install Code' raised by {requester} for "
                                      f"{device_id} ({self.dcc.smi.status(device_id)} in the SMI)"),
                      Step(step.time, f"DSMS assigns {incident.number} to {assignee}, who pre-notified the "
                                      "device, and emails it")]
        return steps

    def _answered(self, incident: Incident, at: float, requester: str, site: Meter | None) -> list[Step]:
        """The assignee's note and the requester closing the incident: the code comes only
        from an assignee that holds it (DSMS cannot tell whether a note carries one)."""
        assignee = self.names[incident.assignee]
        holds = assignee in self.code_holders[incident.device_id]
        self.ssi.add_note(incident, incident.assignee, at, carries_code=holds)
        self.ssi.close(incident, incident.creator, at)
        if site is None and holds:  # a party outside the lifecycle: it holds the code now
            self.code_holders[incident.device_id].add(requester)
        elif site is not None and not holds:
            site.code_ok, site.late_code_at = False, INF
        note = "the install code" if holds else "that it does not hold the install code"
        return [Step(at, f"{assignee} adds a note to {incident.number}: {note}; DSMS emails {requester}"),
                Step(at, f"{requester} closes {incident.number} (only its creator may)"),
                *([Step(at, "install code received")] if holds and site is not None else [])]

    def _flush(self, site: Meter, now: float) -> None:
        """Timeline lines for the install-code exchange's steps that have happened by ``now``."""
        steps = self.pending_steps.get(site.number, [])
        while steps and steps[0].time <= now:
            step = steps.pop(0)
            if step.what == "install code received":  # the requester, the meter's supplier, holds it now
                device_id = next(e[2][0] for e in self.sites if e[0] is site)
                self.code_holders[device_id].add(self._supplier_name([device_id]))
            self.entries.append(Entry(step.time, self.policy.name, f"install code: {step.what}",
                                      site=site.number))

    # -- scripted events ----------------------------------------------------------------
    def _scripted(self, event: Scripted) -> None:
        now = self.env.now
        getattr(self, f"_on_{event.kind}")(event, now)

    def _on_install(self, event: Scripted, now: float) -> None:
        by = self.scenario.parties[event.fields["by"]]
        prenotifier = self.scenario.parties[event.fields.get("prenotified_by", by.name)]
        names = event.fields.get("devices", list(self.scenario.devices))
        hub = self.premises.hub
        first = not self.sites
        self.entries.append(Entry(now, by.name, f"install visit: {', '.join(names)}"
                                  + (" and Comms Hub" if first else "")
                                  + (" with SM WAN" if event.fields.get("wan") else "")))
        self.dcc.now = max(self.dcc.now, now)
        if first:  # the installer looks the premises up in the coverage database first
            self._send(by.user_id, self.premises.dcc_id, 8, "12.1", "12.1",
                       b.RequestWANMatrix(post_code=POST_CODE, address_identifier=self.address))
        ids = []
        for name in names:
            device = self.scenario.devices[name]
            self.premises.devices[device.device_id].present = True
            self.known[device.device_id] = device.installer_record
            ids.append(device.device_id)
            self.code_holders[device.device_id] = {by.name}
            self._send(prenotifier.user_id, self.premises.dcc_id, 8, "12.2", "12.2",
                       b.DevicePrenotification(device.device_id, "AB01", "010A030B", device.device_type))
        if first:
            if event.fields.get("wan"):
                hub.wan_connected = True
                self._send(by.user_id, self.premises.dcc_id, 8, "8.14", "8.14.1",
                           b.CHFInstallSuccessSMWAN(hub.chf_id, "New CHF Install", self.mpxn, False,
                                                    "Basement or Cellar"))
            else:
                self._send(by.user_id, self.premises.dcc_id, 8, "8.14", "8.14.2",
                           b.CHFInstallSuccessNoSMWAN(hub.chf_id, "CHF Install - no SM WAN", self.mpxn, False,
                                                      "Basement or Cellar", "Detached / Semi Detached"))
        if not hub.wan_connected and event.fields.get("update_inventory", True):
            for device_id in ids:  # install and leave: installed, not commissioned, as 8.4 allows
                if self.kinds[device_id] != "IHD":  # Type 2: no SMI status
                    self._send(by.user_id, self.premises.dcc_id, 8, "8.4", "8.4",
                               b.UpdateInventory(device_id, status_except_ch="InstalledNotCommissioned"))
        # GSMEs that the WAN could not reach for want of an ESME (IGT new builds):
        waiting = [(s, life) for s, life, d in self._live() if not s.wan and self.kinds[d[0]] == "GSME"]
        for device_id in ids:  # one lifecycle record per device: its own supplier and code chain
            fuel = GAS if self.kinds[device_id] == "GSME" else ELECTRICITY
            reachable = hub.wan_connected and self._reachable([device_id])
            site = Meter(len(self.sites) + 1, now, now if reachable else INF, INF,
                         self.party_numbers[event.fields["by"]], fuel)
            lifecycle = Lifecycle(self.policy, DuisCommissioning(self, [device_id]), self.scenario.rules,
                                  self.clock, self.draws, _Quiet(), self.market)
            self.sites.append((site, lifecycle, [device_id]))
            self._lifecycle(site, lambda: lifecycle.install(site, now))
        if hub.wan_connected and any(self.kinds[d] == "ESME" for d in ids):
            for site, lifecycle in waiting:  # an IGT's GSME: the ESME is there at last, and once
                self.entries.append(Entry(self.dcc.now, "site", f"site {site.number}: the ESME is "
                                          "there: the GSME can join the HAN", site=site.number))
                site.due = lifecycle.wan_due(site, self.dcc.now)  # its supplier's turn, after the ESME's

    def _reachable(self, ids: list[str]) -> bool:
        """A GSME needs the ESME: the Comms Hub takes its power from the electricity supply
        (seeds: IGT GSMEs "are left not commissioned as the ESME is not installed at the
        same time")."""
        return not any(self.kinds[d] == "GSME" for d in ids) or any(
            self.kinds[d] == "ESME" and self.premises.devices[d].present for d in self.kinds)

    def _on_wan(self, event: Scripted, now: float) -> None:
        self.dcc.now = max(self.dcc.now, now)
        changes = self.dcc.wan_arrives(self.premises)
        self.entries.append(Entry(now, "CSP", "SM WAN arrives", [str(c) for c in changes]))
        for site, lifecycle, ids in self._live():
            if self._reachable(ids):
                self._lifecycle(site, lambda: lifecycle.inject(site, Event.WAN, now))

    def _register(self, now: float) -> None:
        """The DCC's registration data takes every change of supplier due by ``now``: from
        then on it refuses the losing supplier's requests for that fuel (E4), even in the
        middle of a commissioning sequence."""
        while self.registrations and self.registrations[0][0] <= now:
            event = self.registrations.pop(0)[2]
            to = self.scenario.parties[event.fields["to"]]
            for fuel in event.fields.get("fuels", list(to.fuels)):
                self.premises.change_supplier(fuel, to.user_id)

    def _on_cos(self, event: Scripted, now: float) -> None:
        to = self.scenario.parties[event.fields["to"]]
        fuels = event.fields.get("fuels", list(to.fuels))
        self._register(now)
        self.entries.append(Entry(now, to.name, f"change of supplier: {to.name} now supplies {', '.join(fuels)}"))
        for site, lifecycle, ids in self._live():
            moved = [d for d in ids if _fuel(self.kinds[d]) in fuels]
            if moved and all(self.dcc.smi.status(d) == "Commissioned" for d in moved):
                continue  # commissioned before the change: the gainer takes it over with 6.23 (not replayed)
            if moved:
                for device_id in moved:
                    self.known[device_id] = None  # only the installing supplier holds the code
                gainer = self.party_numbers[event.fields["to"]]
                self._lifecycle(site, lambda: lifecycle.switch(site, now, gainer))

    def _on_code(self, event: Scripted, now: float) -> None:
        value = event.fields.get("value", "right")
        for site, lifecycle, ids in self._live():
            for device_id in ids:
                held = self.codes[device_id]
                self.known[device_id] = held if value == "right" else other_code(held, self.rng)
                if value == "right":
                    self.code_holders[device_id].add(self._supplier_name(ids))
            self.pending_steps[site.number] = []  # any reply still on its way is overtaken
            site.code_ok = True
            self.entries.append(Entry(now, self._supplier_name(ids), f"install code obtained ({value} code)",
                                      site=site.number))
            self._lifecycle(site, lambda: lifecycle.inject(site, Event.CODE, now))

    def _on_reply_lost(self, event: Scripted, now: float) -> None:
        """The pending reply never arrives. The requester does not know: it waits for its
        SLA's end, then chases and escalates, as for a supplier that never answered, until
        an escalation brings the code or it gives up (the policy's own rules, from when it asked)."""
        for site, lifecycle, _ in self._live():
            self._flush(site, now)
            self.entries.append(Entry(now, "email", "install code reply lost: the requester never gets it",
                                      site=site.number))
            asked = site.last_request
            if asked is None or asked.resolved <= now or "reply_probability" not in self.policy.params():
                site.code_ok = False
                continue
            silent = make_policy(self.policy.name, **{**self.policy.params(), "reply_probability": 0.0})
            under_sla = site.gained_at >= lifecycle.obligation_start
            again = silent.request(site, asked.steps[0].time, under_sla, self.market, self.clock, self.draws)
            self.pending_steps[site.number] = [s for s in again.steps if s.time > now]
            site.code_ok, site.code_at, site.late_code_at = again.success, max(again.resolved, now), again.late
            site.due = lifecycle.wan_due(site, site.wan_at)  # the lifecycle picks its next event again

    def _on_incident(self, event: Scripted, now: float) -> None:
        """A party raises an SSI incident for a device, whether or not it supplies it (the
        SSI "cannot establish whether the creator of the incident is the valid Supplier");
        the assignee answers ``answer_wd`` working days later."""
        by = self.scenario.parties[event.fields["by"]]
        device_id = self.slots[event.fields["device"]]
        try:
            incident = self.ssi.raise_incident(by.user_id, device_id, now)
        except IncidentRefused as refusal:
            self.entries.append(Entry(now, "SSI", f"refuses {by.name}'s incident: {refusal}"))
            return
        assignee = self.names[incident.assignee]
        self.entries += [
            Entry(now, "SSI", f"{incident.number} 'Request for Install Code' raised by {by.name} for "
                              f"{device_id} ({self.dcc.smi.status(device_id)} in the SMI; the SSI cannot "
                              "tell whether the creator supplies the device)"),
            Entry(now, "SSI", f"DSMS assigns {incident.number} to {assignee}, who pre-notified the device, "
                              "and emails it")]
        at = self.clock.later(now, event.fields.get("answer_wd", 0))
        self.entries += [Entry(step.time, "SSI", step.what) for step in self._answered(incident, at, by.name, None)]

    def _on_visit(self, event: Scripted, now: float) -> None:
        for site, lifecycle, _ in self._live():
            self._lifecycle(site, lambda: lifecycle.inject(site, Event.VISIT, now))

    # -- the DCC ------------------------------------------------------------------------
    def _send(self, user: str, target: str, variant: int, reference: str, srv: str, body) -> Outcome:
        """One request to the DCC at its clock; a variant-4 pre-command is signed and resent."""
        self._register(self.dcc.now)
        self.counters[user] = self.counters.get(user, FIRST_COUNTER) + 1
        request = ServiceRequest(RequestID(user, target, self.counters[user]), variant, reference, srv, body)
        documents = [("request", request.to_xml())]
        outcome = self.dcc.submit(request.to_xml())
        self._record(user, outcome, documents)
        if outcome.accepted and (pre := outcome.pre_command) is not None:
            signed = signed_request(request, pre, supplier_test_key(user))
            self.dcc.now += STEP_SECONDS
            self._register(self.dcc.now)
            outcome = self.dcc.submit(signed.to_xml())
            self._record(user, outcome, [("request_cv5", signed.to_xml())], note="signed pre-command: ")
        self.dcc.now += STEP_SECONDS
        return outcome

    def _record(self, user: str, outcome: Outcome, documents: list[tuple[str, bytes]], note: str = "") -> None:
        step = len(self.requests) + 1
        srv = outcome.request.srv if outcome.request else "unreadable"
        documents += [(name, doc.to_xml()) for name, doc in outcome.documents]
        actor = self.names.get(user, user)
        if not outcome.accepted:
            self.refusals.append(outcome.code)
        self.requests.append(Request(step, srv, documents, self.dcc.now, actor, note + outcome.summary()))
        for _, doc in outcome.documents:
            if isinstance(doc.body, DeviceAlertMessage):
                self.alerts.append(doc.body.alert_code)
            elif isinstance(doc.body, DCCAlertMessage):
                self.alerts.append(doc.body.code)
        self.entries.append(Entry(self.dcc.now, actor, note + outcome.summary(),
                                  [str(c) for c in outcome.changes]))

    def commission(self, ids: list[str], now: float) -> Commissioned:
        """SRV 8.11 Add with the code the registered supplier holds, the join, 8.7.1 for a gas
        meter, 8.1.1. Done when every meter is Commissioned; INF if a join failed (the
        supplier waits for a right code: a scripted ``code`` event)."""
        self.dcc.now = max(self.dcc.now, now)
        attempts, ok = 0, True
        for device_id in ids:
            if self.dcc.smi.status(device_id) == "Commissioned" or (
                    self.kinds[device_id] == "IHD" and self.premises.devices[device_id].joined):
                continue
            attempts += 1
            ok = self._commission_meter(device_id) and ok
        return Commissioned(self.dcc.now if ok else INF, attempts)

    def _commission_meter(self, device_id: str) -> bool:
        kind = self.kinds[device_id]
        user = self.premises.suppliers[_fuel(kind)]
        hub = self.premises.hub
        code = self.known.get(device_id)
        if code is None:  # the lifecycle commissions only with the code: the policy delivered
            code = self.known[device_id] = self.recorded[device_id]  # what the installer recorded
        if device_id in hub.device_log.live:  # the CHF keeps a device's first code: remove, re-add
            self._send(user, hub.chf_id, 1, "8.11", "8.11", b.UpdateHANDeviceLog(device_id, "Remove"))
        joins = len(self.joins.records)
        self._send(user, hub.chf_id, 1, "8.11", "8.11",
                   b.UpdateHANDeviceLog(device_id, "Add", JOIN_TIME_PERIOD, InstallCode(code.code)))
        if len(self.joins.records) > joins:
            self.dcc.now += self.joins.records[-1].duration
        if not self.premises.devices[device_id].joined:
            return False
        if kind == "IHD":  # Type 2: on the HAN is all it needs
            return True
        if kind == "GSME":
            self._send(user, device_id, 4, "8.7", "8.7.1", b.JoinServiceCritical(hub.gpf_id))
        outcome = self._send(user, device_id, 4, "8.1", "8.1.1",
                             b.CommissionDeviceSynchroniseClock(self.dcc.timestamp(), 60))
        return outcome.accepted

    def _visit(self, site: Meter) -> None:
        """The replacement visit: new meters (new IDs and codes) replace the old, then commission."""
        now = self.env.now
        self.dcc.now = max(self.dcc.now, now)
        _, _, ids = next(entry for entry in self.sites if entry[0] is site)
        self.entries.append(Entry(now, self._supplier_name(ids), "replacement visit: new meters fitted",
                                  site=site.number))
        for n, old in enumerate(list(ids)):
            kind = self.kinds[old]
            user = self.premises.suppliers[_fuel(kind)]
            new = _replacement_id(old)
            code = InstallCode.generate(16, self.rng)
            self.premises.devices[old].present = False
            status = self.dcc.smi.status(old)
            if status in ("Whitelisted", "InstalledNotCommissioned", "Commissioned"):
                self._send(user, self.premises.dcc_id, 8, "8.3", "8.3", b.DecommissionDevice(old))
            elif status == "Pending":
                self._send(user, self.premises.dcc_id, 8, "8.4", "8.4", b.UpdateInventory(old, delete=True))
            self.premises.devices[new] = HanDevice(new, kind, code, supplier_key=supplier_test_key(user).public_key())
            self.kinds[new], self.codes[new], self.known[new] = kind, code, code
            self.code_holders[new] = {self.names.get(user, user)}
            for name, slot in self.slots.items():
                if slot == old:
                    self.slots[name] = new
            ids[n] = new
            self._send(user, self.premises.dcc_id, 8, "12.2", "12.2",
                       b.DevicePrenotification(new, "AB01", "010A030B", kind))
            self._commission_meter(new)

    # -- helpers ------------------------------------------------------------------------
    def _live(self):
        return [entry for entry in self.sites if entry[0].state is not COMMISSIONED]

    def _supplier_name(self, ids: list[str]) -> str:
        user = self.premises.suppliers[_fuel(self.kinds[ids[0]])]
        return self.names.get(user, user)


class DuisCommissioning:
    """:class:`~sim.lifecycle.Commissioning` through the DCC model for one site's meters."""

    def __init__(self, story: _Story, ids: list[str]) -> None:
        self.story = story
        self.ids = ids

    def commission(self, now: float, clock: WorkClock, draws: Draws) -> Commissioned:
        return self.story.commission(self.ids, now)


class _Quiet:
    """The lifecycle's observer: the driver reads state changes itself."""

    def left(self, site: Meter, state: State, entered: float, now: float) -> None:
        return None

    def done(self, site: Meter, now: float) -> None:
        return None

    def gained(self, site: Meter, now: float) -> None:
        return None

    def requested(self, site: Meter, request: CodeRequest) -> None:
        return None

    def moved(self, site: Meter) -> None:
        return None


def party_market(scenario: Scenario) -> Market:
    """The scenario's parties as suppliers, numbered in file order: unlimited capacity and
    the modification report's habits (L): each replies with 0.9 unless the policy sets
    ``reply_probability``, and only an installer gives a code ("or confirming that they
    were not the installing Party") unless the party ``forwards`` one it received."""
    share = 1 / len(scenario.parties)
    return Market([SupplierClass(name, 1, share, 0.0, 0.9, party.forwards, 0.0)
                   for name, party in scenario.parties.items()])


def replay(scenario: Scenario, schema: Path | None = None) -> Replay:
    """Run ``scenario`` with its seed; deterministic: same scenario and seed, same Replay.

    The DCC checks each request against the DUIS XSD at ``schema`` (default: where
    :func:`sim.duis.schema.locate` looks; none found: no check).
    """
    return replay_street([scenario], schema)[0]


def replay_street(street: Sequence[Scenario], schema: Path | None = None) -> list[Replay]:
    """Run the premises of a street together, as one DCC serves them: one SimPy
    environment, one DCC model (one SMI, one set of users, one RequestID counter per
    user, one SSI, one clock), each premises with its own Comms Hub and HAN. The DCC
    carries requests out one at a time in arrival order (as ``hansim dcc serve`` does), so
    a commissioning sequence due while another premises' is under way follows it by the
    minutes that one takes. Deterministic: same street and seeds, same Replays."""
    env = simpy.Environment()
    counters: dict[str, int] = {}
    stories = [_Story(scenario, env, counters, n) for n, scenario in enumerate(street)]
    try:  # the DCC checks each request against the DUIS XSD when it is at hand
        xsd = duis_schema.load(duis_schema.locate(schema))
    except duis_schema.SchemaNotFound:
        xsd = None
    try:
        dcc = Dcc([story.premises for story in stories], xsd)
        ssi = SelfServiceInterface(dcc.smi)
        for story in stories:
            story.serve(dcc, ssi)
        env.run()
    finally:
        for story in stories:
            story.joins.close()
    return [story.result() for story in stories]


def _fuel(kind: str) -> str:
    return "gas" if kind == "GSME" else "electricity"


def _state(state: State) -> str:
    return state.name.lower().replace("_", " ")


def _replacement_id(device_id: str) -> str:
    """The new meter's ID: the old one with its second-last byte moved on by 0x10 (hansim's
    convention, so that a replacement's ID is readable beside the meter it replaced)."""
    parts = device_id.split("-")
    parts[6] = f"{(int(parts[6], 16) + 0x10) % 256:02X}"
    return "-".join(parts)
