"""MP121 install-code regimes: how a gaining supplier gets the install code, if at all.

After a change of supplier (CoS) before commissioning, only the *installing* supplier
holds the meters' install codes. Each policy answers one question for the site
lifecycle: a request made at clock time ``now``, after ``cos_count`` changes of
supplier, is resolved when, and with the code or without it? Policies are plain
objects plugged into :class:`sim.lifecycle.Lifecycle`; the population model and
scenario replay use the same ones. Every step taken is returned, so a replay can tell
the story (request sent to the wrong supplier, "we did not install it", ...).

Sources: ../shared/domain.md §1 (MP121 options, SLA 5 WD in consultation and 10 WD in
the final report, MP281 install codes in the SMI) and §7.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from typing import NamedTuple

from sim.worktime import Draws, WorkClock


class ParameterError(ValueError):
    """A model parameter outside its allowed range: the message names both."""


def check_range(name: str, value: float, low: float, high: float = math.inf) -> float:
    """``value`` if ``low <= value <= high``, else a :class:`ParameterError` naming the range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ParameterError(f"{name} = {value!r} is not a number (allowed: {low:g}..{high:g})")
    if not low <= value <= high:
        allowed = f">= {low:g}" if math.isinf(high) else f"{low:g}..{high:g}"
        raise ParameterError(f"{name} = {value:g} is outside the allowed range ({allowed})")
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
    """The outcome of one install-code request: when the requester knows, and what."""

    resolved: float
    success: bool
    attempts: int
    steps: tuple[Step, ...]


class Policy(ABC):
    """An MP121 regime. ``name`` is the CLI name; ``params()`` what a report records."""

    name: str

    @abstractmethod
    def request(self, now: float, cos_count: int, clock: WorkClock, draws: Draws) -> CodeRequest:
        """The gaining supplier asks for the install code at ``now``."""

    def params(self) -> dict[str, float | int]:
        return {}

    def for_run(self, scale: float) -> "Policy":
        """A fresh copy for one run of ``scale`` modelled sites per GB site.

        Policies with state (booked reply capacity) start clean in every replication.
        """
        return copy.copy(self)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class NoProcess(Policy):
    """No process: the gaining supplier books a visit to replace working meters."""

    name = "none"

    def request(self, now: float, cos_count: int, clock: WorkClock, draws: Draws) -> CodeRequest:
        return CodeRequest(now, False, 0, (Step(now, "no install-code process: replacement visit"),))


class _AskTheInstaller(Policy):
    """Ask the installing supplier and wait up to the SLA for the code.

    The asked supplier replies with ``reply_probability``, after ``ceil(sla_wd x
    reply_delay x Exp(1))`` working days: ``reply_delay`` is the mean reply time as a
    share of the SLA, so a shorter SLA means faster replies. A reply later than the SLA,
    or none, leaves the requester without the code (it books a replacement visit).
    ``identify`` is the chance the requester sends the request to the installing
    supplier when several changes of supplier hide it; a request sent to an
    intermediate supplier is answered "we did not install it" and sent again, up to
    ``max_attempts`` requests. With ``bulk_wd`` > 0 requests go out in a batch every
    ``bulk_wd`` working days. ``capacity_per_wd`` > 0 caps the replies all installing
    suppliers in GB send per working day (MP281: the email route cannot cope with more
    than ~7,000 devices a year for one supplier); a reply waits for the first working
    day with a free slot, and one pushed past the SLA is lost. 0 means no limit.
    """

    def __init__(self, sla_wd: int, reply_probability: float, reply_delay: float,
                 identify: float, bulk_wd: int, max_attempts: int, capacity_per_wd: float = 0.0) -> None:
        self.sla_wd = check_int("sla_wd", sla_wd, 0, 250)
        self.reply_probability = check_range("reply_probability", reply_probability, 0.0, 1.0)
        self.reply_delay = check_range("reply_delay", reply_delay, 0.0, 10.0)
        self.identify = check_range("p_identify_installer", identify, 0.0, 1.0)
        self.bulk_wd = check_int("bulk_wd", bulk_wd, 0, 250)
        self.max_attempts = check_int("max_attempts", max_attempts, 1, 20)
        self.capacity_per_wd = check_range("capacity_per_wd", capacity_per_wd, 0.0)
        self._slots = self.capacity_per_wd  # replies per working day at the run's scale
        self._booked: dict[int, int] = {}  # working day number -> replies booked

    def params(self) -> dict[str, float | int]:
        return {"sla_wd": self.sla_wd, "reply_probability": self.reply_probability,
                "reply_delay": self.reply_delay, "p_identify_installer": self.identify,
                "bulk_wd": self.bulk_wd, "max_attempts": self.max_attempts,
                "capacity_per_wd": self.capacity_per_wd}

    def for_run(self, scale: float) -> Policy:
        run = copy.copy(self)
        run._slots = self.capacity_per_wd * scale
        run._booked = {}
        return run

    def _reply_day(self, sent: float, delay: int, clock: WorkClock) -> int:
        """Working days after ``sent`` of the reply, after waiting for a free slot."""
        if not self._slots:
            return delay
        sent_number = clock.number(sent)
        day = sent_number + (delay if delay or clock.is_working(sent) else 1)
        # Day n has floor((n + 1) c) - floor(n c) slots: c a day on average, c may be < 1.
        while self._booked.get(day, 0) >= math.floor((day + 1) * self._slots) - math.floor(day * self._slots):
            day += 1
        self._booked[day] = self._booked.get(day, 0) + 1
        return day - sent_number  # clock.later(sent, n) is working day number sent_number + n

    def request(self, now: float, cos_count: int, clock: WorkClock, draws: Draws) -> CodeRequest:
        steps: list[Step] = []
        t = now
        for attempt in range(1, self.max_attempts + 1):
            sent = clock.next_batch(t, self.bulk_wd) if self.bulk_wd else t
            # With one CoS the losing supplier is the installer; after more the chain hides it.
            right = cos_count <= 1 or draws.uniform() < self.identify
            steps.append(Step(sent, "request sent to the " + ("installing" if right else "wrong") + " supplier"))
            deadline = clock.later(sent, self.sla_wd) if self.sla_wd else sent
            replied = draws.uniform() < self.reply_probability
            delay = math.ceil(draws.exponential(self.sla_wd * self.reply_delay)) if self.reply_delay else 0
            if replied:
                delay = self._reply_day(sent, delay, clock)
            if not replied or delay > self.sla_wd:
                steps.append(Step(deadline, "no reply within the SLA"))
                return CodeRequest(deadline, False, attempt, tuple(steps))
            answered = clock.later(sent, delay) if delay else sent
            if right:
                steps.append(Step(answered, "install code received"))
                return CodeRequest(answered, True, attempt, tuple(steps))
            steps.append(Step(answered, "reply: we did not install it"))
            t = answered
        return CodeRequest(t, False, self.max_attempts, tuple(steps))


