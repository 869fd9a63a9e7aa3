"""A DUIS service request: header (RequestID, command variant, SRV) and one typed body.

The request-level ``ds:Signature`` (xmldsig over the whole request, by the user's
certificate) is not modelled: it is neither kept nor written (the XSD makes it optional),
and the DCC model does not check it. What the critical-command path does check is the
GBCS-level supplier signature (see :mod:`sim.duis.precommand`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from han.installcode import InstallCodeError
from sim.duis.bodies import BODIES
from sim.duis.codec import Body
from sim.duis.xmlio import SCHEMA_VERSION, SR, Document, sr, sub, text, to_bytes

EUI = re.compile(r"^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$")
COUNTER = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII digits, no leading zero (RequestIDType)
MAX_COUNTER = 2**64 - 1


class NotDUIS(ValueError):
    """Well-formed XML that is not a DUIS service request at all."""


class NotModelled(ValueError):
    """A DUIS request for a service hansim does not model: no DUIS answer is made up for it,
    so that no adapter can take hansim's silence on it for a DCC outcome."""


class BadRequest(ValueError):
    """A DUIS request whose content we cannot use (e.g. a bad install code), with the line."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class RequestID:
    """``originator:target:counter``: user ID, device (or DCC) ID, the user's counter.

    IDs compare in upper case; ``as_sent`` keeps the user's own spelling, which the DCC
    echoes exactly in its responses.
    """

    originator: str
    target: str
    counter: int
    as_sent: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, value: str) -> RequestID:
        parts = value.strip().split(":")
        if (len(parts) != 3 or not all(EUI.fullmatch(p) for p in parts[:2])
                or not COUNTER.fullmatch(parts[2]) or int(parts[2]) > MAX_COUNTER):
            raise ValueError(f"RequestID {value!r:.80} is not originator:target:counter "
                             "(DUIS's RequestIDType: a counter from 0 to 2^64-1)")
        return cls(parts[0].upper(), parts[1].upper(), int(parts[2]), value.strip())

    def __str__(self) -> str:
        canonical = f"{self.originator}:{self.target}:{self.counter}"
        if self.as_sent is not None:
            originator, target, counter = self.as_sent.split(":")
            if (originator.upper(), target.upper(), int(counter)) == (
                    self.originator, self.target, self.counter):
                return self.as_sent  # not changed since it was parsed
        return canonical


@dataclass(frozen=True)
class ServiceRequest:
    """One DUIS request as hansim models it."""

    request_id: RequestID
    command_variant: int
    service_reference: str
    service_reference_variant: str
    body: Body

    @property
    def srv(self) -> str:
        return self.service_reference_variant

    @classmethod
    def from_document(cls, doc: Document) -> ServiceRequest:
        """Read a parsed (and, where a schema is at hand, validated) DUIS request."""
        root = doc.root
        if root.tag != sr("Request"):
            raise NotDUIS(
                f"root element is {_local(root.tag)!r}, not a DUIS Request in namespace {SR}"
            )
        header = root.find(sr("Header"))
        body = root.find(sr("Body"))
        if header is None or body is None or len(body) != 1:
            raise NotDUIS("a DUIS Request needs a Header and a Body with one child")
        child = body[0]
        kind = BODIES.get(_local(child.tag))
        if kind is None:
            raise NotModelled(f"hansim does not model {_local(child.tag)} "
                              f"(line {doc.line_of(child)})")
        try:
            request_id = RequestID.parse(text(header, "RequestID") or "")
            variant = int(text(header, "CommandVariant") or "")
        except ValueError as err:
            raise BadRequest(doc.line_of(header), str(err)) from None
        try:
            parsed = kind.from_element(child)
        except (InstallCodeError, ValueError) as err:
            raise BadRequest(doc.line_of(child), f"{_local(child.tag)}: {err}") from None
        return cls(
            request_id,
            variant,
            text(header, "ServiceReference") or "",
            text(header, "ServiceReferenceVariant") or "",
            parsed,
        )

    def to_xml(self) -> bytes:
        root = ET.Element(sr("Request"), {"schemaVersion": SCHEMA_VERSION})
        header = sub(root, "Header")
        sub(header, "RequestID", str(self.request_id))
        sub(header, "CommandVariant", str(self.command_variant))
        sub(header, "ServiceReference", self.service_reference)
        sub(header, "ServiceReferenceVariant", self.service_reference_variant)
        self.body.to_element(sub(root, "Body"))
        return to_bytes(root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
