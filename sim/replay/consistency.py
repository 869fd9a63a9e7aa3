"""What a scenario's pinned outcomes, timeline and expectations cannot all be: refused
before anything runs, each with file, line and field.

A replay pins random outcomes in the file (policy parameters such as ``reply_wd``,
``reply_probability``, ``p_escalated``; ``installer_record: wrong``; the ``reply_lost``,
``code``, ``visit`` and ``incident`` events) so that its story holds under any seed. A pin
the timeline can never honour, or an expectation no run of the timeline can meet, is a
mistake in the file, not a story: found here from the file alone, never by running it.
Only what the file decides is checked (nothing that depends on a drawn install code,
key or frame timing).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.policies import Email, NoProcess, Policy, SmiInstallCodes, SsiIncident
from sim.yamlfile import YamlDocument

#: Policy parameters that pin an install-code request's outcome (reply, delay, route, escalation).
REQUEST_PINS = ("reply_probability", "reply_wd", "p_identify_installer", "p_escalated", "escalation_wd",
                "coverage", "delay_wd")


@dataclass(frozen=True)
class Timed:
    """A scripted event: ``index`` in the file, ``order`` in time, its working day from
    the start (``working``: that day is one; ``given``: ``wd`` or ``date``, as the file
    gives it) and its time of day."""

    index: int
    order: int
    kind: str
    wd: int
    seconds: float
    working: bool
    given: str
    fields: dict

    @property
    def path(self) -> tuple:
        return ("timeline", self.index)

    @property
    def when(self) -> int:
        return self.order


@dataclass(frozen=True)
class Story:
    """One premises' file as the checks read it: its events in time order, each device's
    type and fuel and what its installer recorded, each party's fuels, its policy."""

    doc: YamlDocument
    events: list[Timed]
    kinds: dict[str, str]  # device name -> ESME / GSME / IHD
    fuels: dict[str, str]  # device name -> electricity / gas
    records: dict[str, str]  # device name -> right / wrong
    party_fuels: dict[str, tuple[str, ...]]
    policy: Policy

    def installs(self) -> dict[str, Timed]:
        return {name: e for e in self.events if e.kind == "install" for name in e.fields.get("devices", self.kinds)}

    def coses(self) -> list[Timed]:
        return [e for e in self.events if e.kind == "cos"]


def check(story: Story, expect: dict) -> None:
    """Every contradiction between the pins, the timeline and ``expect:`` (InputFileError)."""
    _timeline(story)
    _expect(story, expect)


def _timeline(story: Story) -> None:
    suppliers: dict[str, str] = {}  # fuel -> party name, as the timeline goes
    for event in story.events:
        if event.kind == "install":
            for name in event.fields.get("devices", story.kinds):
                suppliers.setdefault(story.fuels[name], event.fields["by"])
        elif event.kind == "cos":
            to = event.fields["to"]
            moved = event.fields.get("fuels", story.party_fuels[to])
            if all(suppliers.get(fuel) in (to, None) for fuel in moved) and any(f in suppliers for f in moved):
                raise story.doc.error((*event.path, "to"), f"{to} already supplies {', '.join(moved)} here: a "
                                                           "change of supplier needs another supplier")
            suppliers.update({fuel: to for fuel in moved})
        elif event.kind == "reply_lost":
            _reply_lost(story, event)


def _reply_lost(story: Story, event: Timed) -> None:
    policy = story.policy
    if isinstance(policy, (NoProcess, SmiInstallCodes)):
        raise story.doc.error((*event.path, "event"), f"reply_lost under policy {policy.name}: no install-code "
                                                      "request is emailed or raised, so no reply can be lost")
    earlier = [e for e in story.coses() if e.when <= event.when]
    if not isinstance(policy, (Email, SsiIncident)) or not earlier:
        return
    cos = earlier[-1]
    # The first party asked is the installer (one earlier supplier, or the SSI's routing, or
    # the installer always identified), asked at the change itself (no bulk batching): the
    # request is settled by its give-up day, and a pinned reply lands on a pinned day.
    installer_first = len(earlier) == 1 or policy.route_to_installer or policy.identify == 1.0
    if not (installer_first and policy.bulk_wd == 0 and cos.working):
        return
    after = (event.wd, event.seconds)
    if policy.reply_probability == 1.0 and policy.reply_wd is not None \
            and after > (lands := cos.wd + policy.reply_wd, cos.seconds):
        raise story.doc.error((*event.path, event.given),
                              f"the installer's reply, pinned (reply_probability 1, reply_wd {policy.reply_wd}) "
                              f"after the change of supplier on WD {cos.wd}, has arrived on WD {lands}: "
                              f"there is no reply left to lose on WD {event.wd}")
    if after > (settled := cos.wd + policy.give_up_wd, cos.seconds):
        raise story.doc.error((*event.path, event.given),
                              f"the request made at the change of supplier on WD {cos.wd} is settled by WD "
                              f"{settled} (give_up_wd {policy.give_up_wd}): no reply is left to lose on WD {event.wd}")


