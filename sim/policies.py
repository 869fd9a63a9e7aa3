"""MP121 install-code regimes: how a gaining supplier gets the install code, if at all.

After a change of supplier (CoS) before commissioning, only the *installing* supplier
holds the meters' install codes. Each policy answers one question for the site
lifecycle: the current supplier of a meter asks at clock time ``now``; when does it
know, and does it have the code? The answer depends on the meter's chain of suppliers
(only the installer holds the code; a supplier that later received it may forward it)
and on the asked supplier's habits and reply capacity (:mod:`sim.suppliers`).
Policies are plain objects plugged into :class:`sim.lifecycle.Lifecycle`; the
population model and scenario replay use the same ones. Every step taken is returned,
so a replay can tell the story (request sent to the wrong supplier, "we did not
install it", SLA breached and escalated, ...).

The reply time does not depend on the SLA: a supplier replies ``Exp(reply_mean_wd)``
working days after a request, when its reply capacity has a free slot. The SLA is a
deadline: a request made under the obligation and not answered by it is a breach; the
requester escalates at each deadline (every ``sla_wd``), and each escalation is answered
with ``p_escalated`` within ``escalation_wd``. Requests not under the obligation (the
historic backlog, and gains before the obligation starts) have no deadline: the
requester chases every ``patience_wd`` working days, without escalation. Whatever the
SLA, a requester gives up ``give_up_wd`` working days after asking a party; a tracked
SSI incident stays open, so the installer's late reply still brings the code.

Sources: ../shared/domain.md §1 (MP121 options, SLA 5 WD in consultation and 10 WD in
the final report, MP281 install codes in the SMI) and §7; docs/reference/backlog.md
lists every default with its source or range.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, NamedTuple, Protocol

from sim.worktime import Draws, WorkClock

if TYPE_CHECKING:
    from sim.suppliers import Market


class ParameterError(ValueError):
    """A model parameter outside its allowed range: the message names both."""


def check_range(name: str, value: float, low: float, high: float = math.inf) -> float:
    """``value`` if ``low <= value <= high``, else a :class:`ParameterError` naming the range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        raise ParameterError(f"{name} = {value!r} is not a number (allowed: {low:g}..{high:g})")
    beyond_floats = isinstance(value, int) and value.bit_length() > 1000  # the model computes in floats
    if beyond_floats or not low <= value <= high:  # int against float compares exactly
        allowed = f">= {low:g}" if math.isinf(high) else f"{low:g}..{high:g}"
        shown = (f"{value:g}" if isinstance(value, float) or abs(value) < 10**15  # huge ints: no float
                 else f"{'-' if value < 0 else ''}10^{int(value.bit_length() * math.log10(2))}")
        raise ParameterError(f"{name} = {shown} is outside the allowed range ({allowed})")
    return value


def check_int(name: str, value: int, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name} = {value!r} is not a whole number")
    check_range(name, value, low, math.inf if high is None else high)
    return value



class Step(NamedTuple):
    """One step of an install-code exchange, for replay timelines."""

    time: float
    what: str


class CodeRequest(NamedTuple):
    """The outcome of one install-code request: when the requester knows, and what.

    ``requests``: messages sent (emails, incidents, SMI reads), for the handling cost;
    ``escalations``: SLA breaches escalated. ``late``: when the code of a request the
    requester stopped waiting for still reaches it (a tracked SSI incident stays open
    until its creator closes it); ``inf``: never.
    """

    resolved: float
    success: bool
    attempts: int
    steps: tuple[Step, ...]
    escalations: int = 0
    late: float = math.inf


class Holder(Protocol):
    """What a policy reads of a meter: its chain of suppliers and who holds its code."""

    chain: tuple[int, ...]  #: suppliers since installation, the installer first, current last
    holders: tuple[int, ...]  #: suppliers that hold the install code (the installer, and receivers)