class Email(_AskTheInstaller):
    """MP121 email between designated contacts (the route implemented)."""

    name = "email"

    def __init__(self, sla_wd: int = 10, reply_probability: float = 0.9,
                 reply_delay: float = 0.3, p_identify_installer: float = 0.8,
                 bulk_wd: int = 0, max_attempts: int = 3, capacity_per_wd: float = 0.0) -> None:
        super().__init__(sla_wd, reply_probability, reply_delay, p_identify_installer,
                         bulk_wd, max_attempts, capacity_per_wd)


class SsiIncident(_AskTheInstaller):
    """MP121 SSI "Request for Install Code" incident.

    DSMS auto-assigns the incident to whoever pre-notified the device, so it always
    reaches the installing supplier; the code comes back as a note.
    """

    name = "ssi"

    def __init__(self, sla_wd: int = 5, reply_probability: float = 0.95,
                 reply_delay: float = 0.3, max_attempts: int = 1, capacity_per_wd: float = 0.0) -> None:
        super().__init__(sla_wd, reply_probability, reply_delay, 1.0, 0, max_attempts, capacity_per_wd)

    def params(self) -> dict[str, float | int]:
        return {k: v for k, v in super().params().items()
                if k not in ("p_identify_installer", "bulk_wd")}


class SmiInstallCodes(Policy):
    """MP281: install codes held in the SMI; the gaining supplier reads them.

    ``coverage`` is the share of devices whose codes were loaded (the historic backlog
    may lack them); ``delay_wd`` the working days to read one.
    """

    name = "smi-codes"

    def __init__(self, delay_wd: int = 1, coverage: float = 1.0) -> None:
        self.delay_wd = check_int("delay_wd", delay_wd, 0, 250)
        self.coverage = check_range("coverage", coverage, 0.0, 1.0)

    def params(self) -> dict[str, float | int]:
        return {"delay_wd": self.delay_wd, "coverage": self.coverage}

    def request(self, now: float, cos_count: int, clock: WorkClock, draws: Draws) -> CodeRequest:
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


def make_policy(name: str, **params: float | int) -> Policy:
    """The policy called ``name`` (see :data:`POLICIES`), with parameters overridden."""
    if name not in POLICIES:
        raise ParameterError(f"policy {name!r} is unknown (allowed: {', '.join(POLICIES)})")
    cls, fixed = POLICIES[name]
    try:
        policy = cls(**{**fixed, **params})
    except TypeError:
        allowed = ", ".join(cls().params()) or "none"
        raise ParameterError(
            f"policy {name!r} takes no parameter {sorted(set(params) - set(cls().params()))} "
            f"(allowed: {allowed})") from None
    policy.name = name
    return policy