def _expect(story: Story, expect: dict) -> None:
    doc, coses = story.doc, story.coses()
    for name, by in (expect.get("commissioned") or {}).items():
        _commissioned(story, name, by)
    for name, named in (expect.get("code_holders") or {}).items():
        possible = _possible_holders(story, name)
        for party in named:
            if party not in possible:
                raise doc.error(("expect", "code_holders", name),
                                f"{party} can never hold {name}'s install code here: it neither installs {name}, "
                                "gains its fuel by a change of supplier after the install, nor raises an SSI "
                                "incident for it")
    if expect.get("code_requests", 0) > 0:
        if not coses:
            raise doc.error(("expect", "code_requests"), "no change of supplier in the timeline: only a gaining "
                                                         "supplier asks for an install code")
        if isinstance(story.policy, NoProcess):
            raise doc.error(("expect", "code_requests"), "policy none has no install-code process: no request "
                                                         "is ever sent")
    if expect.get("replacement") is True and not coses and not any(e.kind == "visit" for e in story.events):
        raise doc.error(("expect", "replacement"), "no change of supplier and no visit event: every supplier "
                                                   "holds its codes, so no meter is replaced")
    if not any(e.kind == "wan" or e.kind == "install" and e.fields.get("wan") for e in story.events):
        for key, what in (("joins", "a HAN join"), ("alerts", "an alert")):
            if expect.get(key):
                raise doc.error(("expect", key), f"the SM WAN never arrives: without it no SRV 8.11 reaches the "
                                                 f"Comms Hub, so there is never {what}")
    for j, code in enumerate(expect.get("refusals") or []):
        if code == "E4" and not coses:
            raise doc.error(("expect", "refusals", j), "E4 (not the registered supplier) needs a supplier that "
                                                       "lost the meter: the timeline has no change of supplier")


def _commissioned(story: Story, name: str, by: int | None) -> None:
    path = ("expect", "commissioned", name)
    installs = story.installs()
    install = installs.get(name)
    if install is None:
        raise story.doc.error(path, f"{name} is never installed: no install event fits it")
    if by is not None and by < install.wd:
        raise story.doc.error(path, f"{name} Commissioned by WD {by}, but it is installed only on WD {install.wd}")
    if story.kinds[name] == "GSME":
        esmes = [e.wd for n, e in installs.items() if story.kinds[n] == "ESME"]
        if not esmes:
            raise story.doc.error(path, "no ESME is ever installed here: the Comms Hub takes its power from the "
                                        "electricity supply, so the GSME never joins (the IGT new build)")
        if by is not None and by < min(esmes):
            raise story.doc.error(path, f"GSME Commissioned by WD {by}, but the first ESME is installed only "
                                        f"on WD {min(esmes)}, and the GSME waits for it")
    if story.records[name] == "wrong" and not any(
            e.when > install.when and (e.kind == "visit" or e.kind == "code" and e.fields.get("value") != "wrong")
            for e in story.events):
        raise story.doc.error(path, f"{name}'s installer recorded a wrong install code and no `code` event with the "
                                    "right one (nor a visit) follows: every join fails (0x8F48), so it is never "
                                    "Commissioned")


def _possible_holders(story: Story, name: str) -> set[str]:
    """The parties that could ever hold the code of the meter in slot ``name``."""
    install = story.installs().get(name)
    if install is None:
        return set()
    fuel = story.fuels[name]
    holders = {install.fields["by"]}
    for event in story.events:
        if event.when <= install.when:
            continue
        if event.kind == "cos" and fuel in event.fields.get("fuels", story.party_fuels[event.fields["to"]]):
            holders.add(event.fields["to"])
        elif event.kind == "incident" and event.fields["device"] == name:
            holders.add(event.fields["by"])
    return holders


def pinned_but_never_asked(doc: YamlDocument, coses: int) -> None:
    """A request outcome pinned in ``policy:`` while no premises has a change of supplier:
    nobody is ever asked for a code, so the pin pins nothing."""
    policy = doc.data.get("policy") if isinstance(doc.data, dict) else None
    if coses or not isinstance(policy, dict):
        return
    for key in REQUEST_PINS:
        if key in policy:
            raise doc.error(("policy", key), "pins an install-code request's outcome, but the timeline has no "
                                             "change of supplier: nobody is ever asked for a code")


def policy_pins(doc: YamlDocument, policy: Policy) -> None:
    """Pins in ``policy:`` that contradict each other: a reply delay for a reply that never
    comes or comes after the requester gives up; an escalation answered never, or after
    the requester gives up."""
    given = doc.data.get("policy") if isinstance(doc.data, dict) else None
    if not isinstance(given, dict) or not isinstance(policy, (Email, SsiIncident)):
        return
    give_up = policy.give_up_wd
    if "reply_wd" in given:
        if policy.reply_probability == 0.0:
            raise doc.error(("policy", "reply_wd"), "a reply delay pinned for a reply that never comes "
                                                    "(reply_probability 0)")
        if policy.reply_wd is not None and policy.reply_wd > give_up:
            raise doc.error(("policy", "reply_wd"), f"the reply, pinned {policy.reply_wd} working days after the "
                                                    f"request, comes after the requester gives up ({give_up})")
    if "escalation_wd" in given and policy.p_escalated == 0.0:
        raise doc.error(("policy", "escalation_wd"), "an escalation's answer delay pinned while no escalation "
                                                     "is answered (p_escalated 0)")
    if given.get("p_escalated") == 1.0:
        key = "escalation_wd" if "escalation_wd" in given else "p_escalated"
        if policy.sla_wd >= give_up:
            raise doc.error(("policy", key), f"an escalation pinned to be answered, but the requester gives up "
                                             f"({give_up}) before the SLA ends ({policy.sla_wd}): nothing is escalated")
        if policy.sla_wd + policy.escalation_wd > give_up:
            raise doc.error(("policy", key), f"the escalation at the SLA's end ({policy.sla_wd}) is answered "
                                             f"{policy.escalation_wd} working days later, after the requester "
                                             f"gives up ({give_up})")