class Policy(ABC):
    """An MP121 regime. ``name`` is the CLI name; ``params()`` what a report records.

    ``fixed_cost`` (GBP, once) and ``request_cost`` (GBP per message) price the regime.
    """

    name: str
    fixed_cost: float = 0.0
    request_cost: float = 0.0

    @property
    def process(self) -> bool:
        """Whether a gaining supplier can ask for the code at all."""
        return True

    @abstractmethod
    def request(self, meter: Holder, now: float, under_sla: bool, market: Market,
                clock: WorkClock, draws: Draws) -> CodeRequest:
        """The meter's current supplier asks for its install code at ``now``."""

    def params(self) -> dict[str, object]:
        return {}

    def label(self) -> str:
        """The name that says what ran: ``email-30wd`` when the SLA was set to 30."""
        return self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class NoProcess(Policy):
    """No process: the gaining supplier replaces the meters at its own pace, or leaves them
    working as non-smart meters (:class:`sim.lifecycle.SiteRules`)."""

    name = "none"

    @property
    def process(self) -> bool:
        return False

    def request(self, meter: Holder, now: float, under_sla: bool, market: Market,
                clock: WorkClock, draws: Draws) -> CodeRequest:
        return CodeRequest(now, False, 0, (Step(now, "no install-code process"),))


class _AskTheInstaller(Policy):
    """Ask suppliers of the meter's chain for the code, with memory, chasing and escalation.

    ``reply_probability`` (when set) replaces every supplier's own chance of replying;
    ``reply_wd`` (when set) fixes the reply delay instead of drawing it (a scenario pins it).
    ``route_to_installer``: the request always reaches the installer (SSI: DSMS assigns
    the incident to whoever pre-notified the device); otherwise the requester finds the
    installer with ``p_identify_installer`` at each step and else asks the most recent
    earlier supplier it has not asked yet, never the same wrong party twice.
    ``tracked``: the request is an incident that stays open, assigned to the installer,
    until the requester closes it, and the requester is told of every note (SSI, DCC
    preliminary assessment §3.2.4 and §4): a reply that comes after the requester stopped
    waiting still brings the code (:attr:`CodeRequest.late`), which commissions a meter
    left stranded or cancels its replacement visit. Untracked (email): once the requester
    gives up, a late reply is not matched to the meter any more.
    """

    route_to_installer = False

    def __init__(self, sla_wd: int, reply_probability: float | None, reply_mean_wd: float,
                 identify: float, bulk_wd: int, patience_wd: int, give_up_wd: int,
                 p_escalated: float, escalation_wd: int, fixed_cost: float, request_cost: float,
                 reply_wd: int | None = None, tracked: bool = False) -> None:
        if not isinstance(tracked, bool):
            raise ParameterError(f"tracked = {tracked!r} is not true/false")
        self.tracked = tracked
        self.sla_wd = check_int("sla_wd", sla_wd, 1, 250)
        self.reply_probability = (None if reply_probability is None
                                  else check_range("reply_probability", reply_probability, 0.0, 1.0))
        self.reply_mean_wd = check_range("reply_mean_wd", reply_mean_wd, 0.0, 250.0)
        self.reply_wd = None if reply_wd is None else check_int("reply_wd", reply_wd, 0, 250)
        self.identify = check_range("p_identify_installer", identify, 0.0, 1.0)
        self.bulk_wd = check_int("bulk_wd", bulk_wd, 0, 250)
        self.patience_wd = check_int("patience_wd", patience_wd, 1, 250)
        self.give_up_wd = check_int("give_up_wd", give_up_wd, 1, 1000)
        self.p_escalated = check_range("p_escalated", p_escalated, 0.0, 1.0)
        self.escalation_wd = check_int("escalation_wd", escalation_wd, 0, 250)
        self.fixed_cost = check_range("fixed_cost", fixed_cost, 0.0)
        self.request_cost = check_range("request_cost", request_cost, 0.0)

    def params(self) -> dict[str, object]:
        return {"sla_wd": self.sla_wd, "reply_probability": self.reply_probability,
                "reply_mean_wd": self.reply_mean_wd, "reply_wd": self.reply_wd, "p_identify_installer": self.identify,
                "bulk_wd": self.bulk_wd, "patience_wd": self.patience_wd,
                "give_up_wd": self.give_up_wd, "p_escalated": self.p_escalated,
                "escalation_wd": self.escalation_wd, "fixed_cost": self.fixed_cost,
                "request_cost": self.request_cost, "tracked": self.tracked}

    def label(self) -> str:
        return f"{self.name.split('-')[0]}-{self.sla_wd}wd"

    def _next_party(self, meter: Holder, asked: list[int], draws: Draws) -> int | None:
        installer = meter.chain[0]
        found = draws.uniform() < self.identify  # drawn under every regime: common random numbers
        if installer not in asked and (self.route_to_installer or found):
            return installer
        current = meter.chain[-1]
        for s in reversed(meter.chain[:-1]):
            if s not in asked and s != current:
                return s
        return installer if installer not in asked and installer != current else None

    def request(self, meter: Holder, now: float, under_sla: bool, market: Market,
                clock: WorkClock, draws: Draws) -> CodeRequest:
        steps: list[Step] = []
        asked: list[int] = []
        t, messages, escalations = now, 0, 0
        while (party := self._next_party(meter, asked, draws)) is not None:
            asked.append(party)
            habits = market.behaviour[party]
            sent = clock.next_batch(t, self.bulk_wd) if self.bulk_wd else clock.later(t, 0)
            sent = max(sent, t)
            messages += 1
            holds = party in meter.holders and (party == meter.chain[0] or habits.forwards)
            steps.append(Step(sent, f"request sent to the {'installing' if party == meter.chain[0] else 'wrong'} "
                                    f"supplier (supplier {party})"))
            first = clock.number(sent) + (0 if clock.is_working(sent) else 1)
            p_reply = habits.p_reply if self.reply_probability is None else self.reply_probability
            replies = draws.uniform() < p_reply
            delay = math.ceil(draws.exponential(self.reply_mean_wd)) if self.reply_mean_wd else 0
            delay = delay if self.reply_wd is None else self.reply_wd  # drawn anyway: streams stay aligned
            reply = market.book_reply(party, first + delay) if replies else None
            patience = self.sla_wd if under_sla else self.patience_wd
            limit = first + self.give_up_wd
            deadline = min(first + patience, limit)
            while reply is None or reply > deadline:
                if deadline >= limit:
                    gave_up = at_working_day(clock, sent, deadline)
                    if self.tracked and reply is not None and holds:
                        late = at_working_day(clock, sent, reply)
                        steps += [Step(gave_up, "no reply: the requester stops waiting; the incident stays open"),
                                  Step(late, "install code added to the open incident")]
                        return CodeRequest(gave_up, False, len(asked), tuple(steps), escalations, late)
                    steps.append(Step(gave_up, "no reply: the requester gives up"))
                    return CodeRequest(gave_up, False, len(asked), tuple(steps), escalations)
                messages += 1
                if under_sla:
                    escalations += 1
                    steps.append(Step(at_working_day(clock, sent, deadline), "SLA breached: chased and escalated"))
                    if draws.uniform() < self.p_escalated:
                        late = deadline + self.escalation_wd
                        reply = late if reply is None else min(reply, late)
                else:
                    steps.append(Step(at_working_day(clock, sent, deadline), "no reply yet: chased"))
                deadline = min(deadline + patience, limit)
            answered = at_working_day(clock, sent, reply)
            if holds:
                steps.append(Step(answered, "install code received"))
                return CodeRequest(answered, True, len(asked), tuple(steps), escalations)
            steps.append(Step(answered, "reply: we did not install it"))
            t = answered
        steps.append(Step(t, "no one left to ask"))
        return CodeRequest(t, False, len(asked), tuple(steps), escalations)


