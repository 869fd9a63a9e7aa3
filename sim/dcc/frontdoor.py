"""The DCC front door: every service request passes the checks DUIS describes, in order.

1. well-formed XML and valid against the DUIS XSD (when a schema is at hand);
2. a known user (E1) in a role allowed to send the SRV (E2), with a command variant the
   SRV takes (E12);
3. devices that exist (E19) and are of a type the SRV fits (E11);
4. the sender is the device's registered supplier — after a change of supplier, only
   the new one (E4);
5. the SMI status allows it (E5, from the transition table);
6. delivery to the Comms Hub only over a connected SM WAN, and to a meter only once it
   has joined the HAN (E20);
then :mod:`sim.dcc.services` carries the request out. Critical SRVs (8.1.1, 8.7.1, 8.8.1,
11.3) first return a pre-command (variant 4); the signed variant 5 is checked by the
meter against its supplier's key.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import re
from collections.abc import Sequence
from pathlib import Path

import xmlschema
import yaml

from devices.han_join import HanJoin, KeyLevelJoin
from sim.dcc import outcome as oc
from sim.dcc.outcome import Outcome, Refused
from sim.dcc.premises import SUPPLIER_ROLES, Premises
from sim.dcc.services import carry_out, execution_moment, run_future_dated
from sim.dcc.smi import Inventory, SmiRecord, SmiRefusal, StatusChange
from sim.duis import schema as duis_schema
from sim.duis.bodies import RequestWANMatrix
from sim.duis.codec import Body
from sim.duis.request import BadRequest, NotDUIS, NotModelled, RequestID, ServiceRequest
from sim.duis.response import ResponseMessage, ServiceResponse
from sim.duis.xmlio import NotWellFormed, parse

SRV_RULES = yaml.safe_load(Path(__file__).with_name("srv_rules.yaml").read_text())


class Dcc:
    """The DCC serving one premises or a street of them, with its clock in seconds since
    their common ``start``.

    One DCC, as a real street has: one SMI holding every premises' devices, one set of
    users (a user's roles are those any premises lists), one alert counter and one record
    of each user's highest RequestID counter, one DCC clock. Each premises keeps its own
    Comms Hub, HAN (``Premises.han_join``, else the DCC's ``han_join``), registration
    data and coverage rows. ``premises`` is the one the request in hand concerns, found
    from the devices the request names (:meth:`premises_of`).
    """

    def __init__(self, premises: Premises | Sequence[Premises], schema: xmlschema.XMLSchema | None = None,
                 han_join: HanJoin | None = None, smi: Inventory | None = None) -> None:
        self.estate = [premises] if isinstance(premises, Premises) else list(premises)
        if not self.estate:
            raise ValueError("a DCC serves at least one premises")
        self.start = self.estate[0].start
        if any(p.start != self.start for p in self.estate):
            raise ValueError("the premises of one DCC share one clock: give them one start")
        self.premises = self.estate[0]
        self.schema = schema
        self.han_join = han_join or KeyLevelJoin()
        self.smi = smi or Inventory()
        self.now = 0.0
        self.counter = 0
        self.acb_counter = 0  # originator counter of the GBCS messages the DCC and devices build
        #: The highest RequestID counter each user has sent (DUIS: a user's counter only rises).
        self.counters: dict[str, int] = {}
        #: RequestID -> (pre-command payload issued, the request body it carries out)
        self.pre_commands: dict[str, tuple[str, Body]] = {}
        #: Future-dated commands the devices hold: (clock seconds, order, request).
        self.scheduled: list[tuple[float, int, ServiceRequest]] = []
        #: (target, other device) pairs joined by 8.7.x and not yet unjoined by 8.8.x.
        self.joins: set[tuple[str, str]] = set()
        #: Documents raised by the clock (a future-dated command running), not by a request.
        self.outbox: list[tuple[str, ServiceResponse]] = []
        self._order = itertools.count()  # ties at the same time run in arrival order
        for site in self.estate:
            for hub in [site.hub, *([site.replacement] if site.replacement else [])]:  # the CSP pre-notified them
                for device_id, kind in ((hub.chf_id, "CHF"), (hub.gpf_id, "GPF")):
                    if self.smi.get(device_id) is not None:
                        raise ValueError(f"{kind} {device_id} is at two premises of one DCC")
                    record = SmiRecord(device_id, kind, *site.hub_model, mpxn=site.mpxn)
                    record.history.append(("Pending", self.date()))
                    self.smi.records[device_id] = record

    # -- the premises a request concerns --------------------------------------------------
    def roles(self, user: str) -> set[str] | None:
        """The user's roles: those any premises lists for it (None: not a user known here)."""
        found = [p.users[user] for p in self.estate if user in p.users]
        return set().union(*found) if found else None

    def premises_of(self, device_id: str) -> Premises | None:
        """The premises whose Comms Hub (in service, delivered for a swap, or swapped out)
        or HAN devices include ``device_id``."""
        device_id = device_id.upper()

        def here(site: Premises) -> bool:
            hubs = [site.hub, *([site.replacement] if site.replacement else []), *site.replaced.values()]
            return site.holder(device_id) is not None or any(device_id in (h.chf_id, h.gpf_id) for h in hubs)
        return next((site for site in self.estate if here(site)), None)

    def concerned(self, request: ServiceRequest) -> Premises:
        """The premises a request is about: that of its target device, else of the device
        its body names, else (12.1) the one whose coverage rows match; a lone premises
        answers for everything."""
        if len(self.estate) == 1:
            return self.estate[0]
        body = request.body
        named = [request.request_id.target, *(getattr(body, name, None) or "" for name in
                                              ("device_id", "other_device_id", "mpxn"))]
        named += (getattr(body, "device_ids", None) or "").split(",")
        for device_id in named:
            found = self.premises_of(device_id.strip()) if device_id.strip() else None
            if found is not None:
                return found
        for site in self.estate:
            if site.mpxn in named or isinstance(body, RequestWANMatrix) and site.coverage.lookup(body) is not None:
                return site
        return self.estate[0]

    def han(self) -> HanJoin:
        """The HAN of the premises in hand: its own, else the DCC's."""
        return self.premises.han_join or self.han_join

    # -- time -----------------------------------------------------------------------------
    def timestamp(self, at: float | None = None) -> str:
        moment = self.start + dt.timedelta(seconds=self.now if at is None else at)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def date(self) -> str:
        return self.timestamp()[:10]

    def advance(self, seconds: float) -> list[str]:
        """Move the clock on; what the site file scheduled happens: a change of supplier,
        the SM WAN's arrival, a future-dated command (its documents go to ``outbox``).
        Returns one line about each."""
        target = self.now + seconds
        notes = []
        while self.scheduled and self.scheduled[0][0] <= target:
            at, _, request = heapq.heappop(self.scheduled)
            self.now = at
            self.premises = self.premises_of(request.request_id.target) or self.premises
            notes.append(run_future_dated(self, request))
        self.now = target
        for premises in self.estate:
            while premises.supplier_changes and premises.supplier_changes[0][0] <= self.now:
                _, fuel, user = premises.supplier_changes.pop(0)
                premises.change_supplier(fuel, user)
                notes.append(f"change of supplier: {fuel} now {user}")
            arrives = premises.wan_arrives
            if not premises.hub.wan_connected and arrives is not None and self.now >= arrives:
                changes = self.wan_arrives(premises)
                notes.append("SM WAN arrived" + (f": SMI {', '.join(map(str, changes))}" if changes else ""))
        return notes

    def execution_time(self, body: object) -> float | None:
        """Clock seconds of a body's ExecutionDateTime when it is later than now, else None."""
        when = getattr(body, "execution_date_time", None)
        if not when:
            return None
        at = (execution_moment(when) - self.start).total_seconds()
        return at if at > self.now else None

    def schedule(self, at: float, request: ServiceRequest) -> None:
        heapq.heappush(self.scheduled, (at, next(self._order), request))

    def cancel(self, request: ServiceRequest) -> list[RequestID]:
        """Drop the pending future-dated commands of the request's SRV on its target
        device (a cancellation request); returns their RequestIDs."""
        def same(pending: ServiceRequest) -> bool:
            return (pending.srv, pending.request_id.target) == (request.srv, request.request_id.target)
        dropped = [r.request_id for _, _, r in self.scheduled if same(r)]
        self.scheduled = [item for item in self.scheduled if not same(item[2])]
        heapq.heapify(self.scheduled)
        return dropped

    def wan_arrives(self, premises: Premises | None = None) -> list[StatusChange]:
        """The SM WAN reaches the premises (default: the one in hand): its Comms Hub
        connects and is commissioned."""
        hub = (premises or self.premises).hub
        hub.wan_connected = True
        changes = []
        for device_id in (hub.chf_id, hub.gpf_id):
            try:
                change = self.smi.apply("wan_connected", device_id, self.date())
            except SmiRefusal:
                continue  # e.g. still Pending: 8.14 has not been sent yet
            if change:
                changes.append(change)
        return changes

    # -- the front door -------------------------------------------------------------------
    def submit(self, data: bytes) -> Outcome:
        """Take one request as bytes; NotDUIS when the bytes are not a DUIS request at all."""
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise NotDUIS("not XML: a DUIS request starts with '<'")
        try:
            doc = parse(data)
        except NotWellFormed as err:
            return self._invalid(data, str(err))
        if self.schema is not None:
            found = duis_schema.problems(self.schema, doc)
            if found:
                if not doc.root.tag.endswith("}Request"):
                    raise NotDUIS(f"not a DUIS request: {found[0]}")
                return self._invalid(data, "; ".join(str(p) for p in found[:3]))
        try:
            request = ServiceRequest.from_document(doc)
        except BadRequest as err:
            return self._invalid(data, str(err))
        return self.handle(request)

    def handle(self, request: ServiceRequest) -> Outcome:
        """Check and carry out a parsed request."""
        outcome = Outcome(request, oc.SUCCESS, "")
        self.premises = self.concerned(request)
        user = request.request_id.originator
        self.counters[user] = max(self.counters.get(user, -1), request.request_id.counter)
        try:
            rule = self._authorise(request)
            carry_out(self, request, rule, outcome)
        except Refused as refusal:
            outcome.code, outcome.reason = refusal.code, refusal.reason
            outcome.documents.append(("response", self.response(request, refusal.code)))
        return outcome

    def _authorise(self, request: ServiceRequest) -> dict:
        rule = SRV_RULES.get(request.srv)
        if rule is None:
            raise NotModelled(f"hansim does not model SRV {request.srv}")
        user = request.request_id.originator
        roles = self.roles(user)
        if roles is None:
            raise Refused(oc.INVALID_USER, f"user {user} is not a DCC user known here")
        if not roles & set(rule["roles"]):
            raise Refused(oc.ROLE_NOT_ALLOWED,
                          f"{'/'.join(sorted(roles))} may not send SRV {request.srv}")
        if request.command_variant not in rule["variants"]:
            raise Refused(oc.WRONG_COMMAND_VARIANT,
                          f"SRV {request.srv} takes command variant "
                          f"{'/'.join(map(str, rule['variants']))}, not {request.command_variant}")
        concerned = []
        if rule["to"] == "device":
            target = request.request_id.target
            concerned.append(self._device(target, rule["target"], "target"))
        if "subject" in rule:
            subject = getattr(request.body, rule["subject"], None)
            if subject is not None:
                declared = getattr(request.body, "device_type", None)  # 12.2 names its type
                concerned.append(self._device(subject, rule["subject_types"], "device", declared))
        acting = roles & set(rule["roles"])
        if acting <= SUPPLIER_ROLES and rule.get("registered", True):
            # Sent as a supplier: the device must be theirs (E4).
            for device_id, kind in concerned[-1:]:  # the body's device, else the target
                if user not in self.premises.registered_suppliers(kind):
                    raise Refused(oc.NOT_DEVICE_SUPPLIER,
                                  f"{user} is not the registered supplier of {kind} {device_id}")
        return rule

    def _device(self, device_id: str, types: list[str], role: str,
                declared: str | None = None) -> tuple[str, str]:
        """(ID, type) of a device a request names; E19 unknown, E11 wrong type."""
        device_id = device_id.upper()
        record = self.smi.get(device_id)
        kind = declared or (record.device_type if record else None)
        if kind is None:
            raise Refused(oc.UNKNOWN_DEVICE, f"{role} {device_id} is not in the SMI")
        if kind not in types:
            raise Refused(oc.WRONG_DEVICE_TYPE, f"{role} {device_id} is a {kind}, not "
                                                f"{' or '.join(types)}")
        return device_id, kind

    # -- documents ------------------------------------------------------------------------
    def response(self, request: ServiceRequest, code: str, **payload) -> ServiceResponse:
        message = ResponseMessage(request.service_reference, request.srv, **payload)
        return ServiceResponse(code, self.timestamp(), message, request.request_id)

    def alert(self, raised_by: str, to_user: str, body, at: float | None = None) -> ServiceResponse:
        """An alert document; ResponseID is raiser:user:counter."""
        self.counter += 1
        return ServiceResponse(oc.SUCCESS, self.timestamp(at), body, None,
                               RequestID(raised_by, to_user, self.counter))

    def _invalid(self, data: bytes, reason: str) -> Outcome:
        """An E100 response to a request we cannot use, echoing what of its header we can read.

        With no readable ServiceReference there is nothing DUIS-shaped to answer: the
        bytes are not a DUIS request at all (NotDUIS).
        """
        fields = {name: _header_field(data, name) for name in HEADER_FIELDS}
        reference, variant = fields["ServiceReference"], fields["ServiceReferenceVariant"]
        if reference is None or variant is None or not self.answerable(reference, variant):
            raise NotDUIS(f"{reason}; no readable ServiceReference to answer")
        try:
            request_id = RequestID.parse(fields["RequestID"] or "")
        except ValueError:
            request_id = None
        response = ServiceResponse(oc.INVALID_REQUEST, self.timestamp(),
                                   ResponseMessage(reference, variant), request_id)
        return Outcome(None, oc.INVALID_REQUEST, reason, [("response", response)])

    def answerable(self, reference: str, variant: str) -> bool:
        """Whether a response can echo this ServiceReference and variant and still be
        valid DUIS (else there is nothing DUIS-shaped to answer with)."""
        return self._valid("ServiceReference", reference) and self._valid("ServiceReferenceVariant", variant)

    def _valid(self, type_name: str, value: str | None) -> bool:
        if value is None:
            return False
        if self.schema is not None:
            return self.schema.types[type_name].is_valid(value)
        return re.fullmatch(r"\d{1,2}\.\d{1,2}(\.\d{1,2})?", value) is not None


HEADER_FIELDS = ("RequestID", "ServiceReference", "ServiceReferenceVariant")


def _header_field(data: bytes, name: str) -> str | None:
    """A header value read from raw bytes: the request may not even be well-formed XML."""
    found = re.search(rb"<(?:\w+:)?" + name.encode() + rb">\s*([^<]*?)\s*</", data)
    return found.group(1).decode("utf-8", "replace") if found else None