def at_working_day(clock: WorkClock, t: float, number: int) -> float:
    """Clock time of working day ``number`` (from the epoch), at ``t``'s time of day;
    never before ``t``: the first working day from ``t`` on when ``number`` is past."""
    return clock.later(t, max(0, number - clock.number(t)))


class Email(_AskTheInstaller):
    """MP121 email between designated contacts (the route implemented).

    Assumed (L): mean reply 3 WD when capacity allows, the installer identified with 0.8
    at each step, chasing every 20 WD outside the obligation, giving up after 60 WD, each
    escalation answered with 0.5 within 2 WD; handling £10 a message (15-30 min of staff
    time, range £5-£25). Untracked (L): a reply after the requester gave up is lost.
    """

    name = "email"

    def __init__(self, sla_wd: int = 10, reply_probability: float | None = None,
                 reply_mean_wd: float = 3.0, p_identify_installer: float = 0.8, bulk_wd: int = 0,
                 patience_wd: int = 20, give_up_wd: int = 60, p_escalated: float = 0.5,
                 escalation_wd: int = 2, fixed_cost: float = 0.0, request_cost: float = 10.0,
                 reply_wd: int | None = None, tracked: bool = False) -> None:
        super().__init__(sla_wd, reply_probability, reply_mean_wd, p_identify_installer, bulk_wd,
                         patience_wd, give_up_wd, p_escalated, escalation_wd, fixed_cost, request_cost,
                         reply_wd, tracked)


class SsiIncident(_AskTheInstaller):
    """MP121 SSI "Request for Install Code" incident.

    DSMS auto-assigns the incident to whoever pre-notified the device, so it always
    reaches the installing supplier; the code comes back as a note. The incident is
    tracked (H): it stays open until the requester closes it and DSMS emails the requester
    at every note, so a late code still arrives; breaches are visible, which makes
    escalation surer (0.7, L; the seeds: "fully trackable ... easier to enforce"). Build
    £150k-£350k (DCC preliminary assessment, H; default the midpoint); handling £10 an
    incident (L, as email).
    """

    name = "ssi"
    route_to_installer = True

    def __init__(self, sla_wd: int = 5, reply_probability: float | None = None,
                 reply_mean_wd: float = 3.0, patience_wd: int = 20, give_up_wd: int = 60,
                 p_escalated: float = 0.7, escalation_wd: int = 2, fixed_cost: float = 250_000.0,
                 request_cost: float = 10.0, reply_wd: int | None = None, tracked: bool = True) -> None:
        check_range("fixed_cost", fixed_cost, 150_000.0, 350_000.0)
        super().__init__(sla_wd, reply_probability, reply_mean_wd, 1.0, 0, patience_wd, give_up_wd,
                         p_escalated, escalation_wd, fixed_cost, request_cost, reply_wd, tracked)

    def params(self) -> dict[str, object]:
        return {k: v for k, v in super().params().items() if k not in ("p_identify_installer", "bulk_wd")}


class SmiInstallCodes(Policy):
    """MP281: install codes held in the SMI; the gaining supplier reads them.

    ``coverage`` is the share of devices whose codes were loaded; ``delay_wd`` the
    working days to read one. Build cost assumed £250k (L, range £150k-£1M: an SMI data
    change beside the SSI's £150k-£350k); reads cost nothing extra.
    """

    name = "smi-codes"

    def __init__(self, delay_wd: int = 1, coverage: float = 1.0, fixed_cost: float = 250_000.0) -> None:
        self.delay_wd = check_int("delay_wd", delay_wd, 0, 250)
        self.coverage = check_range("coverage", coverage, 0.0, 1.0)
        self.fixed_cost = check_range("fixed_cost", fixed_cost, 0.0)

    def params(self) -> dict[str, object]:
        return {"delay_wd": self.delay_wd, "coverage": self.coverage, "fixed_cost": self.fixed_cost}

    def request(self, meter: Holder, now: float, under_sla: bool, market: Market,
                clock: WorkClock, draws: Draws) -> CodeRequest:
        at = clock.later(now, self.delay_wd) if self.delay_wd else now
        if draws.uniform() < self.coverage:
            return CodeRequest(at, True, 1, (Step(at, "install code read from the SMI"),))
        return CodeRequest(at, False, 1, (Step(at, "no install code in the SMI"),))


#: The regimes by CLI name, with the parameters each name fixes.
POLICIES: dict[str, tuple[type[Policy], dict[str, int]]] = {
    "none": (NoProcess, {}),
    "email-5wd": (Email, {"sla_wd": 5}),
    "email-10wd": (Email, {"sla_wd": 10}),
    "ssi-5wd": (SsiIncident, {"sla_wd": 5}),
    "smi-codes": (SmiInstallCodes, {}),
}


def make_policy(name: str, **params: object) -> Policy:
    """The policy called ``name`` (see :data:`POLICIES`), with parameters overridden."""
    if name not in POLICIES:
        raise ParameterError(f"policy {name!r} is unknown (allowed: {', '.join(POLICIES)})")
    cls, fixed = POLICIES[name]
    unknown = sorted(set(params) - set(cls().params()))
    if unknown:
        allowed = ", ".join(cls().params()) or "none"
        raise ParameterError(f"policy {name!r} takes no parameter {unknown[0]!r} (allowed: {allowed})")
    policy = cls(**{**fixed, **params})
    policy.name = name
    return policy
